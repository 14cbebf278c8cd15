"""R3GAN's networks, small: residual generator and discriminator with no normalisation at all.

R3GAN (Huang, Gokaslan, Kuleshov and Tompkin, NeurIPS 2024, "The GAN is dead; long live the GAN! A
Modern GAN Baseline") pairs a well-behaved loss (the relativistic pairing loss with zero-centred
gradient penalties on real *and* fake images, :func:`charlib.losses.rpgan_d_loss` and
:func:`charlib.losses.zero_centred_penalty`) with plain modern networks, and drops the tricks that
older GANs needed to train at all: no BatchNorm, no minibatch standard deviation, no packing, no
progressive growing. Notebook 08 ends with it as the modern answer to mode collapse, next to the
classic remedies; ``GanConfig(nets="r3gan")`` (:class:`charlib.training.gan.R3GAN`) trains it.

Both networks are stacks of **stages**, one per resolution (4x4, 8x8, ... up to the image size).
A stage is a transition layer plus one or two residual blocks of the paper's shape:

``x + conv1x1(act(conv3x3(act(conv1x1(x)))))``

``act`` is LeakyReLU(0.2) after a learnt bias. The paper's 3x3 convolution is grouped (ResNeXt)
and its first 1x1 convolution widens the features; on a CPU TensorFlow differentiates grouped
convolutions far more slowly than plain ones, and the penalties below differentiate D twice, so
here the 3x3 convolution is a plain one and the width stays (:data:`EXPANSION` = 1).

**Initialisation, not normalisation, keeps the signal in range.** The last convolution of every
residual branch starts at exactly zero, so at initialisation each block is the identity and the
whole network is a short, well-scaled chain of transition layers; the other branch layers start
with variance ``gain² / fan_in`` shrunk by ``L**(-1/2)`` for L blocks (the fix-up rule for three
layers per branch), so the blocks that then learn do not blow the signal up as they add their
outputs together.

The generator starts from a learnt 4x4 basis (:class:`GenerativeBasis`: each of the ``C`` feature
maps is a learnt 4x4 pattern scaled by a linear function of z), then each stage doubles the
resolution with bilinear upsampling and a 1x1 convolution that narrows the channels, and a 1x1
convolution turns the last features into RGB. Its output is linear, as in the paper (the sample
grids clip it to [-1, 1]). The discriminator mirrors it: a 1x1 convolution lifts RGB to features,
each stage ends by halving the resolution with 2x2 averaging (bilinear downsampling by two) and a
1x1 convolution that widens the channels, and at 4x4 a depthwise 4x4 convolution and a Dense layer
give one logit per image. D scores every image on its own (nothing mixes the batch), which the
per-image gradient penalties need.

Channels (:func:`stage_channels`) are ``width`` at full size, half a ``width`` more at each halving
of the resolution, at most ``2 * width``; the extra blocks sit where pixels are few and blocks
cheap (the generator's 4x4 and 8x8 stages, the discriminator's 4x4 stage).
At ``width=32`` and 32x32, ``count_params()`` finds between 200k and 250k weights in G and a
little under 200k in D (tests/test_r3gan.py checks the ranges).
"""

from __future__ import annotations

import math

import keras
from keras import layers, ops

from charlib.errors import ShapeError

EXPANSION = 1  # the residual branch's first 1x1 convolution widens the features this many times
G_LOW_RES = 8  # the generator's stages up to 8x8 hold two residual blocks, the others one
D_LOW_RES = 4  # the discriminator's 4x4 stage holds two
LEAKY_SLOPE = 0.2
LEAKY_GAIN = math.sqrt(2.0 / (1.0 + LEAKY_SLOPE**2))  # keeps the variance through LeakyReLU(0.2)


def _n_stages(image_size: int) -> int:
    n = math.log2(image_size / 4)
    if image_size < 8 or not n.is_integer():
        raise ShapeError(f"image_size must be 4 * 2**k (8, 16, 32, 64, 128...), got {image_size}")
    return int(n) + 1


def stage_channels(image_size: int, width: int) -> list[int]:
    """The channels of each stage, from 4x4 up to ``image_size``: ``width`` at full size, half a
    ``width`` more at each halving of the resolution, at most ``2 * width``."""
    if width < 1:
        raise ShapeError(f"width must be >= 1, got {width}")
    n = _n_stages(image_size)
    return [round(width * min(2.0, 1.0 + 0.5 * (n - 1 - i))) for i in range(n)]


def _msr(gain: float) -> keras.initializers.Initializer:
    """Weights ~ N(0, gain² / fan_in): the variance a layer followed by that gain passes on unchanged."""
    return keras.initializers.VarianceScaling(scale=gain**2, mode="fan_in", distribution="untruncated_normal")


