"""Training a VAE: the model with its ``train_step``, and ``train_vae`` that runs it in a run folder.

:class:`VAE` maximises the evidence lower bound (ELBO) on log p(x),

    ELBO(x) = E_{q(z|x)}[log p(x|z)] - KL(q(z|x) || p(z)),

by minimising its negative, ``recon_nll + beta * KL``, per image in nats: the expectation from one
reparameterised sample ``z = mu + sigma * eps`` (eps keyed by (seed, step), so a resumed run
continues exactly), the KL to the standard normal prior in closed form. Bits per dimension are of
a *continuous* density on [-1, 1] pixels (they can be negative); add 7 bits/dim (-log2 of the
2/256 bin width) to compare with papers' 8-bit figures, and never compare a Bernoulli likelihood's.

Options that the maths notebook motivates: ``beta`` (beta-VAE), a linear KL warm-up over
``kl_warmup_steps`` against posterior collapse, ``free_bits`` (a floor, in nats, on each latent
dimension's batch-mean KL), and the likelihood: Gaussian with a fixed ``sigma`` (in [-1, 1] pixel
units; a smaller sigma gives sharper samples and a larger KL) or Bernoulli on intensities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import keras
import numpy as np
import tensorflow as tf

from charlib import losses
from charlib.config import Profile, settings_for
from charlib.data.pipeline import to_float, to_uint8
from charlib.models import vae as vae_models
from charlib.models.latent_prior import GaussianMixturePrior, fit_gaussian_mixture
from charlib.training import hardware
from charlib.training.trainer import (
    RunConfig,
    TrainedRun,
    fixed_noise,
    in_batches,
    load_trained,
    load_training_images,
    train,
    train_or_load,
)


@dataclass(frozen=True)
class VaeConfig(RunConfig):
    """Everything that defines a VAE run; saved as the run folder's config.json."""

    kind: ClassVar[str] = "vae"
    architecture: ClassVar[tuple[str, ...]] = ("image_size", "latent_dim", "width", "likelihood")

    latent_dim: int = 32
    width: int = 32
    likelihood: str = "gaussian"
    sigma: float = 0.1
    beta: float = 1.0
    kl_warmup_steps: int = 500
    free_bits: float = 0.0
    lr: float = 1e-3
    flip: bool = False

    @classmethod
    def from_profile(cls, profile: Profile, **overrides: Any) -> VaeConfig:
        """The course's settings for a profile (:data:`PROFILE_SETTINGS`), then ``overrides``."""
        return replace(cls(**settings_for(PROFILE_SETTINGS, profile), profile=profile.name), **overrides)


# The VAE of each profile, as data. sigma 0.2 rather than the class default 0.1: 0.1 left more of the
# prior empty (benchmarks/results/vae_full.md). learner trains at 32x32, the size the GAN and the
# attribute classifier use; full at 64x64.
PROFILE_SETTINGS: dict[str, dict[str, Any]] = {
    "smoke": {"image_size": 32, "latent_dim": 16, "width": 16, "batch_size": 32, "steps": 60,
              "n_data": 512, "sample_every": 30, "ckpt_every": 30, "log_every": 5, "n_samples": 16,
              "kl_warmup_steps": 30},
    "learner": {"image_size": 32, "batch_size": 64, "n_data": 20_000, "steps": 4000, "max_minutes": 10.0,
                "kl_warmup_steps": 500, "sigma": 0.2, "sample_every": 500, "ckpt_every": 500},
    "full": {"image_size": 64, "batch_size": 64, "n_data": 20_000, "steps": 6000, "max_minutes": 15.0,
             "kl_warmup_steps": 1000, "sigma": 0.2},
}


