"""Animation: latent walks, and frames to GIF/MP4 files and to players that work inline anywhere.

A sprite's walk cycle is a stack of frames (T, H, W, 3). :func:`save_gif` writes it as a looping
GIF (enlarged without blur), :func:`save_mp4` as an H.264 video, and :func:`gif_player` /
:func:`video_player` show the same bytes inline as an ``<img>`` or ``<video>`` tag with base64 data,
which renders in JupyterLab, in exported HTML and (for the GIF) in GitHub's notebook viewer.

A *latent walk* animates a generative model without any motion data: pick a few latent codes
(keyframes) and move smoothly between them. Straight lines (:func:`lerp`) cut through the middle
of the Gaussian prior, where codes are rarely sampled, because a high-dimensional standard normal
puts almost all its mass near the sphere of radius sqrt(d); great circles (:func:`slerp`) keep the
code's norm on that shell. :func:`latent_loop` strings k keyframes into a closed loop, so the GIF
plays forever without a jump.

:func:`gif_bytes` and :func:`save_gif` are those of :mod:`charlib.base.images`.
"""

from __future__ import annotations

import base64
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from charlib.base.images import check_frames, enlarge, gif_bytes, png_bytes
from charlib.base.images import save_gif as save_gif
from charlib.errors import CharlibError, ShapeError

INTERPOLATIONS = ("lerp", "slerp")


# --------------------------------------------------------------------------------------------------
# Latent walks


def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """Linear interpolation ``(1 - t) a + t b`` between codes a, b (D,); t scalar or (T,) -> (T, D)."""
    a, b = _pair(a, b)
    ts = np.atleast_1d(np.asarray(t, dtype=np.float64))[:, None]
    out = (1.0 - ts) * a + ts * b
    return out[0] if np.ndim(t) == 0 else out


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray | float, eps: float = 1e-6) -> np.ndarray:
    """Spherical interpolation between codes a, b (D,); t scalar or (T,) -> (D,) or (T, D): along the
    great circle between the two directions, while the norm goes linearly from |a| to |b|:

        slerp(a, b, t) = (|a| (1-t) + |b| t) * (sin((1-t) w) u_a + sin(t w) u_b) / sin(w),

    with u the unit vectors and w the angle between them. Near-parallel (or near-antiparallel,
    where the great circle is not unique) codes, and zero codes, fall back to :func:`lerp`, which
    is the limit for w -> 0 and avoids dividing by sin(w) ~ 0.
    """
    a, b = _pair(a, b)
    ts = np.atleast_1d(np.asarray(t, dtype=np.float64))[:, None]
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na < eps or nb < eps:
        return lerp(a, b, t)
    ua, ub = a / na, b / nb
    cos_w = float(np.clip(ua @ ub, -1.0, 1.0))
    if abs(cos_w) > 1.0 - eps:
        return lerp(a, b, t)
    w = np.arccos(cos_w)
    direction = (np.sin((1.0 - ts) * w) * ua + np.sin(ts * w) * ub) / np.sin(w)
    out = ((1.0 - ts) * na + ts * nb) * direction
    return out[0] if np.ndim(t) == 0 else out


def latent_loop(keyframes: np.ndarray, steps_between: int = 8, method: str = "slerp") -> np.ndarray:
    """A closed walk through k keyframe codes (k, D): (k * steps_between, D), back to the start; each
    segment leaves out its end point (the next one starts there), so the loop repeats no frame."""
    keys = np.asarray(keyframes, dtype=np.float64)
    if keys.ndim != 2 or len(keys) < 2:
        raise ShapeError(f"keyframes must have shape (k >= 2, D), got {keys.shape}")
    if steps_between < 1:
        raise ShapeError(f"steps_between must be >= 1, got {steps_between}")
    if method not in INTERPOLATIONS:
        raise CharlibError(f"unknown interpolation {method!r}; choose from {INTERPOLATIONS}")
    interpolate = lerp if method == "lerp" else slerp
    ts = np.arange(steps_between) / steps_between
    segments = [interpolate(keys[i], keys[(i + 1) % len(keys)], ts) for i in range(len(keys))]
    return np.concatenate(segments).astype(np.float32)


