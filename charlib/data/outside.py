"""Two image sets that are not sprites, drawn in code, whose modes can be read off any picture.

A GAN that covers the sprites' modes may still collapse on other pictures. These two sets have a
known answer: every image belongs to one of K modes, drawn uniformly, and a deterministic reader
tells which mode any 32x32 RGB image shows, or that it shows none. So a generator trained on them
is scored the way Stacked MNIST scores one (Metz et al. 2017, PacGAN, VEEGAN): read the mode of N
samples, count the modes covered and the reverse KL of the histogram against the uniform one.

* ``stacked_glyphs`` (K = 1000): three jittered DejaVu Sans Bold digits (the font ships with
  matplotlib) stacked as the R, G and B channels; mode ``100 r + 10 g + b``. The reader centres each
  channel and finds the nearest of a bank of jittered templates by normalised cross-correlation; a
  channel below :data:`GLYPH_MIN_CORRELATION`, or with a second digit within
  :data:`GLYPH_MIN_MARGIN` of the best, reads as no digit, and the image as no mode.
* ``shapes`` (K = 336): one of 6 shapes in one of 8 colours on a background of one of the 7 others.
  The reader takes the background from the border and the shape's colour from the pixels furthest
  from it, snaps both to the palette, and matches the shape's cropped mask against templates by IoU.

Both sets are closed under a horizontal flip (the trainers flip at random): shapes are symmetric and
placed symmetrically, and the glyph reader tries both orientations. ``render(name, n, seed)`` draws
images with their modes, ``read_modes(name, images)`` reads them back (-1: no mode), and
``write_folder(name, out, n, seed)`` writes PNG files with a ``labels.csv`` that ``charlib train gan
--data DIR`` reads. Nothing is downloaded.
"""

from __future__ import annotations

import csv
import functools
import os
import pathlib
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from charlib.errors import ShapeError

SIZE = 32  # every image of these sets, and every image the readers read, is SIZE x SIZE RGB
SET_NAMES = ("stacked_glyphs", "shapes")
GLYPH_MIN_CORRELATION = 0.85  # below this best template correlation, a channel shows no digit...
GLYPH_MIN_MARGIN = 0.01  # ...nor when the best other digit correlates within this of it (two digits at once)
SHAPE_MIN_IOU = 0.7  # below this best template overlap, a mask is no shape
SHAPE_MAX_COLOUR_DISTANCE = 80.0  # RGB distance beyond which a colour is not a palette colour

_SUPERSAMPLE = 4  # shapes are drawn this many times larger, then shrunk (anti-aliasing)
_GLYPH_SUPERSAMPLE = 2  # and glyphs this many times
_GLYPH_TEMPLATES_PER_DIGIT = 24
_GLYPH_TEMPLATE_SEED = 1_000_003


@dataclass(frozen=True)
class ModeReading:
    """What a reader made of N images: ``modes`` (N,) int64 in ``0..n_modes - 1`` or -1 for none,
    and ``confidence`` (N,) in [0, 1], the weakest match in the reading (lowest channel correlation
    for glyphs, shape IoU for shapes; 0 when unreadable)."""

    modes: np.ndarray
    confidence: np.ndarray
    n_modes: int

    def counts(self) -> np.ndarray:
        """(K,) int64: how many images read as each mode (unreadable ones are left out)."""
        return np.bincount(self.modes[self.modes >= 0], minlength=self.n_modes).astype(np.int64)


def _shrink(canvas: Image.Image) -> np.ndarray:
    """A supersampled "L" canvas shrunk to SIZE x SIZE with box filtering: float32 in [0, 1]."""
    small = canvas.resize((SIZE, SIZE), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32) / 255.0


# ------------------------------------------------------------------------------- stacked glyphs

