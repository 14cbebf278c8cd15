"""Training a GAN: the model with its ``train_step``, and ``train_gan`` that runs it in a run folder.

:class:`GAN` holds a generator and a discriminator. Its ``train_step`` is the whole algorithm in a
dozen lines: draw noise keyed by (seed, step) (so a resumed run continues exactly), make fakes,
score reals and fakes, and update both networks from one forward pass. An optional exponential
moving average (EMA) of the generator's weights gives smoother samples; its decay ramps up as
(1 + t) / (10 + t) towards ``ema_decay``. With ``lr_decay = f`` > 0 both learning rates fall
linearly to zero over the last fraction f of the run (:class:`LinearTail`), so the two networks
settle instead of circling each other. :class:`R3GAN` (``nets="r3gan"``) is the same model with
the modern baseline's ``train_step``.

:func:`train_gan` does everything around it (data, run folder, checkpoints, resume, samples,
TensorBoard, NaN guard); :func:`load_generator` rebuilds a trained generator from its run folder.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import keras
import numpy as np
import tensorflow as tf

from charlib import losses
from charlib.augment import diff_augment, parse_policy
from charlib.base.run import RunFolderError
from charlib.config import Profile, settings_for
from charlib.errors import CharlibError
from charlib.models import dcgan
from charlib.models import r3gan as r3gan_nets
from charlib.training import hardware
from charlib.training.trainer import (
    RunConfig,
    TrainedRun,
    fixed_noise,
    generate,
    restore_for_inference,
    train,
    train_or_load,
)

__all__ = ["GAN", "GanConfig", "LinearTail", "R3GAN", "R3GAN_DEFAULTS", "build_gan", "course_gan",
           "fixed_noise", "generate", "load_generator", "r3gan_config", "train_gan"]

MINIBATCH_STD_GROUP = 4  # samples per minibatch-std group when GanConfig.minibatch_std is on (ProGAN's)
NETS = ("dcgan", "reference", "r3gan")
# the DCGAN's options, at the values the reference and R3GAN nets (which lack them) need
DCGAN_ONLY = {"d_norm": "batch", "minibatch_std": False, "pack": 1}
REFERENCE_DEFAULTS = {"latent_dim": 100, "ema_decay": None}  # from_profile(nets="reference")
# R3GAN as r3gan_config sets it up: RpGAN with R1 and R2 at γ = 0.1, applied every 4 steps, Adam
# with β1 = 0 as in the paper, constant learning rates
R3GAN_DEFAULTS: dict[str, Any] = {"nets": "r3gan", "loss": "rpgan", "r1": 0.1, "r2": 0.1, "reg_every": 4,
                                  "beta_1": 0.0, "beta_2": 0.99, "lr_decay": 0.0, **DCGAN_ONLY}

# options measured no better than pacgan2-decay (benchmarks/results/remedies_sprites.md) and removed:
# their off value (so every config.json saved before still loads) and what each did
REMOVED_OPTIONS: dict[str, tuple[Any, str]] = {
    "instance_noise": (0.0, "Gaussian noise on every image the discriminator sees"),
    "palette": (0, "a generator that paints colour layers"),
    "clusters": (0, "conditioning on k-means colour clusters of the training images"),
}
REMOVED_AT = ("it measured no better than pacgan2-decay; check out commit 8d7b374 of the course to use it "
              "(the \"removed\" entry of benchmarks/results/remedies_sprites.json)")


@dataclass(frozen=True)
class GanConfig(RunConfig):
    """Everything that defines a GAN run; saved as the run folder's config.json."""

    kind: ClassVar[str] = "gan"
    architecture: ClassVar[tuple[str, ...]] = ("image_size", "latent_dim", "g_width", "d_width", "d_norm",
                                               "minibatch_std", "pack", "nets")
    removed: ClassVar[dict[str, tuple[Any, str]]] = REMOVED_OPTIONS
    removed_at: ClassVar[str] = REMOVED_AT

    latent_dim: int = 64  # 128 collapsed reliably in our runs on the sprites; 64 trains
    g_width: int = 32
    d_width: int = 32
    d_norm: str = "batch"
    loss: str = "nonsaturating"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta_1: float = 0.5
    beta_2: float = 0.999
    # the last fraction of the run over which both learning rates fall linearly to 0 (0: constant); the
    # schedule follows config.steps, so extending a finished run (--resume --steps) raises them again
    lr_decay: float = 0.0
    ema_decay: float | None = 0.995
    minibatch_std: bool = False  # remedies for mode collapse: see charlib.models.dcgan
    pack: int = 1
    augment: str = ""  # DiffAugment policy for small data, e.g. "color,translation,cutout"
    r1: float = 0.0  # γ of the R1 penalty (γ/2)·E‖∇D(real)‖² on D (Mescheder et al. 2018); 0: off
    # "dcgan": the course's nets; "reference": the TF-tutorial DCGAN (dcgan.reference_*, fixed widths;
    # its dropout is not keyed by (seed, step), so it resumes close to, not bit-identical with, an
    # uninterrupted run); "r3gan": the modern baseline (RpGAN, R1 + R2, no normalisation), see r3gan_config
    nets: str = "dcgan"
    # nets="r3gan": γ of the R2 penalty (γ/2)·E‖∇D(fake)‖², and how often R1 and R2 are computed
    # (every reg_every steps, scaled by reg_every: lazy regularisation)
    r2: float = 0.0
    reg_every: int = 1

    def _changed_from(self, fixed: dict[str, Any]) -> list[str]:
        """``name=value`` for each option of ``fixed`` that this config sets to something else."""
        return [f"{name}={getattr(self, name)!r}" for name, plain in fixed.items()
                if getattr(self, name) != plain]

    def __post_init__(self) -> None:
        if self.nets not in NETS:
            raise CharlibError(f"nets must be one of {NETS}, got {self.nets!r}")
        if self.nets == "r3gan":
            asked = self._changed_from(DCGAN_ONLY)
            if asked:
                raise CharlibError(f"nets='r3gan' has no normalisation and needs no batch tricks: drop "
                                   f"{', '.join(asked)} (those options are for nets='dcgan')")
            if self.loss != "rpgan":
                raise CharlibError(f"nets='r3gan' trains with loss='rpgan', got loss={self.loss!r}; "
                                   "r3gan_config(profile) sets up the whole recipe")
        elif self.loss == "rpgan":
            raise CharlibError("loss='rpgan' is R3GAN's pairing loss, for nets='r3gan' only")
        elif self.r2 or self.reg_every != 1:
            raise CharlibError("r2 and reg_every are for nets='r3gan'; the DCGAN applies r1 every step")
        if not self.r2 >= 0:  # also refuses nan
            raise CharlibError(f"r2 is a penalty weight, >= 0; got {self.r2}")
        if self.reg_every < 1:
            raise CharlibError(f"reg_every is a number of steps, >= 1; got {self.reg_every}")
        if self.nets == "reference":
            asked = self._changed_from(DCGAN_ONLY)
            if asked:
                raise CharlibError(f"nets='reference' is the TF-tutorial DCGAN as published, with no "
                                   f"{', '.join(asked)}; those options are for nets='dcgan'")
            if self.image_size % 8:
                raise CharlibError(f"nets='reference' needs an image_size that is a multiple of 8, "
                                   f"got {self.image_size}")
        if self.pack < 1 or self.batch_size % self.pack:
            raise CharlibError(f"pack={self.pack} must be >= 1 and divide batch_size={self.batch_size} "
                               "(PacGAN scores the batch in groups of pack images)")
        if self.minibatch_std and self.batch_size // self.pack < 2:
            raise CharlibError("minibatch_std needs at least 2 discriminator inputs per batch, got "
                               f"batch_size={self.batch_size} with pack={self.pack}")
        if not 0.0 <= self.lr_decay <= 1.0:
            raise CharlibError(f"lr_decay is the fraction of the run with falling learning rates, in [0, 1]; "
                               f"got {self.lr_decay}")
        if not self.r1 >= 0:  # also refuses nan
            raise CharlibError(f"r1 is a penalty weight, >= 0; got {self.r1}")
        parse_policy(self.augment)  # an unknown augmentation fails here, before any folder is written

    @classmethod
    def from_profile(cls, profile: Profile, **overrides: Any) -> GanConfig:
        """The course's settings for a profile (:data:`PROFILE_SETTINGS`), then ``overrides``; with
        ``nets="reference"``, also the tutorial's ``latent_dim=100`` and no EMA (as ``charlib bench``)."""
        base = cls(**settings_for(PROFILE_SETTINGS, profile), profile=profile.name)
        if overrides.get("nets") == "reference":
            base = replace(base, **REFERENCE_DEFAULTS)
        return replace(base, **overrides)


