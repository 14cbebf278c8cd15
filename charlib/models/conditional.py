"""A conditional VAE that separates *who* a character is from *what pose* it is in.

To animate a generated character, every frame of its cycle must show the same character. A plain
generator cannot promise that: one latent code gives one picture, and nearby codes may drift in
colour or hair. Here the latent code is the character's *identity* alone, and the pose comes in as a
separate *condition* c = (action, direction, frame), as one-hot vectors (3 + 3 + 8 = 14 numbers).

Training uses pairs of frames of the same character: the encoder sees a *reference* frame in a
random pose and outputs q(z | x_ref); the decoder gets z and the *target* pose's condition and must
draw the same character in that pose. Because the reference pose is drawn independently of the
target, z can only help the decoder by carrying what all poses share, the appearance; the pose
comes from c. With the usual KL to N(0, I), a fresh z ~ N(0, I) is a new character, and decoding
it under the 8 frame conditions of a cycle animates it.

Networks: the encoder is the course VAE's (:func:`charlib.models.vae.make_encoder`); the decoder
below concatenates z and c, and gives every upsampling stage the condition again as extra
constant channels, so the pose does not have to survive the whole network in one Dense layer.

The decoder comes in two kinds. The *plain* one ends in a convolution to RGB, like the VAE's. The
*palette* one (the default, ``palette=K``) splits the picture the way the sprites themselves are
made: its convolutions paint a soft map of K layers for the pose (a softmax over K channels at
every pixel), and a small network of z alone gives each layer a colour; the picture is the
layer-weighted sum of the colours. Because the colours cannot depend on the pose, a character
keeps its colours in every frame by construction; the network still has to discover the layers
and palettes itself, from pixels. What it does not fix: a code between two characters still gets
a blended palette, which is why sampling uses an ex-post prior and a decode-encode refinement
(:mod:`charlib.training.conditional`).

A second kind of identity code removes the blends altogether: the *attribute* code. When the
training characters come with appearance labels (the sprites do: skin, hair, top, bottom, 6 values
each), the identity can be a set of discrete latent variables, one categorical per attribute, as
in the semi-supervised VAE of Kingma et al. (2014, "M2"): the encoder classifies the reference
frame into the 4 attributes (:func:`make_attribute_encoder`) and still outputs a small continuous
code for whatever the labels do not say; the decoder reads the 24 one-hot numbers and the continuous
code. A new character is a new draw of the 4 categoricals, so its code always sits exactly where
training put codes, and every frame of its cycle decodes the same identity. Measured figures:
``benchmarks/results/animation_full.md`` (continuous codes) and
``benchmarks/results/animation_attributes.md`` (attribute codes).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from charlib.data import skeleton as sk
from charlib.data import sprites
from charlib.errors import ShapeError
from charlib.models.dcgan import _n_doublings
from charlib.models.vae import make_encoder

#: Length of the condition vector: one-hot action, one-hot direction, one-hot frame.
N_CONDITION: int = len(sk.ACTIONS) + len(sk.DIRECTIONS) + sk.N_FRAMES
#: Length of an attribute code: one one-hot per appearance attribute (6 + 6 + 6 + 6 = 24).
N_ATTRIBUTE_CODE: int = int(sum(sprites.ATTRIBUTE_SIZES))

__all__ = ["N_ATTRIBUTE_CODE", "N_CONDITION", "attribute_codes", "attributes_from_logits",
           "condition_vectors", "make_attribute_encoder", "make_conditional_decoder",
           "make_identity_encoder", "palette_mix"]


def condition_vectors(action: np.ndarray | int, direction: np.ndarray | int,
                      frame: np.ndarray | int) -> np.ndarray:
    """Pose indices (N,) (or scalars, broadcast) to condition vectors (N, 14) float32.

    Columns: action one-hot (walk, wave, jump), direction one-hot (front, left, right), frame
    one-hot (0..7).
    """
    a, d, f = np.broadcast_arrays(np.atleast_1d(action), np.atleast_1d(direction),
                                  np.atleast_1d(frame))
    for values, n, what in ((a, len(sk.ACTIONS), "action"), (d, len(sk.DIRECTIONS), "direction"),
                            (f, sk.N_FRAMES, "frame")):
        if values.size and (values.min() < 0 or values.max() >= n):
            raise ShapeError(f"{what} indices must be in [0, {n}), got {values.min()}..{values.max()}")
    eye = np.eye
    return np.concatenate(
        [eye(len(sk.ACTIONS))[a], eye(len(sk.DIRECTIONS))[d], eye(sk.N_FRAMES)[f]], axis=-1
    ).astype(np.float32)


def attribute_codes(attributes: np.ndarray) -> np.ndarray:
    """Appearance attributes (N, 4) of value indices to attribute codes (N, 24) float32.

    Columns: skin one-hot, hair one-hot, top one-hot, bottom one-hot (the order of
    :data:`charlib.data.sprites.ATTRIBUTES`).
    """
    a = np.asarray(attributes)
    sizes = sprites.ATTRIBUTE_SIZES
    if a.ndim != 2 or a.shape[1] != len(sizes):
        raise ShapeError(f"attributes must have shape (N, {len(sizes)}), got {a.shape}")
    if a.size and (a.min() < 0 or np.any(a >= np.array(sizes))):
        raise ShapeError(f"attribute values out of range; sizes are {sizes}")
    return np.concatenate([np.eye(n, dtype=np.float32)[a[:, i]] for i, n in enumerate(sizes)], axis=-1)


def attributes_from_logits(logits: np.ndarray) -> np.ndarray:
    """Attribute logits (N, 24), as :func:`make_attribute_encoder` outputs, to the most likely
    value of each attribute: int (N, 4)."""
    logits = np.asarray(logits)
    if logits.ndim != 2 or logits.shape[1] != N_ATTRIBUTE_CODE:
        raise ShapeError(f"attribute logits must have shape (N, {N_ATTRIBUTE_CODE}), got {logits.shape}")
    bounds = np.cumsum((0,) + sprites.ATTRIBUTE_SIZES)
    return np.stack([logits[:, lo:hi].argmax(axis=1) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)],
                    axis=1).astype(np.int64)


def make_attribute_encoder(image_size: int = 32, latent_dim: int = 0, width: int = 32) -> keras.Model:
    """Reference frames (N, S, S, 3) in [-1, 1] -> [mu, logvar, attribute logits], or only
    [attribute logits] when ``latent_dim=0``.

    ``mu`` and ``logvar`` (N, latent_dim) describe the continuous part of the identity; the logits
    (N, 24) are 4 blocks of 6, one softmax classifier per appearance attribute (the discrete part).
    The convolutional trunk is the course VAE's encoder, shared by both parts.

    A continuous part is inferred from a picture of the same character, so it *can* carry the
    appearance too, and a decoder that learns to read it first may never use the labels (we saw
    exactly that on the sprites, whose appearance the labels describe completely). Keep
    ``latent_dim=0`` unless the labels leave something out.
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


