"""From uint8 pictures to training batches with tf.data, and back to pictures for display.

Models in this course end in ``tanh``, whose outputs lie in [-1, 1], so real images are scaled to the
same range (:func:`to_float`); a discriminator that saw real pixels in [0, 255] and fake ones in
[-1, 1] could tell them apart by range alone. :func:`to_uint8` undoes the scaling for display.

:func:`make_dataset` builds the input pipeline: cache the small uint8 arrays, shuffle with a seed,
optionally flip, scale, batch and prefetch. Flips respect labels: a sprite facing left becomes one
facing right (its direction label and skeleton mirrored too), and a front-facing sprite is not
flipped, because its mirror image is a different frame of its cycle.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import tensorflow as tf

from charlib.base.images import check_images
from charlib.data import skeleton as sk
from charlib.errors import ShapeError

_LEFT, _RIGHT = sk.DIRECTIONS.index("left"), sk.DIRECTIONS.index("right")


def to_float(images: np.ndarray | tf.Tensor) -> tf.Tensor:
    """uint8 pixels [0, 255] (..., H, W, 3) to float32 in [-1, 1], the range of a tanh output."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def to_uint8(images: np.ndarray | tf.Tensor) -> np.ndarray:
    """float images in [-1, 1] back to uint8 pixels (values outside are clipped); numpy out."""
    x = np.asarray(images, dtype=np.float32)
    if not np.all(np.isfinite(x)):
        raise ShapeError("images contain NaN or infinite values; the model may have diverged")
    return np.round((np.clip(x, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)


def _flip(image: tf.Tensor, labels: dict[str, tf.Tensor], coin: tf.Tensor,
          has_direction: bool) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
    """Mirror one example when ``coin`` is true (and, with direction labels, it faces sideways)."""
    labels = dict(labels)
    if has_direction:
        d = labels["direction"]
        coin = tf.logical_and(coin, tf.logical_or(tf.equal(d, _LEFT), tf.equal(d, _RIGHT)))
        labels["direction"] = tf.where(coin, _LEFT + _RIGHT - d, d)
    if "skeleton" in labels:
        s = labels["skeleton"]
        width = tf.cast(tf.shape(image)[1], s.dtype)
        mirrored = tf.gather(s, sk.MIRROR_PERMUTATION, axis=-2)
        mirrored = tf.concat([width - mirrored[..., :1], mirrored[..., 1:]], axis=-1)
        labels["skeleton"] = tf.where(coin, mirrored, s)
    image = tf.where(coin, tf.reverse(image, axis=[1]), image)
    return image, labels


def make_dataset(images: np.ndarray, labels: Mapping[str, np.ndarray] | None = None, *, batch_size: int = 64,
                 shuffle: bool = True, seed: int = 0, flip: bool = False, cache: bool = True,
                 prefetch: bool = True, drop_remainder: bool = True) -> tf.data.Dataset:
    """A tf.data pipeline of float32 batches (batch_size, H, W, 3) in [-1, 1] from uint8 images.

    With ``labels`` (a dict of arrays with N rows) it yields ``(images, labels)`` pairs. Shuffling
    is repeatable for a seed and reshuffles every epoch; ``drop_remainder`` keeps every batch the
    same size, so a compiled training step does not retrace.
    """
    arr = check_images(images)
    if batch_size < 1:
        raise ShapeError(f"batch_size must be >= 1, got {batch_size}")
    if len(arr) == 0:
        raise ShapeError("images is empty: there is nothing to train on")
    if drop_remainder and len(arr) < batch_size:
        raise ShapeError(f"only {len(arr)} images for batch_size {batch_size}; lower the batch size or "
                         "pass drop_remainder=False")
    label_arrays = {k: np.asarray(v) for k, v in (labels or {}).items()}
    for key, value in label_arrays.items():
        if len(value) != len(arr):
            raise ShapeError(f"labels[{key!r}] has {len(value)} rows but there are {len(arr)} images")

    ds = tf.data.Dataset.from_tensor_slices((arr, label_arrays))
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(len(arr), seed=seed, reshuffle_each_iteration=True)
    if flip:
        coins = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        has_direction = "direction" in label_arrays
        ds = tf.data.Dataset.zip((ds, coins)).map(
            lambda pair, r: _flip(pair[0], pair[1], tf.equal(r % 2, 0), has_direction),
            num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.map(lambda x, y: (to_float(x), y), num_parallel_calls=tf.data.AUTOTUNE)
    if not label_arrays:
        ds = ds.map(lambda x, y: x)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if prefetch:
        ds = ds.prefetch(tf.data.AUTOTUNE)
    return ds
