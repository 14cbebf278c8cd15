"""Pictures as files: the image checks, grids, and PNG and GIF writing that every layer may use.

Everything in charlib passes pictures as uint8 arrays (N, H, W, 3) (:func:`check_images` checks
that contract) and frames of an animation as (T, H, W, 3) (:func:`check_frames`). ``charlib.viz``
and ``charlib.animation`` offer the same functions next to their figures and players. Pixel art is
enlarged without blurring (:func:`enlarge`).
"""

from __future__ import annotations

import io
from pathlib import Path

import imageio.v3 as iio
import numpy as np
from PIL import Image

from charlib.errors import ShapeError


def check_images(images: np.ndarray, name: str = "images") -> np.ndarray:
    """Check a batch of pictures is uint8 (N, H, W, 3), the data contract; return it as numpy."""
    arr = np.asarray(images)
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise ShapeError(f"{name} must have shape (N, H, W, 3), got {arr.shape}")
    if arr.dtype != np.uint8:
        raise ShapeError(f"{name} must be uint8 pixels in [0, 255], got {arr.dtype}; "
                         "use charlib.data.pipeline.to_uint8 for model outputs in [-1, 1]")
    return arr


def image_grid(images: np.ndarray, ncols: int | None = None, pad: int = 1,
               pad_value: int = 255) -> np.ndarray:
    """Tile images (N, H, W, 3) uint8 into one (rows*H + pads, ncols*W + pads, 3) picture, near-square
    unless ``ncols`` is given; missing cells in the last row stay ``pad_value``."""
    arr = check_images(images)
    n, h, w, _ = arr.shape
    if n == 0:
        raise ShapeError("image_grid needs at least one image")
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    out = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad, 3), pad_value, np.uint8)
    for i, img in enumerate(arr):
        r, c = divmod(i, ncols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        out[y : y + h, x : x + w] = img
    return out


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscale of an (H, W, 3) picture: pixel art stays crisp."""
    if factor < 1:
        raise ShapeError(f"factor must be >= 1, got {factor}")
    return np.repeat(np.repeat(np.asarray(image), factor, axis=0), factor, axis=1)


def save_png(image: np.ndarray, path: str | Path, scale: int = 1) -> Path:
    """Save an (H, W, 3) uint8 picture as PNG (enlarged ``scale`` times); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(enlarge(image, scale)).save(path)
    return path


def png_bytes(image: np.ndarray, scale: int = 1) -> bytes:
    """Encode one (H, W, 3) uint8 picture as PNG bytes, enlarged ``scale`` times without blur."""
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[-1] != 3 or arr.dtype != np.uint8:
        raise ShapeError(f"image must be uint8 of shape (H, W, 3), got {arr.dtype} {arr.shape}")
    buffer = io.BytesIO()
    Image.fromarray(enlarge(arr, scale)).save(buffer, format="PNG")
    return buffer.getvalue()


def check_frames(frames: np.ndarray) -> np.ndarray:
    """Check animation frames are uint8 (T>0, H, W, 3); return them as numpy."""
    arr = np.asarray(frames)
    if arr.ndim != 4 or arr.shape[-1] != 3 or arr.dtype != np.uint8 or len(arr) == 0:
        raise ShapeError(f"frames must be uint8 of shape (T>0, H, W, 3), got {arr.dtype} {arr.shape}")
    return arr


def gif_bytes(frames: np.ndarray, fps: float = 8.0, scale: int = 1) -> bytes:
    """Encode frames (T, H, W, 3) uint8 as a looping GIF, each enlarged ``scale`` times."""
    arr = check_frames(frames)
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