@functools.cache
def _digit_masks() -> tuple[Image.Image, ...]:
    """Each digit, white on black, centred on a supersampled square canvas."""
    import matplotlib

    path = pathlib.Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
    font, side = ImageFont.truetype(str(path), size=22 * _GLYPH_SUPERSAMPLE), SIZE * _GLYPH_SUPERSAMPLE
    masks = []
    for digit in range(10):
        canvas = Image.new("L", (side, side), 0)
        ImageDraw.Draw(canvas).text((side / 2, side / 2), str(digit), fill=255, font=font, anchor="mm")
        masks.append(canvas)
    return tuple(masks)


def _glyph(digit: int, rng: np.random.Generator) -> np.ndarray:
    """One jittered digit: (SIZE, SIZE) float32 in [0, 1]."""
    side = SIZE * _GLYPH_SUPERSAMPLE
    scale = rng.uniform(0.85, 1.1)
    angle = np.deg2rad(rng.uniform(-10.0, 10.0))
    shift = rng.uniform(-2.0, 2.0, size=2) * _GLYPH_SUPERSAMPLE
    # output pixel p samples the source at R(-angle) (p - c - shift) / scale + c: about the centre
    cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
    c = side / 2
    ox, oy = c + shift[0], c + shift[1]
    coeffs = (cos, sin, c - cos * ox - sin * oy, -sin, cos, c + sin * ox - cos * oy)
    moved = _digit_masks()[digit].transform((side, side), Image.Transform.AFFINE, coeffs,
                                            resample=Image.Resampling.BILINEAR)
    return _shrink(moved) * rng.uniform(0.75, 1.0)