def palette_mix(features, code, palette: int, hidden_activation: str = "relu"):
    """A picture painted in ``palette`` colour layers: features (N, S, S, C) and a code (N, D) ->
    (N, S, S, 3).

    A 3x3 convolution turns the features into K layer weights per pixel (a softmax, layer named
    ``"layers"``); a small network of the code alone (``4K`` units with ``hidden_activation``, then
    ``tanh``) gives each layer one colour, (N, K, 3) (layer named ``"palette"``); every pixel is the
    weighted sum of the colours. The palette decoder (:func:`make_conditional_decoder`) ends in it,
    with z as the code, so a character's colours cannot change with its pose.
    """
    size = features.shape[1]
    weights = layers.Softmax(axis=-1, name="layers")(layers.Conv2D(palette, 3, padding="same")(features))
    weights = layers.Reshape((size * size, palette))(weights)  # (N, S*S, K)
    colours = layers.Dense(4 * palette, activation=hidden_activation)(code)
    colours = layers.Dense(3 * palette, activation="tanh")(colours)
    colours = layers.Reshape((palette, 3), name="palette")(colours)  # (N, K, 3), from the code alone
    return layers.Reshape((size, size, 3))(layers.Dot(axes=(2, 1))([weights, colours]))


def make_conditional_decoder(image_size: int = 32, latent_dim: int = 16, width: int = 32,
                             n_condition: int = N_CONDITION, palette: int = 16) -> keras.Model:
    """[z (N, latent_dim), c (N, n_condition)] -> images (N, S, S, 3) in [-1, 1] (Gaussian means).

    Dense to 4x4, then one ``Conv2DTranspose`` doubling per stage; before each stage the condition
    is tiled over the feature map and concatenated as extra channels. ``palette=0`` ends in a
    convolution to RGB and tanh; ``palette=K`` ends in K layer weights (softmax per pixel) mixed
    with K colours (tanh) computed from z alone.
    """
    if palette < 0 or palette == 1:
        raise ShapeError(f"palette must be 0 (plain decoder) or at least 2 layers, got {palette}")
    k = _n_doublings(image_size)
    channels = [width * 2 ** (k - 1 - i) for i in range(k)]
    z = keras.Input((latent_dim,), name="z")
    c = keras.Input((n_condition,), name="condition")
    x = layers.Concatenate()([z, c])
    x = layers.Dense(4 * 4 * channels[0])(x)
    x = layers.Reshape((4, 4, channels[0]))(x)
    x = layers.ReLU()(x)
    resolution = 4
    for ch in channels[1:] + [None]:
        tiled = layers.Reshape((1, 1, n_condition))(c)
        tiled = layers.UpSampling2D(resolution)(tiled)
        x = layers.Concatenate()([x, tiled])
        if ch is None and not palette:
            x = layers.Conv2DTranspose(3, 4, strides=2, padding="same")(x)
        elif ch is None:
            x = layers.Conv2DTranspose(channels[-1], 4, strides=2, padding="same")(x)
            x = layers.ReLU()(x)
        else:
            x = layers.Conv2DTranspose(ch, 4, strides=2, padding="same")(x)
            x = layers.ReLU()(x)
        resolution *= 2
    if not palette:
        out = layers.Activation("tanh", dtype="float32", name="gaussian_params")(x)
        return keras.Model([z, c], out, name="conditional_decoder")
    mixed = palette_mix(x, z, palette, hidden_activation="gelu")  # colours from z alone, not the pose
    out = layers.Activation("linear", dtype="float32", name="gaussian_params")(mixed)
    return keras.Model([z, c], out, name="conditional_decoder")
