"""DCGAN: a generator that *upsamples* noise to a picture, and a discriminator that scores it.

The generator maps z (N, latent_dim) through a Dense layer to a 4x4 feature map, doubles the
resolution with strided ``Conv2DTranspose`` layers (BatchNorm + ReLU between) up to the image size,
and ends in ``tanh`` so pixels lie in [-1, 1] like the data. (The source article's "generator" used
strided ``Conv2D`` layers that shrink the map: a discriminator's job.) The discriminator mirrors it
with strided convolutions and LeakyReLU down to 4x4, and a Dense layer gives one **logit** per
image, no sigmoid: :mod:`charlib.losses` takes logits. ``reference_generator`` and
``reference_discriminator``, the TensorFlow tutorial's DCGAN, are the speed and quality baseline.

Two discriminator options fight **mode collapse** by letting D see several samples at once:
:class:`MinibatchStdDev` (Karras et al. 2018) appends a feature map holding how much the batch
varies (a collapsed batch varies little), and :class:`Pack` (PacGAN, Lin et al. 2018) stacks ``m``
images along the channels so D scores groups of ``m``.
"""

from __future__ import annotations

import math

import keras
from keras import layers, ops

from charlib.errors import ShapeError

NORMS = ("batch", "layer", "spectral", "none")


def _n_doublings(image_size: int) -> int:
    n = math.log2(image_size / 4)
    if image_size < 8 or not n.is_integer():
        raise ShapeError(f"image_size must be 4 * 2**k (8, 16, 32, 64, 128...), got {image_size}")
    return int(n)


def _halving_channels(image_size: int, width: int) -> list[int]:
    """The channels from 4x4 up, halving at each doubling: ``width * 2**(k-1)``, ..., ``width``."""
    k = _n_doublings(image_size)
    return [width * 2 ** (k - 1 - i) for i in range(k)]