def _glyph_image(mode: int, rng: np.random.Generator) -> np.ndarray:
    digits = (mode // 100, mode // 10 % 10, mode % 10)
    return np.rint(255 * np.stack([_glyph(d, rng) for d in digits], axis=-1)).astype(np.uint8)


def _centre(channels: np.ndarray) -> np.ndarray:
    """Roll each (SIZE, SIZE) channel so its centre of mass sits at the centre (blank ones stay)."""
    mass = channels.sum(axis=(1, 2))
    grid, safe = np.arange(SIZE, dtype=np.float64), np.where(mass > 0, mass, 1.0)
    index = []
    for profile in (channels.sum(axis=2), channels.sum(axis=1)):  # mass per row, then per column
        centre = (profile * grid).sum(axis=1) / safe
        shift = np.where(mass > 0, np.rint((SIZE - 1) / 2 - centre), 0).astype(int)
        index.append((np.arange(SIZE)[None] - shift[:, None]) % SIZE)
    ys, xs = index
    return channels[np.arange(len(channels))[:, None, None], ys[:, :, None], xs[:, None, :]]


def _normalised(channels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flattened channels with zero mean and unit norm, and whether each had any contrast."""
    flat = channels.reshape(len(channels), -1).astype(np.float64)
    flat -= flat.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(flat, axis=1)
    has_contrast = norm > 1e-3 * np.sqrt(flat.shape[1])
    return flat / np.where(has_contrast, norm, 1.0)[:, None], has_contrast


@functools.cache
def _glyph_templates() -> tuple[np.ndarray, np.ndarray]:
    """A fixed bank of jittered digits, centred and normalised: (T, SIZE * SIZE) and their digits (T,)."""
    rng = np.random.default_rng(_GLYPH_TEMPLATE_SEED)
    digits = np.repeat(np.arange(10), _GLYPH_TEMPLATES_PER_DIGIT)  # digit-major: 10 runs of T
    bank = np.stack([_glyph(int(d), rng) for d in digits])
    flat, _ = _normalised(_centre(bank))
    return flat, digits


def _read_channels(channels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Digit (or -1) and best correlation of each (SIZE, SIZE) channel in [0, 1]."""
    templates, template_digits = _glyph_templates()
    flat, has_contrast = _normalised(_centre(channels))
    scores = (flat @ templates.T).reshape(len(flat), 10, _GLYPH_TEMPLATES_PER_DIGIT).max(axis=2)
    ranked = np.sort(scores, axis=1)
    corr = np.where(has_contrast, ranked[:, -1], 0.0)
    clear = (corr >= GLYPH_MIN_CORRELATION) & (ranked[:, -1] - ranked[:, -2] >= GLYPH_MIN_MARGIN)
    return np.where(clear, scores.argmax(axis=1), -1), np.clip(corr, 0.0, 1.0)


def _read_glyph_chunk(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = images.astype(np.float32) / 255.0
    # read as drawn and mirrored (a flipped training image); keep the orientation whose channels match best
    (digit, corr), (digit_m, corr_m) = (
        [a.reshape(-1, 3) for a in _read_channels(np.moveaxis(view, -1, 1).reshape(-1, SIZE, SIZE))]
        for view in (x, x[:, :, ::-1]))
    better = (corr_m.sum(axis=1) > corr.sum(axis=1))[:, None]
    digit, corr = np.where(better, digit_m, digit), np.where(better, corr_m, corr)
    ok = (digit >= 0).all(axis=1)
    modes = np.where(ok, digit[:, 0] * 100 + digit[:, 1] * 10 + digit[:, 2], -1).astype(np.int64)
    return modes, np.where(ok, corr.min(axis=1), 0.0)


# -------------------------------------------------------------------------------------- shapes

SHAPES = ("circle", "square", "triangle", "diamond", "plus", "ring")
PALETTE = np.array([(20, 20, 20), (235, 235, 235), (220, 40, 40), (40, 180, 60), (50, 80, 220),
                    (235, 210, 40), (200, 60, 200), (40, 200, 210)], dtype=np.float64)  # as COLOUR_NAMES
COLOUR_NAMES = ("black", "white", "red", "green", "blue", "yellow", "magenta", "cyan")
N_SHAPE_MODES = len(SHAPES) * len(PALETTE) * (len(PALETTE) - 1)


def describe_shape_mode(mode: int) -> tuple[str, str, str]:
    """(shape, colour, background) names of a shapes mode."""
    rest, slot = divmod(int(mode), len(PALETTE) - 1)
    shape, colour = divmod(rest, len(PALETTE))
    background = slot if slot < colour else slot + 1
    return SHAPES[shape], COLOUR_NAMES[colour], COLOUR_NAMES[background]


def _draw_shape(shape: str, half: float, rng: np.random.Generator) -> np.ndarray:
    """A shape ``2 * half`` pixels wide, centred within 3 pixels of the middle (symmetric, so a flip
    keeps the distribution), drawn supersampled and shrunk: its coverage (SIZE, SIZE) in [0, 1]."""
    x, y = SIZE / 2 + rng.uniform(-3.0, 3.0, size=2)
    box = x0, y0, x1, y1 = tuple(_SUPERSAMPLE * v for v in (x - half, y - half, x + half, y + half))
    side = SIZE * _SUPERSAMPLE
    canvas = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(canvas)
    cx, cy, w = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0
    if shape == "circle":
        draw.ellipse(box, fill=255)
    elif shape == "square":
        draw.rectangle(box, fill=255)
    elif shape == "triangle":
        draw.polygon([(cx, y0), (x1, y1), (x0, y1)], fill=255)
    elif shape == "diamond":
        draw.polygon([(cx, y0), (x1, cy), (cx, y1), (x0, cy)], fill=255)
    elif shape == "plus":
        arm = w / 6
        draw.rectangle((cx - arm, y0, cx + arm, y1), fill=255)
        draw.rectangle((x0, cy - arm, x1, cy + arm), fill=255)
    else:  # ring
        draw.ellipse(box, fill=255)
        inset = w * 0.28
        draw.ellipse((x0 + inset, y0 + inset, x1 - inset, y1 - inset), fill=0)
    return _shrink(canvas)


def _shape_image(mode: int, rng: np.random.Generator) -> np.ndarray:
    shape, colour, background = describe_shape_mode(mode)
    alpha = _draw_shape(shape, rng.uniform(14.0, 22.0) / 2, rng)[..., None]
    fg, bg = (np.clip(PALETTE[COLOUR_NAMES.index(c)] + rng.uniform(-15, 15, 3), 0, 255)
              for c in (colour, background))
    return np.rint(alpha * fg + (1 - alpha) * bg).astype(np.uint8)


_TEMPLATE_SIDE = 16  # shape masks are compared at this size, cropped to their bounding box
_SHAPE_TEMPLATES_PER_SHAPE = 12
_SHAPE_TEMPLATE_SEED = 1_000_033


def _boxed_masks(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boolean masks (N, SIZE, SIZE) cropped to their bounding boxes and resampled (nearest pixel) to
    _TEMPLATE_SIDE squared: (N, side * side) bool, with each box's height and width (0 when empty)."""
    rows, cols = masks.any(axis=2), masks.any(axis=1)
    top, left = rows.argmax(axis=1), cols.argmax(axis=1)
    height = np.where(rows.any(axis=1), SIZE - rows[:, ::-1].argmax(axis=1) - top, 0)
    width = np.where(cols.any(axis=1), SIZE - cols[:, ::-1].argmax(axis=1) - left, 0)
    steps = (np.arange(_TEMPLATE_SIDE) + 0.5) / _TEMPLATE_SIDE
    ys = np.minimum(top[:, None] + (steps * height[:, None]).astype(int), SIZE - 1)
    xs = np.minimum(left[:, None] + (steps * width[:, None]).astype(int), SIZE - 1)
    boxed = masks[np.arange(len(masks))[:, None, None], ys[:, :, None], xs[:, None, :]]
    return boxed.reshape(len(masks), -1) & (height > 0)[:, None], height, width


@functools.cache
def _shape_templates() -> np.ndarray:
    """(6 * T, side * side) float: each shape drawn T times at random sizes and places, cropped to its
    box (small shapes lose thin parts to anti-aliasing, so one template per shape would not do)."""
    rng = np.random.default_rng(_SHAPE_TEMPLATE_SEED)
    masks = [_draw_shape(shape, rng.uniform(7.0, 11.0), rng) >= 0.5
             for shape in SHAPES for _ in range(_SHAPE_TEMPLATES_PER_SHAPE)]
    return _boxed_masks(np.stack(masks))[0].astype(np.float64)


def _snap(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest palette colour of each RGB row (M, 3): its index and its distance."""
    distances = np.linalg.norm(rgb[:, None, :] - PALETTE[None], axis=-1)
    return distances.argmin(axis=1), distances.min(axis=1)


def _read_shape_chunk(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = images.astype(np.float32)
    border = np.concatenate([x[:, 0], x[:, -1], x[:, 1:-1, 0], x[:, 1:-1, -1]], axis=1)
    border_colour = np.median(border, axis=1)
    background, bg_far = _snap(border_colour)
    dist = np.linalg.norm(x - border_colour[:, None, None], axis=-1)
    peak = dist.max(axis=(1, 2))
    far = dist >= 0.75 * peak[:, None, None]  # the pixels most unlike the background: the shape's colour
    far_colour = (far[..., None] * x).sum(axis=(1, 2)) / np.maximum(far.sum(axis=(1, 2)), 1)[:, None]
    colour, fg_far = _snap(far_colour)
    to_fg, to_bg = (np.linalg.norm(x - PALETTE[c][:, None, None], axis=-1) for c in (colour, background))
    mask = to_fg < to_bg
    boxed, height, width = _boxed_masks(mask)
    templates = _shape_templates()
    inter = boxed.astype(np.float64) @ templates.T
    union = boxed.sum(axis=1)[:, None] + templates.sum(axis=1)[None] - inter
    iou = (inter / np.maximum(union, 1.0)).reshape(len(x), len(SHAPES), -1).max(axis=2)
    shape, best = iou.argmax(axis=1), iou.max(axis=1)
    ok = ((peak >= 60) & (bg_far <= SHAPE_MAX_COLOUR_DISTANCE) & (fg_far <= SHAPE_MAX_COLOUR_DISTANCE)
          & (colour != background) & (best >= SHAPE_MIN_IOU)
          # a shape never touches the border and has a sensible size...
          & ~mask[:, [0, -1]].any(axis=(1, 2)) & ~mask[:, :, [0, -1]].any(axis=(1, 2))
          & (height >= 10) & (height <= 26) & (width >= 10) & (width <= 26)
          # ...and nearly every pixel is one of the two colours (or a blend at its edge)
          & ((np.minimum(to_fg, to_bg) > SHAPE_MAX_COLOUR_DISTANCE).mean(axis=(1, 2)) <= 0.15))
    slot = np.where(background < colour, background, background - 1)
    modes = (shape * len(PALETTE) + colour) * (len(PALETTE) - 1) + slot
    return np.where(ok, modes, -1).astype(np.int64), np.where(ok, best, 0.0)


# ---------------------------------------------------------------------------------- the sets

# name -> (K, draw one image of a mode with an rng, read a chunk of images into (modes, confidence))
_SETS = {"stacked_glyphs": (1000, _glyph_image, _read_glyph_chunk),
         "shapes": (N_SHAPE_MODES, _shape_image, _read_shape_chunk)}


def _set(name: str) -> tuple:
    if name not in SET_NAMES:
        raise ShapeError(f"unknown outside set {name!r}; choose from {', '.join(SET_NAMES)}")
    return _SETS[name]


def n_modes(name: str) -> int:
    """K, the number of modes of the set ``name``."""
    return _set(name)[0]


def render(name: str, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images of the set ``name``, uint8 (n, 32, 32, 3), and their modes (n,), drawn uniformly."""
    k, draw, _ = _set(name)
    if not isinstance(n, int) or n < 0:
        raise ShapeError(f"n must be a non-negative int, got {n!r}")
    rng = np.random.default_rng(seed)
    modes = rng.integers(0, k, size=n).astype(np.int64)
    return np.array([draw(int(m), rng) for m in modes], np.uint8).reshape(n, SIZE, SIZE, 3), modes


def read_modes(name: str, images: np.ndarray) -> ModeReading:
    """The mode each of ``images`` (uint8 (N, 32, 32, 3)) shows in the set ``name``, -1 for none."""
    k, _, read = _set(name)
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1:] != (SIZE, SIZE, 3):
        raise ShapeError(f"the readers read images of shape (N, {SIZE}, {SIZE}, 3), got {images.shape}")
    if images.dtype != np.uint8:
        raise ShapeError(f"the readers read uint8 pixels in [0, 255], got {images.dtype}")
    parts = [read(images[i : i + 2048]) for i in range(0, len(images), 2048)]  # in chunks: bounded memory
    return ModeReading(np.concatenate([np.zeros(0, np.int64)] + [m for m, _ in parts]),
                       np.concatenate([np.zeros(0)] + [c for _, c in parts]), k)


def write_folder(name: str, out: str | os.PathLike[str], n: int = 10_000, seed: int = 0) -> pathlib.Path:
    """Write ``n`` images of the set ``name`` as PNG files in ``out``, with ``labels.csv`` (file, mode)."""
    images, modes = render(name, n, seed)
    folder = pathlib.Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    width = max(5, len(str(n - 1)))
    with open(folder / "labels.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "mode"])
        for i, (image, mode) in enumerate(zip(images, modes, strict=True)):
            file = f"{name}_{i:0{width}d}.png"
            Image.fromarray(image).save(folder / file)
            writer.writerow([file, int(mode)])
    return folder
