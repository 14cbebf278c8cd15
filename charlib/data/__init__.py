"""Character data: procedural sprites with skeletons, your own image folders, and tf.data pipelines.

Everything here produces the same thing, uint8 RGB arrays of shape (N, H, W, 3) plus labels, so
the models downstream never care where the pictures came from. Nothing is downloaded: sprites are
drawn in code, and image folders are read from disk.
"""

from __future__ import annotations

import numpy as np

from charlib.errors import ShapeError


def check_images(images: np.ndarray, name: str = "images") -> np.ndarray:
    """Check a batch of pictures is uint8 (N, H, W, 3), the data contract; return it as numpy."""
    arr = np.asarray(images)
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise ShapeError(f"{name} must have shape (N, H, W, 3), got {arr.shape}")
    if arr.dtype != np.uint8:
        raise ShapeError(
            f"{name} must be uint8 pixels in [0, 255], got {arr.dtype}; "
            "use charlib.data.pipeline.to_uint8 for model outputs in [-1, 1]"
        )
    return arr