class EncoderDecoder(keras.Model):
    """What the VAE and the conditional VAE share: an encoder and a decoder trained by one optimiser,
    a ``step`` counter that keys each step's noise, and a KL weight warmed up from the config (a
    :class:`VaeConfig` or a ``ConditionalConfig``: both have ``beta`` and ``kl_warmup_steps``)."""

    def __init__(self, encoder: keras.Model, decoder: keras.Model, config: RunConfig,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.encoder, self.decoder, self.config = encoder, decoder, config
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step",
                                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)

    def compile(self, optimizer: keras.optimizers.Optimizer, **kwargs: Any) -> None:
        super().compile(**kwargs)
        self.vae_optimizer = optimizer
        optimizer.build(self.trainable_variables)

    def beta_now(self) -> tf.Tensor:
        """The KL weight at the current step: ``beta`` ramped up linearly over ``kl_warmup_steps``."""
        if not self.config.kl_warmup_steps:
            return tf.constant(self.config.beta)
        ramp = tf.minimum(1.0, tf.cast(self.step, tf.float32) / float(self.config.kl_warmup_steps))
        return self.config.beta * ramp

    def step_seed(self) -> tf.Tensor:
        """The (seed, step) key of this step's reparameterisation noise (one per replica)."""
        return tf.stack([tf.cast(self.config.seed, tf.int64), hardware.replica_key(self.step)])

    def descend(self, tape: tf.GradientTape, loss: tf.Tensor) -> None:
        """One optimiser step on ``loss`` (loss-scaled, replica-averaged gradients), then ``step += 1``."""
        variables = self.trainable_variables
        grads = hardware.gradients(tape, loss, variables, self.vae_optimizer)
        self.vae_optimizer.apply_gradients(zip(grads, variables, strict=True))
        self.step.assign_add(1)

    def checkpoint_objects(self) -> dict[str, object]:
        return {"encoder": self.encoder, "decoder": self.decoder, "optimizer": self.vae_optimizer,
                "step": self.step}


