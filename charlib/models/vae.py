"""Convolutional VAE networks: an encoder to (mu, log sigma^2) and a decoder back to a picture.

The encoder mirrors the DCGAN discriminator (strided convolutions down to 4x4) but ends in two
Dense heads, the mean ``mu`` and log-variance ``logvar`` of the Gaussian posterior q(z|x). The
decoder mirrors the DCGAN generator and outputs *parameters of the likelihood*: Gaussian means in
[-1, 1] (tanh) or Bernoulli logits of each intensity in [0, 1]; :func:`decoder_to_images` turns
either into pixels. There is no BatchNorm: a VAE is evaluated example by example, and batch
statistics would make training and evaluation compute different things.
"""

from __future__ import annotations

import keras
from keras import layers

from charlib.models.dcgan import _halving_channels, _n_doublings

LIKELIHOODS = ("gaussian", "bernoulli")


def make_encoder(image_size: int = 64, latent_dim: int = 32, width: int = 32,
                 name: str = "encoder") -> keras.Model:
    """Images (N, S, S, 3) in [-1, 1] -> [mu (N, latent_dim), logvar (N, latent_dim)]."""
    k = _n_doublings(image_size)
    images = keras.Input((image_size, image_size, 3), name="image")
    x = images
    for i in range(k):
        x = layers.Conv2D(width * 2**i, 4, strides=2, padding="same")(x)
        x = layers.Activation("gelu")(x)
    x = layers.Flatten()(x)
    mu = layers.Dense(latent_dim, name="mu", dtype="float32")(x)  # float32 under mixed precision
    logvar = layers.Dense(latent_dim, name="logvar", dtype="float32")(x)
    return keras.Model(images, [mu, logvar], name=name)


def make_decoder(image_size: int = 64, latent_dim: int = 32, width: int = 32,
                 likelihood: str = "gaussian", name: str = "decoder") -> keras.Model:
    """z (N, latent_dim) -> (N, S, S, 3): Gaussian means in [-1, 1] or Bernoulli logits."""
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
    channels = _halving_channels(image_size, width)
    z = keras.Input((latent_dim,), name="z")
    x = layers.Dense(4 * 4 * channels[0])(z)
    x = layers.Reshape((4, 4, channels[0]))(x)
    x = layers.ReLU()(x)
    for c in channels[1:]:
        x = layers.Conv2DTranspose(c, 4, strides=2, padding="same")(x)
        x = layers.ReLU()(x)
    x = layers.Conv2DTranspose(3, 4, strides=2, padding="same")(x)
    activation = "tanh" if likelihood == "gaussian" else "linear"
    out = layers.Activation(activation, dtype="float32", name=f"{likelihood}_params")(x)
    return keras.Model(z, out, name=name)


def decoder_to_images(params, likelihood: str):
    """Decoder outputs to pictures in [-1, 1]: Gaussian means as they are, Bernoulli means 2p - 1."""
    import tensorflow as tf

    if likelihood == "gaussian":
        return params
    return 2.0 * tf.sigmoid(params) - 1.0