# The GAN of each profile, as data. All train at 32x32: at 64x64 the plain DCGAN collapses within 15
# minutes on 2 CPU cores (benchmarks/results/gan_full64.md; ask for image_size=64, ideally with
# augment="translation,cutout" and pack=2). learner: PacGAN2 (notebook 08), which at 5000 steps covers
# more modes than the plain DCGAN at about the same precision (lr_decay=0.5 covered a few more, less
# cleanly: benchmarks/results/learner_quality.md). full: the plain DCGAN benchmarks compare against.
PROFILE_SETTINGS: dict[str, dict[str, Any]] = {
    "smoke": {"image_size": 32, "latent_dim": 64, "g_width": 16, "d_width": 16, "batch_size": 32,
              "steps": 60, "n_data": 512, "sample_every": 30, "ckpt_every": 30, "log_every": 5,
              "n_samples": 16, "ema_decay": 0.99},
    "learner": {"image_size": 32, "batch_size": 64, "n_data": 20_000, "steps": 5000, "pack": 2,
                "sample_every": 500, "ckpt_every": 500, "max_minutes": 12.0},
    "full": {"image_size": 32, "batch_size": 64, "n_data": 20_000, "steps": 5000, "max_minutes": 15.0},
}


def r3gan_config(profile: Profile, **overrides: Any) -> GanConfig:
    """The profile's GAN settings (sizes, steps, data) with R3GAN's recipe (:data:`R3GAN_DEFAULTS`)
    on top, then ``overrides``: ``train_gan(r3gan_config(profile("learner")), out)``."""
    return GanConfig.from_profile(profile, **{**R3GAN_DEFAULTS, **overrides})