class VAE(EncoderDecoder):
    """An encoder q(z|x) (images in [-1, 1] -> [mu, logvar]) and a decoder p(x|z) (z -> likelihood
    parameters (N, S, S, 3)) trained on the negative ELBO."""

    @property
    def n_dims(self) -> int:
        return self.config.image_size * self.config.image_size * 3

    def reconstruction_nll(self, x: tf.Tensor, params: tf.Tensor) -> tf.Tensor:
        """-log p(x|z) per image (N,), in nats, for images x in [-1, 1]."""
        if self.config.likelihood == "gaussian":
            return losses.gaussian_nll(x, params, log_sigma=math.log(self.config.sigma))
        return losses.bernoulli_nll((x + 1.0) / 2.0, params)

    def terms(self, x: tf.Tensor, seed: tf.Tensor | None = None,
              training: bool = False) -> dict[str, tf.Tensor]:
        """Per-image (N,) reconstruction NLL and KL, plus mu, logvar and decoder params."""
        mu, logvar = self.encoder(x, training=training)
        z = losses.reparameterize(mu, logvar, seed=seed)
        params = self.decoder(z, training=training)
        kl_per_dim = losses.kl_standard_normal_per_dim(mu, logvar)
        return {"recon": self.reconstruction_nll(x, params),
                "kl": tf.reduce_sum(kl_per_dim, axis=-1),
                "kl_per_dim": kl_per_dim,
                "mu": mu, "logvar": logvar, "params": params}

    def train_step(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
        """One gradient step on a batch of images (N, S, S, 3) in [-1, 1]."""
        if isinstance(x, tuple):
            x = x[0]
        beta = self.beta_now()
        with tf.GradientTape() as tape:
            t = self.terms(x, seed=self.step_seed(), training=True)
            recon = tf.reduce_mean(t["recon"])
            kl = tf.reduce_mean(t["kl"])
            if self.config.free_bits > 0:
                kl_dims = tf.reduce_mean(t["kl_per_dim"], axis=0)
                kl_objective = tf.reduce_sum(tf.maximum(kl_dims, self.config.free_bits))
            else:
                kl_objective = kl
            loss = recon + beta * kl_objective
        self.descend(tape, loss)
        neg_elbo = recon + kl
        return {"loss": loss, "recon": recon, "kl": kl, "elbo": -neg_elbo,
                "bpd": losses.bits_per_dim(neg_elbo, self.n_dims), "beta": beta}

    def decode_images(self, z: np.ndarray | tf.Tensor) -> tf.Tensor:
        """Decode latents (N, latent_dim) into images in [-1, 1] (the likelihood's mean)."""
        return vae_models.decoder_to_images(self.decoder(z, training=False), self.config.likelihood)


def build_vae(config: VaeConfig) -> VAE:
    """Encoder, decoder and optimiser for a config, compiled and ready to train or restore."""
    vae = VAE(vae_models.make_encoder(config.image_size, config.latent_dim, config.width),
              vae_models.make_decoder(config.image_size, config.latent_dim, config.width, config.likelihood),
              config)
    vae.compile(hardware.loss_scaled(keras.optimizers.Adam(config.lr), config.precision))
    return vae


def decode(vae: VAE, z: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Decode latents (N, latent_dim) to uint8 images (N, S, S, 3)."""
    return to_uint8(in_batches(vae.decode_images, z, batch_size=batch_size))


def encode(vae: VAE, images: np.ndarray, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Posterior parameters of uint8 images (N, S, S, 3): (mu, logvar), each (N, latent_dim)."""
    return in_batches(lambda x: vae.encoder(to_float(x), training=False), images, batch_size=batch_size)


def reconstruct(vae: VAE, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Encode uint8 images and decode their posterior means: uint8 reconstructions, same shape."""
    mu, _ = encode(vae, images, batch_size)
    return decode(vae, mu, batch_size)


def evaluate(vae: VAE, images: np.ndarray, batch_size: int = 256, seed: int = 0) -> dict[str, float]:
    """Mean reconstruction NLL, KL, ELBO (nats per image), bits per dim and pixel MSE on images."""
    sums = {"recon": 0.0, "kl": 0.0, "mse": 0.0}
    for i in range(0, len(images), batch_size):
        x = to_float(images[i : i + batch_size])
        t = vae.terms(x, seed=tf.constant([seed, i], tf.int64))
        sums["recon"] += float(tf.reduce_sum(t["recon"]))
        sums["kl"] += float(tf.reduce_sum(t["kl"]))
        mean = vae_models.decoder_to_images(t["params"], vae.config.likelihood)
        sums["mse"] += float(tf.reduce_sum(tf.reduce_mean(tf.square((mean - x) / 2.0), axis=[1, 2, 3])))
    n = len(images)
    recon, kl = sums["recon"] / n, sums["kl"] / n
    return {"recon_nats": recon, "kl_nats": kl, "elbo_nats": -(recon + kl),
            "bits_per_dim": float(losses.bits_per_dim(recon + kl, vae.n_dims)),
            "pixel_mse_01": sums["mse"] / n}


def train_vae(config: VaeConfig | None = None, out: str | Path = "outputs/vae", *, resume: bool = False,
              steps: int | None = None, images: np.ndarray | None = None,
              progress: bool = True, init_from: str | Path | None = None) -> TrainedRun:
    """Train (or resume) a VAE in the run folder ``out``, with the arguments of ``train_gan``; the
    sample grid decodes fixed z ~ N(0, I), and ``generator.keras`` is the decoder."""
    return train(VaeConfig, config, out, resume=resume, steps=steps, images=images, progress=progress,
                 build=build_vae, sampler=lambda vae, cfg: partial(decode, vae, fixed_noise(cfg)),
                 exported=lambda vae: vae.decoder, init_from=init_from)


def load_vae(run_dir: str | Path) -> tuple[VAE, VaeConfig]:
    """The VAE of a run folder, rebuilt from config.json and its latest checkpoint."""
    return load_trained(VaeConfig, run_dir, build_vae)


def course_vae(profile: Profile, out: str | Path | None = None, progress: bool = True,
               **overrides: Any) -> TrainedRun:
    """The course's VAE for a profile, trained once into ``outputs/vae_<profile>_<key>`` and then
    reused, like :func:`charlib.training.gan.course_gan`."""
    return train_or_load(VaeConfig, VaeConfig.from_profile(profile, **overrides), out, train_vae, build_vae,
                         progress)


PRIOR_COMPONENTS = 50  # 10 and 50 both gave >= 98% of modes; 50 gave the higher precision (vae_prior.md)


def fit_latent_prior(vae: VAE, images: np.ndarray, n_components: int = PRIOR_COMPONENTS,
                     seed: int = 0) -> GaussianMixturePrior:
    """An ex-post prior: a Gaussian mixture fitted to the encoder means of uint8 images (N, S, S, 3).
    Sampling z from it instead of N(0, I) keeps z where the decoder was trained, which turns most
    smudges of a short-trained VAE into characters (``benchmarks/results/vae_prior.md``)."""
    mu, _ = encode(vae, images)
    return fit_gaussian_mixture(mu, n_components=min(n_components, len(mu)), seed=seed)


def latent_prior(run_dir: str | Path, n_components: int = PRIOR_COMPONENTS, n_images: int = 10_000,
                 seed: int = 0) -> GaussianMixturePrior:
    """The ex-post prior of a VAE run folder: :func:`fit_latent_prior` on (at most ``n_images`` of)
    the run's training images, saved as ``latent_prior_step<step>_k<n_components>.npz`` so that a
    later call on the same checkpoint does not refit."""
    vae, config = load_vae(run_dir)
    path = Path(run_dir) / f"latent_prior_step{int(vae.step.numpy())}_k{n_components}.npz"
    if path.is_file():
        return GaussianMixturePrior.load(path)
    config = replace(config, n_data=min(config.n_data, n_images))  # an image folder is read whole
    images = load_training_images(config, verbose=False)[:n_images]
    prior = fit_latent_prior(vae, images, n_components, seed)
    prior.save(path)
    return prior