@keras.saving.register_keras_serializable(package="charlib")
class MinibatchStdDev(layers.Layer):
    """Append the batch's spread as one extra feature map (ProGAN's minibatch standard deviation).

    Sample i joins group ``i % (N / group_size)`` (``group_size`` 4 in ProGAN; 0, or a size that
    does not divide N: one group); the standard deviation of every feature over a group's samples,
    averaged to one number, fills a new channel for them. (N, H, W, C) -> (N, H, W, C + 1), or any
    rank >= 2, e.g. (N, C) -> (N, C + 1).
    """

    def __init__(self, group_size: int = 4, epsilon: float = 1e-8, **kwargs) -> None:
        super().__init__(**kwargs)
        if int(group_size) < 0:
            raise ShapeError(f"group_size must be >= 0, got {group_size}")
        self.group_size = int(group_size)
        self.epsilon = float(epsilon)

    def call(self, x):
        rest = tuple(x.shape[1:])  # static: (H, W, C) for images, (C,) for vectors
        n = ops.shape(x)[0]
        g = n if self.group_size == 0 else ops.minimum(self.group_size, n)
        g = ops.where(ops.equal(n % g, 0), g, n)  # a batch g does not divide: one group
        y = ops.reshape(ops.cast(x, "float32"), (g, -1, *rest))
        y = y - ops.mean(y, axis=0, keepdims=True)
        std = ops.sqrt(ops.mean(ops.square(y), axis=0) + self.epsilon)  # (N/g, *rest)
        std = ops.mean(std, axis=tuple(range(1, len(rest) + 1)))  # (N/g,): one number per group
        std = ops.reshape(std, (-1, *[1] * len(rest)))
        std = ops.tile(std, (g, *rest[:-1], 1))  # (N, ..., 1); row i holds group i % (N/g)
        return ops.concatenate([x, ops.cast(std, x.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 1)

    def get_config(self) -> dict:
        return {**super().get_config(), "group_size": self.group_size, "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="charlib")
class Pack(layers.Layer):
    """PacGAN packing: ``m`` consecutive images become one input with ``m`` times the channels.

    (N, H, W, C) with N divisible by ``m`` -> (N / m, H, W, m * C), images ``k*m .. k*m + m - 1``
    stacked along the channels (points: (N, D) -> (N / m, m * D)); D outputs one logit per pack.
    """

    def __init__(self, m: int = 2, **kwargs) -> None:
        super().__init__(**kwargs)
        if int(m) < 1:
            raise ShapeError(f"pack size m must be >= 1, got {m}")
        self.m = int(m)

    def call(self, x):
        rest = tuple(x.shape[1:])  # static: (H, W, C) for images, (D,) for points
        y = ops.reshape(x, (-1, self.m, *rest))  # (N/m, m, ..., C)
        if len(rest) > 1:  # move the pack axis next to the channels: (N/m, H, W, m, C)
            y = ops.transpose(y, (0, *range(2, len(rest) + 1), 1, len(rest) + 1))
        return ops.reshape(y, (-1, *rest[:-1], self.m * rest[-1]))

    def compute_output_shape(self, input_shape):
        n = input_shape[0]
        return (None if n is None else n // self.m, *input_shape[1:-1], self.m * input_shape[-1])

    def get_config(self) -> dict:
        return {**super().get_config(), "m": self.m}


def make_generator(latent_dim: int = 128, image_size: int = 64, width: int = 32,
                   name: str = "generator") -> keras.Model:
    """DCGAN generator: z (N, latent_dim) -> images (N, image_size, image_size, 3) in [-1, 1]; the
    channels halve at every doubling down to ``width`` (about 1.1M parameters for 32 at 64x64)."""
    channels = _halving_channels(image_size, width)  # e.g. 256, 128, 64, 32
    z = keras.Input((latent_dim,), name="z")
    x = layers.Dense(4 * 4 * channels[0], use_bias=False)(z)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Reshape((4, 4, channels[0]))(x)
    for c in channels[1:]:
        x = layers.Conv2DTranspose(c, 4, strides=2, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    x = layers.Conv2DTranspose(3, 4, strides=2, padding="same")(x)
    images = layers.Activation("tanh", dtype="float32", name="image")(x)
    return keras.Model(z, images, name=name)


def make_discriminator(image_size: int = 64, width: int = 32, norm: str = "batch",
                       name: str = "discriminator", *, pack: int = 1,
                       minibatch_std: int = 0) -> keras.Model:
    """DCGAN discriminator: images (N, image_size, image_size, 3) in [-1, 1] -> logits (N / pack, 1).

    Strided 4x4 convolutions double the channels (``width`` first) while halving the resolution
    down to 4x4; LeakyReLU(0.2), no normalisation in the first layer, no sigmoid. ``norm`` is
    "batch" (DCGAN), "layer" (for WGAN-GP, whose penalty needs examples scored independently),
    "spectral" (Miyato et al. 2018: bounds how sharply D can change) or "none". ``pack=m`` > 1
    packs m images into one input (:class:`Pack`); ``minibatch_std=g`` > 0 puts a
    :class:`MinibatchStdDev` with groups of g before the last strided convolution.
    """
    if norm not in NORMS:
        raise ShapeError(f"norm must be one of {NORMS}, got {norm!r}")
    if int(pack) < 1 or int(minibatch_std) < 0:
        raise ShapeError(f"need pack >= 1 and minibatch_std >= 0, got {pack} and {minibatch_std}")
    wrap = layers.SpectralNormalization if norm == "spectral" else (lambda layer: layer)
    k = _n_doublings(image_size)
    images = keras.Input((image_size, image_size, 3), name="image")
    x = Pack(int(pack), name="pack")(images) if pack > 1 else images
    for i in range(k):
        if minibatch_std and i == k - 1:
            x = MinibatchStdDev(int(minibatch_std), name="minibatch_std")(x)
        x = wrap(layers.Conv2D(width * 2**i, 4, strides=2, padding="same",
                               use_bias=i == 0 or norm in ("spectral", "none")))(x)
        if i > 0 and norm == "batch":
            x = layers.BatchNormalization()(x)
        elif i > 0 and norm == "layer":
            x = layers.LayerNormalization()(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Flatten()(x)
    logits = wrap(layers.Dense(1, dtype="float32", name="logit"))(x)
    return keras.Model(images, logits, name=name)


def reference_generator(latent_dim: int = 100, image_size: int = 64) -> keras.Model:
    """The TF-tutorial DCGAN generator scaled to ``image_size``: Dense -> (s/8)^2 x 256, 3 ConvT 5x5."""
    s = image_size // 8
    if s * 8 != image_size:
        raise ShapeError(f"image_size must be a multiple of 8, got {image_size}")
    z = keras.Input((latent_dim,))
    x = layers.Dense(s * s * 256, use_bias=False)(z)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU()(x)
    x = layers.Reshape((s, s, 256))(x)
    for c in (128, 64):
        x = layers.Conv2DTranspose(c, 5, strides=2, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU()(x)
    x = layers.Conv2DTranspose(3, 5, strides=2, padding="same", use_bias=False, activation="tanh")(x)
    return keras.Model(z, x, name="reference_generator")


def reference_discriminator(image_size: int = 64) -> keras.Model:
    """The TF-tutorial DCGAN discriminator at ``image_size``: two 5x5 strided convs + dropout -> logit."""
    images = keras.Input((image_size, image_size, 3))
    x = images
    for c in (64, 128):
        x = layers.Conv2D(c, 5, strides=2, padding="same")(x)
        x = layers.LeakyReLU()(x)
        x = layers.Dropout(0.3)(x)
    x = layers.Flatten()(x)
    return keras.Model(images, layers.Dense(1)(x), name="reference_discriminator")