class LinearTail(keras.optimizers.schedules.LearningRateSchedule):
    """A learning rate ``base * clip((steps - t) / (fraction * steps), 0, 1)``: constant, then falling
    linearly to 0 over the last ``fraction`` of ``steps``. t is the optimiser's update count, which
    checkpoints keep, so a resumed run continues on the same schedule."""

    def __init__(self, base: float, steps: int, fraction: float) -> None:
        if not (0.0 < fraction <= 1.0 and steps > 0):
            raise CharlibError(f"LinearTail needs 0 < fraction <= 1 and steps > 0, got {fraction}, {steps}")
        self.base, self.steps, self.fraction = float(base), int(steps), float(fraction)

    def __call__(self, step):
        t = keras.ops.cast(step, "float32")
        left = (self.steps - t) / (self.fraction * self.steps)
        return self.base * keras.ops.clip(left, 0.0, 1.0)

    def get_config(self) -> dict[str, Any]:
        return {"base": self.base, "steps": self.steps, "fraction": self.fraction}


def learning_rate(base: float, config: GanConfig) -> float | LinearTail:
    """Adam's learning rate for a run: ``base``, or a :class:`LinearTail` when ``config.lr_decay`` > 0."""
    return LinearTail(base, config.steps, config.lr_decay) if config.lr_decay else base


