"""Differentiable augmentation (DiffAugment) for training a GAN on a small image folder.

With a few hundred images, a discriminator soon remembers every training image, and its feedback
turns into "make exactly these": the GAN copies or collapses. Augmenting only the real images
teaches the generator to draw the augmentations. DiffAugment (Zhao et al., 2020, "Differentiable
Augmentation for Data-Efficient GAN Training") applies the *same kind* of random change to real
**and** generated images every time the discriminator looks at them, in both updates. The changes
are differentiable (an addition, a gather, a mask), so the generator's gradient flows through them:
the only way to make *augmented* images look real is to draw un-augmented real-looking ones. The
three policies:

* ``color``: per image, brightness ``x + (u - 0.5)``, saturation ``m + 2u (x - m)`` around the
  pixel's grey value and contrast ``m + (u + 0.5)(x - m)`` around the image's mean (``u ~ U(0, 1)``);
* ``translation``: shift each image by up to 1/8 of its side in x and y, filling with 0 (mid grey);
* ``cutout``: set a square of half the side, at a random place, to 0.

Pick the policy for your data: ``color`` makes the discriminator stop checking colours, which hurts
when colours tell characters apart (on 200 sprites the full policy gave worse samples and fewer
modes than none, translation with cutout alone less so: ``benchmarks/results/augment_small*.md``).
DiffAugment pays off once a discriminator overfits; before that it slows learning down. Randomness
is stateless and keyed by a seed pair such as ``(seed, step)``, so a resumed run augments the same
way. Images are float (N, H, W, C) in [-1, 1]; outputs can leave that range a little.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from charlib.errors import CharlibError

__all__ = ["POLICIES", "AugmentError", "brightness", "contrast", "cutout", "diff_augment",
           "parse_policy", "saturation", "translation"]


class AugmentError(CharlibError):
    """An augmentation policy names something that is not an augmentation."""


def _uniform(shape: tf.TensorShape | list, seed: tf.Tensor, lo: float = 0.0, hi: float = 1.0,
             dtype: tf.DType = tf.float32) -> tf.Tensor:
    return tf.random.stateless_uniform(shape, seed=seed, minval=lo, maxval=hi, dtype=dtype)


def brightness(x: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Add one random offset in [-0.5, 0.5) to every pixel of each image. x: (N, H, W, C)."""
    return x + (_uniform([tf.shape(x)[0], 1, 1, 1], seed, dtype=x.dtype) - 0.5)


def saturation(x: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Scale each pixel's distance from its grey value by a random factor in [0, 2) per image."""
    grey = tf.reduce_mean(x, axis=3, keepdims=True)
    return grey + (x - grey) * (_uniform([tf.shape(x)[0], 1, 1, 1], seed, dtype=x.dtype) * 2.0)


def contrast(x: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Scale each image's distance from its mean value by a random factor in [0.5, 1.5)."""
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    return mean + (x - mean) * (_uniform([tf.shape(x)[0], 1, 1, 1], seed, dtype=x.dtype) + 0.5)


def translation(x: tf.Tensor, seed: tf.Tensor, ratio: float = 0.125) -> tf.Tensor:
    """Shift each image by a random whole number of pixels in ``[-r, r]``, ``r = round(ratio * side)``,
    filling with 0; a ``tf.gather`` on a zero-padded copy, so gradients flow."""
    n, h, w = tf.shape(x)[0], x.shape[1], x.shape[2]
    ry, rx = int(round(h * ratio)), int(round(w * ratio))
    seeds = tf.random.experimental.stateless_split(seed, 2)
    dy = tf.random.stateless_uniform([n, 1], seed=seeds[0], minval=-ry, maxval=ry + 1, dtype=tf.int32)
    dx = tf.random.stateless_uniform([n, 1], seed=seeds[1], minval=-rx, maxval=rx + 1, dtype=tf.int32)
    padded = tf.pad(x, [[0, 0], [ry, ry], [rx, rx], [0, 0]])
    rows = tf.range(h)[None, :] + ry - dy  # output row r reads padded row r + ry - dy
    cols = tf.range(w)[None, :] + rx - dx
    out = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(out, cols, axis=2, batch_dims=1)


def cutout(x: tf.Tensor, seed: tf.Tensor, ratio: float = 0.5) -> tf.Tensor:
    """Set a square of side ``ratio`` x side, centred at a random pixel of each image (clipped at the
    border), to 0."""
    n, h, w = tf.shape(x)[0], x.shape[1], x.shape[2]
    sh, sw = int(round(h * ratio)), int(round(w * ratio))
    seeds = tf.random.experimental.stateless_split(seed, 2)
    cy = tf.random.stateless_uniform([n, 1, 1], seed=seeds[0], minval=0, maxval=h, dtype=tf.int32)
    cx = tf.random.stateless_uniform([n, 1, 1], seed=seeds[1], minval=0, maxval=w, dtype=tf.int32)
    ys = tf.range(h)[None, :, None] - (cy - sh // 2)
    xs = tf.range(w)[None, None, :] - (cx - sw // 2)
    inside = (ys >= 0) & (ys < sh) & (xs >= 0) & (xs < sw)  # (N, H, W)
    return x * tf.cast(~inside, x.dtype)[..., None]


POLICIES: dict[str, tuple[Callable[[tf.Tensor, tf.Tensor], tf.Tensor], ...]] = {
    "color": (brightness, saturation, contrast), "translation": (translation,), "cutout": (cutout,)}


def parse_policy(policy: str) -> tuple[str, ...]:
    """Split a policy such as ``"color,translation,cutout"`` into known names ("" gives ())."""
    names = tuple(p.strip() for p in policy.split(",") if p.strip())
    unknown = [p for p in names if p not in POLICIES]
    if unknown:
        raise AugmentError(f"Unknown augmentation {', '.join(map(repr, unknown))} in {policy!r}; use a "
                           f"comma-separated list of {', '.join(POLICIES)} "
                           "(e.g. 'color,translation,cutout').")
    return names


def diff_augment(x: tf.Tensor, policy: str | tuple[str, ...], seed: tf.Tensor) -> tf.Tensor:
    """Apply a DiffAugment policy (``"color,translation,cutout"`` or :func:`parse_policy`'s names) to
    float images x (N, H, W, C); ``seed`` (2,) int, e.g. ``(seed, step)``, gives each op its own fold."""
    names = parse_policy(policy) if isinstance(policy, str) else policy
    seed = tf.cast(seed, tf.int64)
    k = 0
    for name in names:
        for op in POLICIES[name]:
            k += 1
            x = op(x, tf.random.experimental.stateless_fold_in(seed, k))
    return x