@keras.saving.register_keras_serializable(package="charlib")
class GenerativeBasis(layers.Layer):
    """z (N, D) -> (N, 4, 4, C): C learnt 4x4 patterns, each scaled by one linear function of z.

    R3GAN's first generator layer; cheaper than a Dense layer to 4·4·C (D·C + 16·C weights instead
    of 16·D·C) and it starts every sample from the same spatial layout, which z then modulates.
    """

    def __init__(self, channels: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.channels = int(channels)

    def build(self, input_shape) -> None:
        self.basis = self.add_weight(name="basis", shape=(4, 4, self.channels),
                                     initializer=keras.initializers.RandomNormal(0.0, 1.0))
        self.kernel = self.add_weight(name="kernel", shape=(int(input_shape[-1]), self.channels),
                                      initializer=_msr(1.0))

    def call(self, z):
        scale = ops.matmul(z, ops.cast(self.kernel, z.dtype))  # (N, C)
        return ops.cast(self.basis, z.dtype)[None] * scale[:, None, None, :]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 4, 4, self.channels)

    def get_config(self) -> dict:
        return {**super().get_config(), "channels": self.channels}


def residual_block(x, n_blocks: int, name: str):
    """``x + branch(x)``: 1x1 widen, 3x3, 1x1 narrow, LeakyReLU between, the last layer zero.

    ``n_blocks`` (all blocks of the network) scales the branch's first two layers by the fix-up
    rule ``L**(-1/(2m - 2))`` with m = 3 layers, i.e. ``L**(-1/4)`` on the standard deviation.
    """
    channels = x.shape[-1]
    wide = channels * EXPANSION
    gain = LEAKY_GAIN * n_blocks ** (-1.0 / 4.0)
    y = layers.Conv2D(wide, 1, kernel_initializer=_msr(gain), name=f"{name}_widen")(x)
    y = layers.LeakyReLU(LEAKY_SLOPE)(y)
    y = layers.Conv2D(wide, 3, padding="same", kernel_initializer=_msr(gain), name=f"{name}_conv")(y)
    y = layers.LeakyReLU(LEAKY_SLOPE)(y)
    y = layers.Conv2D(channels, 1, use_bias=False, kernel_initializer="zeros", name=f"{name}_narrow")(y)
    return layers.Add(name=name)([x, y])


def _blocks(resolution: int, low: int) -> int:
    """Residual blocks in the stage at ``resolution``: 2 up to ``low`` pixels, where they are cheap."""
    return 2 if resolution <= low else 1


def make_generator(latent_dim: int = 64, image_size: int = 32, width: int = 32,
                   name: str = "generator") -> keras.Model:
    """R3GAN generator: z (N, latent_dim) -> images (N, image_size, image_size, 3), linear output.

    Two residual blocks in the 4x4 and 8x8 stages, one in each larger stage; see the module
    docstring for the layers and their initialisation.
    """
    channels = stage_channels(image_size, width)
    counts = [_blocks(4 * 2**i, G_LOW_RES) for i in range(len(channels))]
    z = keras.Input((latent_dim,), name="z")
    x = GenerativeBasis(channels[0], name="basis")(z)
    for i, (c, n) in enumerate(zip(channels, counts, strict=True)):
        if i:  # narrow, then double the resolution
            x = layers.Conv2D(c, 1, use_bias=False, kernel_initializer=_msr(1.0), name=f"narrow_{i}")(x)
            x = layers.UpSampling2D(2, interpolation="bilinear", name=f"up_{i}")(x)
        for j in range(n):
            x = residual_block(x, sum(counts), name=f"block_{i}_{j}")
    x = layers.Conv2D(3, 1, use_bias=False, kernel_initializer=_msr(1.0), name="to_rgb")(x)
    images = layers.Activation("linear", dtype="float32", name="image")(x)
    return keras.Model(z, images, name=name)


def make_discriminator(image_size: int = 32, width: int = 32, name: str = "discriminator") -> keras.Model:
    """R3GAN discriminator: images (N, image_size, image_size, 3) -> logits (N, 1), each image alone.

    One residual block per stage, two at 4x4.
    """
    channels = stage_channels(image_size, width)[::-1]  # from full size down to 4x4
    counts = [_blocks(image_size // 2**i, D_LOW_RES) for i in range(len(channels))]
    images = keras.Input((image_size, image_size, 3), name="image")
    x = layers.Conv2D(channels[0], 1, use_bias=False, kernel_initializer=_msr(1.0), name="from_rgb")(images)
    for i, n in enumerate(counts):
        for j in range(n):
            x = residual_block(x, sum(counts), name=f"block_{i}_{j}")
        if i + 1 < len(channels):  # halve the resolution, then widen
            x = layers.AveragePooling2D(2, name=f"down_{i}")(x)
            x = layers.Conv2D(channels[i + 1], 1, use_bias=False, kernel_initializer=_msr(1.0),
                              name=f"widen_{i}")(x)
    x = layers.DepthwiseConv2D(4, use_bias=False, depthwise_initializer=_msr(1.0), name="basis")(x)
    x = layers.Flatten()(x)
    logits = layers.Dense(1, use_bias=False, kernel_initializer=_msr(1.0), dtype="float32", name="logit")(x)
    return keras.Model(images, logits, name=name)