class GAN(keras.Model):
    """A generator (z (N, latent_dim) -> images in [-1, 1]) and a discriminator (images -> logits
    (N, 1)) trained against each other with ``loss`` (a name in :data:`charlib.losses.GAN_LOSSES`).

    ``ema_decay`` None: no EMA copy; ``augment``: a DiffAugment policy applied to every image D sees;
    ``r1``: γ of the R1 penalty on D's gradient at real images (0: off).
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, latent_dim: int,
                 loss: str = "nonsaturating", ema_decay: float | None = None, seed: int = 0,
                 augment: str = "", r1: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.gan_loss = losses.get_gan_loss(loss)
        self.seed = seed
        self.ema_decay = ema_decay
        self.augment = parse_policy(augment)
        self.r1 = float(r1)
        self.ema_generator = None
        if ema_decay is not None:
            self.ema_generator = keras.models.clone_model(generator)
            self.ema_generator.set_weights(generator.get_weights())
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step",
                                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)

    def compile(self, g_optimizer: keras.optimizers.Optimizer,
                d_optimizer: keras.optimizers.Optimizer, **kwargs: Any) -> None:
        super().compile(**kwargs)
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        g_optimizer.build(self.generator.trainable_variables)
        d_optimizer.build(self.discriminator.trainable_variables)

    def noise(self, n: int, step: tf.Tensor) -> tf.Tensor:
        """Latent vectors (n, latent_dim) for a given step: the same step always gives the same z."""
        seed = tf.stack([tf.cast(self.seed, tf.int64), hardware.replica_key(step)])
        return tf.random.stateless_normal((n, self.latent_dim), seed=seed)

    def augment_pair(self, real: tf.Tensor, fake: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """DiffAugment real and fake images (N, H, W, 3), each with its own draw keyed by (seed, step)."""
        base = tf.stack([tf.cast(self.seed, tf.int64), tf.cast(self.step, tf.int64)])
        fold = tf.random.experimental.stateless_fold_in
        return (diff_augment(real, self.augment, seed=fold(base, 101)),
                diff_augment(fake, self.augment, seed=fold(base, 202)))

    def train_step(self, real: tf.Tensor) -> dict[str, tf.Tensor]:
        """One update of both networks on a batch of real images (N, H, W, 3) in [-1, 1]."""
        if isinstance(real, tuple):  # (images, labels) from a labelled dataset
            real = real[0]
        n = tf.shape(real)[0]
        z = self.noise(n, self.step)
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            fake = self.generator(z, training=True)
            if self.augment:  # DiffAugment: reals and fakes alike, before every look D takes
                real, fake = self.augment_pair(real, fake)
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = self.gan_loss.d_loss(real_logits, fake_logits)
            if self.gan_loss.gradient_penalty_weight:  # WGAN-GP
                gp_seed = tf.stack([tf.cast(self.seed + 1, tf.int64), hardware.replica_key(self.step)])
                gp = losses.gradient_penalty(self.discriminator, real, fake, seed=gp_seed)
                d_loss += self.gan_loss.gradient_penalty_weight * gp
            if self.r1:  # keep D smooth around the data: no sharp edges to push fakes off
                d_loss += 0.5 * self.r1 * losses.r1_penalty(self.discriminator, real)
            g_loss = self.gan_loss.g_loss(fake_logits)
        d_vars, g_vars = self.discriminator.trainable_variables, self.generator.trainable_variables
        # both gradients from the same D, before either network changes (loss-scaled, replica-averaged)
        d_grads = hardware.gradients(d_tape, d_loss, d_vars, self.d_optimizer)
        g_grads = hardware.gradients(g_tape, g_loss, g_vars, self.g_optimizer)
        self.d_optimizer.apply_gradients(zip(d_grads, d_vars, strict=True))
        self.g_optimizer.apply_gradients(zip(g_grads, g_vars, strict=True))
        self.update_ema()
        self.step.assign_add(1)
        return {
            "d_loss": d_loss,
            "g_loss": g_loss,
            "d_real": tf.reduce_mean(tf.sigmoid(real_logits)),
            "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits)),
        }

    def update_ema(self) -> None:
        """Move the EMA generator's weights towards the generator's (if there is an EMA copy)."""
        if self.ema_generator is not None:
            # warm-up: early on the average would be dominated by the random initial weights
            t = tf.cast(self.step, tf.float32)
            decay = tf.minimum(self.ema_decay, (1.0 + t) / (10.0 + t))
            for ema_w, w in zip(self.ema_generator.weights, self.generator.weights, strict=True):
                ema_w.assign(decay * ema_w + (1.0 - decay) * w)

    @property
    def sampler(self) -> keras.Model:
        """The generator used for pictures: the EMA copy when there is one."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    def checkpoint_objects(self) -> dict[str, object]:
        objects: dict[str, object] = {
            "generator": self.generator, "discriminator": self.discriminator,
            "g_optimizer": self.g_optimizer, "d_optimizer": self.d_optimizer, "step": self.step,
        }  # fmt: skip
        if self.ema_generator is not None:
            objects["ema_generator"] = self.ema_generator
        return objects


