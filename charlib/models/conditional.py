"""A conditional VAE that separates *who* a character is from *what pose* it is in.

To animate a generated character, every frame must show the same character, and one latent code
per picture cannot promise that. Here the latent code is the character's *identity* alone, and the
pose is a separate *condition* c = (action, direction, frame), one-hot (3 + 3 + 8 = 14 numbers).
Training uses pairs of frames of one character: the encoder sees a *reference* frame in a random
pose, and the decoder gets z and the *target* pose, so z can only help by carrying what all poses
share, the appearance. A fresh z ~ N(0, I) is a new character; decoding it under the 8 frame
conditions animates it.

The default *palette* decoder paints the picture the way the sprites are made: a soft map of K
layers for the pose, each layer coloured from z alone, so a character keeps its colours in every
frame by construction (a code between two characters still gets a blended palette, hence the
ex-post prior and refinement of :mod:`charlib.training.conditional`). The *attribute* code removes
blends altogether: as in the semi-supervised VAE of Kingma et al. (2014, "M2"), the identity is one
categorical per labelled appearance attribute (skin, hair, top, bottom), so a new character always
sits exactly where training put codes. Measured: ``benchmarks/results/animation_full.md`` and
``animation_attributes.md``.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from charlib.data import skeleton as sk
from charlib.data import sprites
from charlib.errors import ShapeError
from charlib.models.dcgan import _halving_channels
from charlib.models.vae import make_encoder

#: Length of the condition vector: one-hot action, one-hot direction, one-hot frame.
N_CONDITION: int = len(sk.ACTIONS) + len(sk.DIRECTIONS) + sk.N_FRAMES
#: Length of an attribute code: one one-hot per appearance attribute (6 + 6 + 6 + 6 = 24).
N_ATTRIBUTE_CODE: int = int(sum(sprites.ATTRIBUTE_SIZES))

__all__ = ["N_ATTRIBUTE_CODE", "N_CONDITION", "attribute_codes", "attributes_from_logits",
           "condition_vectors", "make_attribute_encoder", "make_conditional_decoder",
           "make_identity_encoder", "palette_mix"]


def _one_hots(indices, sizes, names) -> np.ndarray:
    """Index arrays (or scalars, broadcast together) to their one-hot vectors side by side, float32."""
    arrays = np.broadcast_arrays(*(np.atleast_1d(v) for v in indices))
    for values, n, what in zip(arrays, sizes, names, strict=True):
        if values.size and (values.min() < 0 or values.max() >= n):
            raise ShapeError(f"{what} indices must be in [0, {n}), got {values.min()}..{values.max()}")
    hots = [np.eye(n)[values] for values, n in zip(arrays, sizes, strict=True)]
    return np.concatenate(hots, axis=-1).astype(np.float32)


def condition_vectors(action: np.ndarray | int, direction: np.ndarray | int,
                      frame: np.ndarray | int) -> np.ndarray:
    """Pose indices (N,) (or scalars) to conditions (N, 14): action one-hot (walk, wave, jump),
    direction one-hot (front, left, right), frame one-hot (0..7)."""
    return _one_hots((action, direction, frame), (len(sk.ACTIONS), len(sk.DIRECTIONS), sk.N_FRAMES),
                    ("action", "direction", "frame"))


def attribute_codes(attributes: np.ndarray) -> np.ndarray:
    """Appearance attributes (N, 4) of value indices to attribute codes (N, 24) float32, one one-hot
    per attribute in the order of :data:`charlib.data.sprites.ATTRIBUTES`."""
    a = np.asarray(attributes)
    if a.ndim != 2 or a.shape[1] != len(sprites.ATTRIBUTE_SIZES):
        raise ShapeError(f"attributes must have shape (N, {len(sprites.ATTRIBUTE_SIZES)}), got {a.shape}")
    return _one_hots(a.T, sprites.ATTRIBUTE_SIZES, sprites.ATTRIBUTE_NAMES)


def attributes_from_logits(logits: np.ndarray) -> np.ndarray:
    """Attribute logits (N, 24), as :func:`make_attribute_encoder` outputs, to the most likely
    value of each attribute: int (N, 4)."""
    logits = np.asarray(logits)
    if logits.ndim != 2 or logits.shape[1] != N_ATTRIBUTE_CODE:
        raise ShapeError(f"attribute logits must have shape (N, {N_ATTRIBUTE_CODE}), got {logits.shape}")
    blocks = np.split(logits, np.cumsum(sprites.ATTRIBUTE_SIZES)[:-1], axis=1)
    return np.stack([block.argmax(axis=1) for block in blocks], axis=1).astype(np.int64)


def make_attribute_encoder(image_size: int = 32, latent_dim: int = 0, width: int = 32) -> keras.Model:
    """Reference frames (N, S, S, 3) in [-1, 1] -> [mu, logvar, attribute logits (N, 24)], or only
    the logits when ``latent_dim=0``: 4 blocks of 6, one classifier per attribute, on the VAE's trunk.

    A continuous part (mu, logvar) *can* carry the appearance too, and a decoder that learns to read
    it first may never use the labels (so it went on the sprites): keep ``latent_dim=0`` unless the
    labels leave something out.
    """
    if latent_dim < 0:
        raise ShapeError(f"latent_dim must be >= 0, got {latent_dim}")
    base = make_encoder(image_size, max(latent_dim, 1), width, name="identity_trunk")
    features = next(layer for layer in base.layers if isinstance(layer, layers.Flatten)).output
    logits = layers.Dense(N_ATTRIBUTE_CODE, name="attribute_logits", dtype="float32")(features)
    outputs = [*base.outputs, logits] if latent_dim else [logits]
    return keras.Model(base.input, outputs, name="attribute_encoder")


def make_identity_encoder(image_size: int = 32, latent_dim: int = 16, width: int = 32) -> keras.Model:
    """Reference frames (N, S, S, 3) in [-1, 1] -> [mu, logvar] of q(z_id | x_ref), each (N, latent_dim)."""
    return make_encoder(image_size, latent_dim, width, name="identity_encoder")


def palette_mix(features, code, palette: int):
    """Features (N, S, S, C) and a code (N, D) -> (N, S, S, 3): K = ``palette`` layer weights per pixel
    (softmax, layer ``"layers"``) mix K colours in [-1, 1] made from the code alone (``"palette"``)."""
    size = features.shape[1]
    weights = layers.Softmax(axis=-1, name="layers")(layers.Conv2D(palette, 3, padding="same")(features))
    weights = layers.Reshape((size * size, palette))(weights)  # (N, S*S, K)
    colours = layers.Dense(4 * palette, activation="gelu")(code)
    colours = layers.Dense(3 * palette, activation="tanh")(colours)
    colours = layers.Reshape((palette, 3), name="palette")(colours)
    return layers.Reshape((size, size, 3))(layers.Dot(axes=(2, 1))([weights, colours]))


def make_conditional_decoder(image_size: int = 32, latent_dim: int = 16, width: int = 32,
                             palette: int = 16) -> keras.Model:
    """[z (N, latent_dim), c (N, 14)] -> images (N, S, S, 3) in [-1, 1] (Gaussian means).

    Dense to 4x4, then one ``Conv2DTranspose`` doubling per stage, each given the condition as extra
    channels; ``palette=0`` ends in RGB and tanh, ``palette=K`` in :func:`palette_mix` of z alone.
    """
    if palette < 0 or palette == 1:
        raise ShapeError(f"palette must be 0 (plain decoder) or at least 2 layers, got {palette}")
    channels = _halving_channels(image_size, width)
    z = keras.Input((latent_dim,), name="z")
    c = keras.Input((N_CONDITION,), name="condition")
    x = layers.Dense(4 * 4 * channels[0])(layers.Concatenate()([z, c]))
    x = layers.ReLU()(layers.Reshape((4, 4, channels[0]))(x))
    for i, ch in enumerate([*channels[1:], None]):
        tiled = layers.Reshape((1, 1, N_CONDITION))(c)
        x = layers.Concatenate()([x, layers.UpSampling2D(4 * 2**i)(tiled)])
        if ch is None and not palette:
            x = layers.Conv2DTranspose(3, 4, strides=2, padding="same")(x)
        else:
            x = layers.ReLU()(layers.Conv2DTranspose(ch or channels[-1], 4, strides=2, padding="same")(x))
    if palette:
        x = palette_mix(x, z, palette)
    out = layers.Activation("linear" if palette else "tanh", dtype="float32", name="gaussian_params")(x)
    return keras.Model([z, c], out, name="conditional_decoder")