def random_latent_loop(latent_dim: int, n_keyframes: int = 4, steps_between: int = 8,
                       seed: int = 0) -> np.ndarray:
    """A looping slerp walk through ``n_keyframes`` codes drawn from N(0, I): (k * steps, latent_dim)."""
    keys = np.random.default_rng(seed).standard_normal((n_keyframes, latent_dim))
    return latent_loop(keys, steps_between)


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ShapeError(f"codes must be two vectors of the same length, got {a.shape} and {b.shape}")
    return a, b


# --------------------------------------------------------------------------------------------------
# Files and players


def gif_player(frames: np.ndarray, fps: float = 8.0, scale: int = 4, caption: str | None = None):
    """An inline, looping animation for notebooks (an IPython HTML object with an embedded GIF)."""
    data = base64.b64encode(gif_bytes(frames, fps=fps, scale=scale)).decode("ascii")
    return _html(f'<img src="data:image/gif;base64,{data}" style="image-rendering: pixelated"/>', caption)


def _html(tag: str, caption: str | None):
    from html import escape

    from IPython.display import HTML

    if caption:
        tag = f"<figure>{tag}<figcaption><i>{escape(caption)}</i></figcaption></figure>"
    return HTML(tag)


def _even(frames: np.ndarray) -> np.ndarray:
    """Pad frames on the bottom/right with their edge so H and W are even (H.264 needs that)."""
    h, w = frames.shape[1:3]
    return np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def mp4_bytes(frames: np.ndarray, fps: float = 8.0, scale: int = 4, loops: int = 1) -> bytes:
    """Encode frames (T, H, W, 3) uint8 as an H.264 MP4 (yuv420p, plays in browsers); a video cannot
    loop forever like a GIF, so ``loops`` repeats the cycle in the file. Needs ``imageio-ffmpeg``."""
    arr = check_frames(frames)
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        raise CharlibError("MP4 export needs the imageio-ffmpeg package: pip install "
                           "'imageio-ffmpeg>=0.5,<0.9' (or write a .gif instead)") from None
    if loops < 1:
        raise ShapeError(f"loops must be >= 1, got {loops}")
    big = _even(np.stack([enlarge(f, scale) for f in arr]))
    big = np.concatenate([big] * loops)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        iio.imwrite(path, big, plugin="FFMPEG", fps=fps, codec="libx264", macro_block_size=1,
                    pixelformat="yuv420p")
        return path.read_bytes()


def save_mp4(frames: np.ndarray, path: str | Path, fps: float = 8.0, scale: int = 4,
             loops: int = 1) -> Path:
    """Write frames (T, H, W, 3) uint8 to an MP4 at ``path`` (see :func:`mp4_bytes`); returns it."""
    data = mp4_bytes(frames, fps=fps, scale=scale, loops=loops)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def video_player(frames: np.ndarray, fps: float = 8.0, scale: int = 4, caption: str | None = None):
    """An inline, looping HTML5 video for notebooks (an IPython HTML object with an embedded MP4);
    GitHub's notebook viewer does not run videos, so outputs meant for it use :func:`gif_player`."""
    data = base64.b64encode(mp4_bytes(frames, fps=fps, scale=scale)).decode("ascii")
    return _html(f'<video autoplay loop muted playsinline controls style="image-rendering: pixelated">'
                 f'<source src="data:video/mp4;base64,{data}" type="video/mp4"/></video>', caption)


# --------------------------------------------------------------------------------------------------
# Putting it together: a generated appearance performs a generated motion


def read_appearance(classifier, frames: np.ndarray) -> np.ndarray:
    """The attributes (4,) an :class:`~charlib.diagnostics.classifier.AttributeClassifier` reads on
    frames (T, H, W, 3) of one character (majority vote)."""
    from charlib.data.sprites import ATTRIBUTE_NAMES

    predicted = classifier.predict(check_frames(frames))
    return np.array([np.bincount(np.asarray(predicted[name])).argmax() for name in ATTRIBUTE_NAMES])


