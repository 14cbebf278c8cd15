"""DCGAN: a generator that *upsamples* noise to a picture, and a discriminator that scores it.

The generator maps a latent vector z (N, latent_dim) through a Dense layer to a small 4x4 feature
map, then doubles the resolution with strided ``Conv2DTranspose`` layers (BatchNorm + ReLU between)
until it reaches the image size, and ends in ``tanh`` so pixels lie in [-1, 1] like the real data.
(The source article's "generator" did the opposite: strided ``Conv2D`` layers that shrink the map;
that is a discriminator's job.) The discriminator mirrors it: strided convolutions with LeakyReLU
halve the resolution down to 4x4, and a Dense layer outputs one **logit** per image, no sigmoid:
the losses in :mod:`charlib.losses` take logits.

``reference_generator`` / ``reference_discriminator`` are the TensorFlow tutorial's DCGAN scaled to
64x64 (Dense to 8x8x256, three 5x5 ``Conv2DTranspose``; two 5x5 strided convs with dropout), kept as
the speed and quality baseline that the course's compact models are measured against.
"""

from __future__ import annotations

import math

import keras
from keras import layers

from charlib.errors import ShapeError

NORMS = ("batch", "layer", "spectral", "none")


def _n_doublings(image_size: int, start: int = 4) -> int:
    n = math.log2(image_size / start)
    if image_size < 8 or not n.is_integer():
        raise ShapeError(f"image_size must be 4 * 2**k (8, 16, 32, 64, 128...), got {image_size}")
    return int(n)


def make_generator(latent_dim: int = 128, image_size: int = 64, width: int = 32,
                   name: str = "generator") -> keras.Model:
    """DCGAN generator: z (N, latent_dim) -> images (N, image_size, image_size, 3) in [-1, 1].

    Channels halve at every doubling, from ``width * 2**(k-1)`` at 4x4 to ``width`` just before the
    last layer, where k = log2(image_size / 4). ``width=32`` at 64x64 gives about 1.1M parameters.
    """
    k = _n_doublings(image_size)
    channels = [width * 2 ** (k - 1 - i) for i in range(k)]  # e.g. 256, 128, 64, 32
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
                       name: str = "discriminator") -> keras.Model:
    """DCGAN discriminator: images (N, image_size, image_size, 3) in [-1, 1] -> logits (N, 1).

    Strided 4x4 convolutions double the channels (``width`` first) while halving the resolution
    down to 4x4; LeakyReLU(0.2) throughout, no normalisation in the first layer, no sigmoid at the
    end. ``norm`` is "batch" (DCGAN), "layer" (for WGAN-GP, whose penalty needs examples scored
    independently), "spectral" (spectral normalisation of every weight, Miyato et al. 2018, which
    bounds how sharply D can change and steadies training) or "none".
    """
    if norm not in NORMS:
        raise ShapeError(f"norm must be one of {NORMS}, got {norm!r}")
    wrap = layers.SpectralNormalization if norm == "spectral" else (lambda layer: layer)
    k = _n_doublings(image_size)
    images = keras.Input((image_size, image_size, 3), name="image")
    x = images
    for i in range(k):
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