class R3GAN(GAN):
    """A GAN trained with RpGAN + R1 + R2 (Huang et al. 2024) on the nets of :mod:`charlib.models.r3gan`.

    The course's :class:`GAN` (same noise, EMA and checkpoints, so resume, ``charlib sample`` and
    ``charlib diagnose`` work unchanged) with its own ``train_step``. D's loss is
    ``mean(softplus(D(fake) - D(real)))`` over pairs of a real and a fake (rank each real above its
    fake), G's the same pairs the other way round. Every ``reg_every`` steps D also pays
    ``reg_every · (γ₁/2 · R1 + γ₂/2 · R2)``, R1 and R2 being ``E‖∇ₓD(x)‖²`` at the real and at the
    fake images: lazy regularisation, about the same push for a fraction of the cost, since each
    penalty differentiates D twice. The logged ``d_real`` is ``mean(sigmoid(D(real) - D(fake)))``
    and ``d_fake = 1 - d_real``: an RpGAN discriminator's scores mean something only relative to
    each other. Set it up with :func:`r3gan_config` or ``charlib train gan --nets r3gan``.
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


def build_gan(config: GanConfig) -> GAN:
    """Models and optimisers for a config, compiled and ready to train or restore."""
    def adam(base: float) -> keras.optimizers.Optimizer:
        return hardware.loss_scaled(keras.optimizers.Adam(learning_rate(base, config), beta_1=config.beta_1,
                                                          beta_2=config.beta_2), config.precision)

    shared = {"latent_dim": config.latent_dim, "ema_decay": config.ema_decay, "seed": config.seed,
              "augment": config.augment, "r1": config.r1}
    if config.nets == "r3gan":
        gan = R3GAN(r3gan_nets.make_generator(config.latent_dim, config.image_size, config.g_width),
                    r3gan_nets.make_discriminator(config.image_size, config.d_width),
                    r2=config.r2, reg_every=config.reg_every, **shared)
    elif config.nets == "reference":
        gan = GAN(dcgan.reference_generator(config.latent_dim, config.image_size),
                  dcgan.reference_discriminator(config.image_size), loss=config.loss, **shared)
    else:
        # WGAN-GP penalises per-example gradients, which BatchNorm would mix across the batch
        norm = "layer" if config.loss == "wgan-gp" and config.d_norm == "batch" else config.d_norm
        gan = GAN(dcgan.make_generator(config.latent_dim, config.image_size, config.g_width),
                  dcgan.make_discriminator(config.image_size, config.d_width, norm=norm, pack=config.pack,
                                           minibatch_std=MINIBATCH_STD_GROUP * config.minibatch_std),
                  loss=config.loss, **shared)
    gan.compile(g_optimizer=adam(config.lr_g), d_optimizer=adam(config.lr_d))
    return gan


def train_gan(config: GanConfig | None = None, out: str | Path = "outputs/gan", *, resume: bool = False,
              steps: int | None = None, images: np.ndarray | None = None,
              progress: bool = True, init_from: str | Path | None = None) -> TrainedRun:
    """Train (or resume) a GAN in the run folder ``out``; returns a :class:`TrainedRun`.

    ``config`` is ignored on resume (config.json is read back); ``steps`` sets a new total (to train
    a resumed run longer); ``images``, uint8 (N, H, W, 3), replace ``config.data``. ``init_from``
    fine-tunes: a new run starts from the latest weights of that GAN run folder (same
    ``GanConfig.architecture``; optimisers start fresh), so a small folder of similar art needs far
    fewer steps, though colours, styles and poses the source never saw must still be learnt.
    """

    def sampler(gan: GAN, cfg: GanConfig):
        z = fixed_noise(cfg)
        return lambda: generate(gan.sampler, z)

    return train(GanConfig, config, out, resume=resume, steps=steps, images=images, progress=progress,
                 build=build_gan, sampler=sampler, exported=lambda gan: gan.sampler, init_from=init_from)


def load_generator(run_dir: str | Path) -> tuple[keras.Model, GanConfig]:
    """The generator of a GAN run folder (EMA weights when used) from its latest checkpoint, so also
    mid-training; without one, the exported ``generator.keras`` (loaded with safe_mode)."""
    gan, config, run = restore_for_inference(GanConfig, run_dir, build_gan)
    if gan is not None:
        return gan.sampler, config
    if run.export_path.is_file():
        return keras.models.load_model(run.export_path, safe_mode=True), config
    raise RunFolderError(f"{run_dir} has no checkpoint and no generator.keras yet")


def course_gan(profile: Profile, out: str | Path | None = None, progress: bool = True,
               **overrides: Any) -> TrainedRun:
    """The course's DCGAN for a profile, trained once and reused (the run folder is the cache).

    The folder is ``outputs/gan_<profile>_<key>`` (or ``out``), where the key hashes the full config
    (the profile's settings with ``overrides``), the charlib source and the library versions
    (:func:`charlib.training.trainer.cache_key`), so changed config or code trains afresh.
    """
    return train_or_load(GanConfig, GanConfig.from_profile(profile, **overrides), out, train_gan, build_gan,
                         progress)
