"""R3GAN, trained: the relativistic pairing loss with R1 and R2 penalties, on the nets of
:mod:`charlib.models.r3gan`.

:class:`R3GAN` is the course's :class:`~charlib.training.gan_model.GAN` (same noise keyed by (seed, step),
same EMA generator, same checkpoints, so ``train_gan``, resume, ``charlib sample`` and
``charlib diagnose`` work unchanged) with its own ``train_step``:

1. draw z for this step and make fakes; D scores each real image and the fake paired with it;
2. D's loss is ``mean(softplus(D(fake) - D(real)))`` (:func:`charlib.losses.rpgan_d_loss`): rank
   each real above its fake. G's loss is the same pairs the other way round;
3. every ``reg_every`` steps D also pays ``reg_every · (γ₁/2 · R1 + γ₂/2 · R2)``, where R1 and R2
   are ``E‖∇ₓD(x)‖²`` at the real and at the fake images (:func:`charlib.losses.zero_centred_penalty`).
   Computing them every k-th step and scaling by k is lazy regularisation: about the same push on
   D for a fraction of the cost, since each penalty differentiates D twice;
4. both networks step from that one forward pass, then the EMA copy of G follows.

The logged ``d_real`` is ``mean(sigmoid(D(real) - D(fake)))``, how surely D ranks a real above its
paired fake, and ``d_fake = 1 - d_real``: an RpGAN discriminator's scores mean something only
relative to each other. Select it with ``GanConfig(nets="r3gan", loss="rpgan", ...)``, most simply
:func:`charlib.training.gan.r3gan_config`, or ``charlib train gan --nets r3gan``.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from charlib import losses
from charlib.training import hardware
from charlib.training.gan_model import GAN


class R3GAN(GAN):
    """A GAN trained with RpGAN + R1 + R2 (Huang et al. 2024).

    Args:
        generator, discriminator, latent_dim, ema_decay, seed, augment: as for :class:`GAN`.
        r1: γ of the R1 penalty at real images (0: off).
        r2: γ of the R2 penalty at generated images (0: off).
        reg_every: compute the penalties every this many steps, scaled by it.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, latent_dim: int,
                 ema_decay: float | None = None, seed: int = 0, augment: str = "", r1: float = 0.1,
                 r2: float = 0.1, reg_every: int = 4, **kwargs: Any) -> None:
        super().__init__(generator, discriminator, latent_dim, ema_decay=ema_decay, seed=seed,
                         augment=augment, r1=r1, **kwargs)
        self.gan_loss = None  # the pairing loss needs both logits: losses.rpgan_d_loss / rpgan_g_loss
        self.r2 = float(r2)
        self.reg_every = int(reg_every)

    def penalty(self, real: tf.Tensor, fake: tf.Tensor) -> tf.Tensor:
        """``reg_every · (γ₁/2 · R1(real) + γ₂/2 · R2(fake))``, fakes with G's gradient stopped."""
        r1 = losses.zero_centred_penalty(self.discriminator, real) if self.r1 else 0.0
        r2 = losses.zero_centred_penalty(self.discriminator, tf.stop_gradient(fake)) if self.r2 else 0.0
        return 0.5 * self.reg_every * (self.r1 * r1 + self.r2 * r2)

    def train_step(self, real: tf.Tensor) -> dict[str, tf.Tensor]:
        """One update of both networks on a batch of real images (N, H, W, 3) in [-1, 1]."""
        if isinstance(real, tuple):  # (images, labels) from a labelled dataset
            real = real[0]
        z = self.noise(tf.shape(real)[0], self.step)
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            fake = self.generator(z, training=True)
            if self.augment:  # DiffAugment: reals and fakes alike, penalties on what D sees
                real, fake = self.augment_pair(real, fake)
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = losses.rpgan_d_loss(real_logits, fake_logits)
            g_loss = losses.rpgan_g_loss(real_logits, fake_logits)
            penalty = tf.zeros(())
            if self.r1 or self.r2:  # lazily: every reg_every-th step, scaled up to match
                penalty = tf.cond(tf.equal(self.step % self.reg_every, 0),
                                  lambda: self.penalty(real, fake), lambda: tf.zeros(()))
            d_total = d_loss + penalty
        d_vars, g_vars = self.discriminator.trainable_variables, self.generator.trainable_variables
        d_grads = hardware.gradients(d_tape, d_total, d_vars, self.d_optimizer)
        g_grads = hardware.gradients(g_tape, g_loss, g_vars, self.g_optimizer)
        self.d_optimizer.apply_gradients(zip(d_grads, d_vars, strict=True))
        self.g_optimizer.apply_gradients(zip(g_grads, g_vars, strict=True))
        self.update_ema()
        self.step.assign_add(1)
        gap = tf.cast(real_logits - fake_logits, tf.float32)
        return {"d_loss": d_loss, "g_loss": g_loss,
                "d_real": tf.reduce_mean(tf.sigmoid(gap)), "d_fake": tf.reduce_mean(tf.sigmoid(-gap))}
