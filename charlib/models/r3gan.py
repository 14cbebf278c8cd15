"""R3GAN's networks, small: residual generator and discriminator with no normalisation at all.

R3GAN (Huang, Gokaslan, Kuleshov and Tompkin, NeurIPS 2024, "The GAN is dead; long live the GAN! A
Modern GAN Baseline") pairs a well-behaved loss (relativistic pairing with zero-centred gradient
penalties on real *and* fake images, :func:`charlib.losses.rpgan_d_loss` and
:func:`charlib.losses.zero_centred_penalty`) with plain modern networks, and drops the older tricks:
no BatchNorm, no minibatch standard deviation, no packing, no progressive growing.
``GanConfig(nets="r3gan")`` (:class:`charlib.training.gan.R3GAN`) trains it.

Both networks are stacks of **stages**, one per resolution from 4x4 up, each a transition layer
(bilinear upsampling or 2x2 averaging, and a 1x1 convolution) plus one or two residual blocks
``x + conv1x1(act(conv3x3(act(conv1x1(x)))))``, ``act`` a LeakyReLU(0.2). (The paper's 3x3 is
grouped and its first 1x1 widens; TensorFlow differentiates grouped convolutions slowly on a CPU,
and the penalties differentiate D twice, so here the 3x3 is plain and the width stays.)
**Initialisation, not normalisation, keeps the signal in range**: the last convolution of every
branch starts at zero, so each block starts as the identity, and the fix-up rule shrinks the rest.
The generator starts from a learnt 4x4 basis (:class:`GenerativeBasis`) and its RGB output is
linear, as in the paper; the discriminator ends in a depthwise 4x4 convolution and a Dense layer,
and scores every image on its own, as the per-image penalties need.
"""

from __future__ import annotations

import math

import keras
from keras import layers, ops

from charlib.errors import ShapeError
from charlib.models.dcgan import _n_doublings

G_LOW_RES = 8  # the generator's stages up to 8x8 hold two residual blocks, the others one
D_LOW_RES = 4  # the discriminator's 4x4 stage holds two
LEAKY_SLOPE = 0.2
LEAKY_GAIN = math.sqrt(2.0 / (1.0 + LEAKY_SLOPE**2))  # keeps the variance through LeakyReLU(0.2)


def stage_channels(image_size: int, width: int) -> list[int]:
    """The channels of each stage, from 4x4 up to ``image_size``: ``width`` at full size, half a
    ``width`` more at each halving of the resolution, at most ``2 * width``."""
    if width < 1:
        raise ShapeError(f"width must be >= 1, got {width}")
    k = _n_doublings(image_size)
    return [round(width * min(2.0, 1.0 + 0.5 * (k - i))) for i in range(k + 1)]


def _msr(gain: float) -> keras.initializers.Initializer:
    """Weights ~ N(0, gain² / fan_in): the variance a layer followed by that gain passes on unchanged."""
    return keras.initializers.VarianceScaling(scale=gain**2, mode="fan_in", distribution="untruncated_normal")


@keras.saving.register_keras_serializable(package="charlib")
class GenerativeBasis(layers.Layer):
    """z (N, D) -> (N, 4, 4, C): C learnt 4x4 patterns, each scaled by one linear function of z.

    D·C + 16·C weights instead of a Dense layer's 16·D·C, and every sample starts from the same
    spatial layout, which z then modulates.
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
    """``x + branch(x)``: 1x1, 3x3, 1x1, LeakyReLU between, the last layer zero.

    ``n_blocks`` (all blocks of the network) scales the branch's first two layers by the fix-up
    rule ``L**(-1/(2m - 2))`` with m = 3 layers, i.e. ``L**(-1/4)`` on the standard deviation.
    """
    channels = x.shape[-1]
    gain = LEAKY_GAIN * n_blocks ** (-1.0 / 4.0)
    y = layers.Conv2D(channels, 1, kernel_initializer=_msr(gain), name=f"{name}_widen")(x)
    y = layers.LeakyReLU(LEAKY_SLOPE)(y)
    y = layers.Conv2D(channels, 3, padding="same", kernel_initializer=_msr(gain), name=f"{name}_conv")(y)
    y = layers.LeakyReLU(LEAKY_SLOPE)(y)
    y = layers.Conv2D(channels, 1, use_bias=False, kernel_initializer="zeros", name=f"{name}_narrow")(y)
    return layers.Add(name=name)([x, y])


def _blocks(resolution: int, low: int) -> int:
    """Residual blocks in the stage at ``resolution``: 2 up to ``low`` pixels, where they are cheap."""
    return 2 if resolution <= low else 1


def make_generator(latent_dim: int = 64, image_size: int = 32, width: int = 32,
                   name: str = "generator") -> keras.Model:
    """R3GAN generator: z (N, latent_dim) -> images (N, image_size, image_size, 3), linear output;
    two residual blocks in the 4x4 and 8x8 stages, one in each larger stage."""
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
    """R3GAN discriminator: images (N, image_size, image_size, 3) -> logits (N, 1), each image alone;
    one residual block per stage, two at 4x4."""
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