def perform(attributes: np.ndarray, joints: np.ndarray, direction: str, size: int) -> np.ndarray:
    """Draw a character with ``attributes`` (4,) performing a motion clip (T, 15, 2) in pixels of a
    ``size`` image (a generated one too), seen from ``direction``: frames (T, size, size, 3) uint8,
    through the sprites' own rasteriser, :func:`charlib.data.sprites.render_skeleton`."""
    from charlib.data.sprites import render_skeleton

    return render_skeleton(np.asarray(joints), np.asarray(attributes), direction, size)


def side_by_side(*clips: np.ndarray, pad: int = 1, pad_value: int = 255) -> np.ndarray:
    """Join animations of equal length (T, H, W_i, 3) left to right into one (T, H, sum W + pads, 3)."""
    arrays = [check_frames(c) for c in clips]
    t, h = arrays[0].shape[:2]
    if any(a.shape[:2] != (t, h) for a in arrays):
        raise ShapeError(f"clips must share T and H, got {[a.shape for a in arrays]}")
    gap = np.full((t, h, pad, 3), pad_value, np.uint8)
    parts: list[np.ndarray] = []
    for a in arrays:
        parts += [a, gap] if pad else [a]
    return np.concatenate(parts[:-1] if pad else parts, axis=2)


def stack_rows(*clips: np.ndarray, pad: int = 1, pad_value: int = 255) -> np.ndarray:
    """Join animations of equal length and width (T, H_i, W, 3) top to bottom."""
    arrays = [np.swapaxes(check_frames(c), 1, 2) for c in clips]
    return np.swapaxes(side_by_side(*arrays, pad=pad, pad_value=pad_value), 1, 2)


# --------------------------------------------------------------------------------------------------
# A live player with controls


class CyclePlayer:
    """Notebook controls (ipywidgets) for a generated character's animation cycle.

    ``render_fn(seed, action, direction) -> frames (T, H, W, 3) uint8`` draws one character's cycle;
    the panel has action and direction dropdowns, a play button, a frame slider and a "new
    character" button (the next seed). Every control is an attribute, so code can drive it too
    (set ``.action.value``, ``.frame.value``, call ``.new_character.click()``).
    """

    def __init__(self, render_fn, actions: tuple[str, ...], directions: tuple[str, ...],
                 seed: int = 0, scale: int = 6, fps: float = 8.0) -> None:
        import ipywidgets as widgets

        self._render_fn, self._png, self.scale, self.seed = render_fn, png_bytes, scale, seed
        self.action = widgets.Dropdown(options=list(actions), value=actions[0], description="action")
        self.direction = widgets.Dropdown(options=list(directions), value=directions[0],
                                          description="direction")
        self.new_character = widgets.Button(description="new character", icon="refresh")
        self.frames = self._render()
        last = len(self.frames) - 1
        self.frame = widgets.IntSlider(value=0, min=0, max=last, description="frame")
        self.play = widgets.Play(value=0, min=0, max=last, interval=int(1000 / fps), description="play")
        widgets.jslink((self.play, "value"), (self.frame, "value"))
        self.picture = widgets.Image(value=self._png(self.frames[0], scale), format="png")
        self.label = widgets.Label(value=self._caption())
        self.frame.observe(lambda _: self._show(), names="value")
        self.action.observe(lambda _: self._rerender(), names="value")
        self.direction.observe(lambda _: self._rerender(), names="value")
        self.new_character.on_click(self._next_character)
        self.panel = widgets.VBox([
            widgets.HBox([self.action, self.direction, self.new_character]),
            widgets.HBox([self.play, self.frame]), self.picture, self.label,
        ])  # fmt: skip

    def _render(self) -> np.ndarray:
        return check_frames(self._render_fn(self.seed, self.action.value, self.direction.value))

    def _caption(self) -> str:
        return (f"character seed {self.seed}: {self.action.value}, facing {self.direction.value}, "
                f"frame {self.frame.value if hasattr(self, 'frame') else 0}")

    def _show(self) -> None:
        self.picture.value = self._png(self.frames[self.frame.value], self.scale)
        self.label.value = self._caption()

    def _rerender(self) -> None:
        self.frames = self._render()
        self._show()

    def _next_character(self, _button=None) -> None:
        self.seed += 1
        self._rerender()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.panel)
