"""Animation: frames to GIF files and to players that work inline in JupyterLab and on GitHub.

A sprite's walk cycle is a stack of frames (T, H, W, 3). :func:`save_gif` writes it as a looping
GIF (enlarged without blur, so small sprites stay readable), and :func:`gif_player` shows the same
bytes inline in a notebook as an ``<img>`` tag, which renders in JupyterLab, in exported HTML and
in GitHub's notebook viewer alike. Later notebooks add latent walks on top of these.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from charlib.errors import ShapeError
from charlib.viz import enlarge


def _check_frames(frames: np.ndarray) -> np.ndarray:
    arr = np.asarray(frames)
    if arr.ndim != 4 or arr.shape[-1] != 3 or arr.dtype != np.uint8 or len(arr) == 0:
        raise ShapeError(f"frames must be uint8 of shape (T>0, H, W, 3), got {arr.dtype} {arr.shape}")
    return arr


def gif_bytes(frames: np.ndarray, fps: float = 8.0, scale: int = 1) -> bytes:
    """Encode frames (T, H, W, 3) uint8 as a looping GIF, each enlarged ``scale`` times."""
    arr = _check_frames(frames)
    big = np.stack([enlarge(f, scale) for f in arr])
    buffer = io.BytesIO()
    iio.imwrite(buffer, big, extension=".gif", duration=1000.0 / fps, loop=0)
    return buffer.getvalue()


def save_gif(frames: np.ndarray, path: str | Path, fps: float = 8.0, scale: int = 1) -> Path:
    """Write frames (T, H, W, 3) uint8 to a looping GIF at ``path``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gif_bytes(frames, fps=fps, scale=scale))
    return path


def gif_player(frames: np.ndarray, fps: float = 8.0, scale: int = 4, caption: str | None = None):
    """An inline, looping animation for notebooks (an IPython HTML object with an embedded GIF)."""
    from html import escape

    from IPython.display import HTML

    data = base64.b64encode(gif_bytes(frames, fps=fps, scale=scale)).decode("ascii")
    img = f'<img src="data:image/gif;base64,{data}" style="image-rendering: pixelated"/>'
    if caption:
        img = f"<figure>{img}<figcaption><i>{escape(caption)}</i></figcaption></figure>"
    return HTML(img)
