"""Training a GAN: the model with its ``train_step``, and ``train_gan`` that runs it in a run folder.

:class:`GAN` is a ``keras.Model`` holding a generator and a discriminator. Its ``train_step`` is the
whole algorithm in a dozen lines: draw noise, make fakes, score reals and fakes, and update both
networks from one forward pass (the discriminator to tell them apart, the generator to fool it).
Noise is drawn from a stateless generator keyed by (seed, step), so a run resumed from a checkpoint
continues exactly as if it had never stopped. An optional exponential moving average (EMA) of the
generator's weights gives smoother samples.

:func:`train_gan` is the one call that does everything around it (data, run folder, checkpoints,
resume, samples, TensorBoard, NaN guard), and :func:`load_generator` rebuilds a trained generator
from nothing but its run folder.
"""

from __future__ import annotations

import platform
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from charlib import __version__, losses
from charlib.config import Profile, seed_everything
from charlib.data.pipeline import make_dataset, to_uint8
from charlib.errors import CharlibError
from charlib.models import dcgan
from charlib.training.loop import Checkpointer, LoopSettings, run_loop
from charlib.training.run import RunFolder, RunFolderError


@dataclass(frozen=True)
class GanConfig:
    """Everything that defines a GAN run; saved as the run folder's config.json."""

    image_size: int = 64
    latent_dim: int = 128
    g_width: int = 32
    d_width: int = 32
    loss: str = "nonsaturating"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta_1: float = 0.5
    beta_2: float = 0.999
    batch_size: int = 64
    steps: int = 3000
    ema_decay: float | None = 0.999
    flip: bool = True
    data: str = "sprites"
    n_data: int = 20_000
    seed: int = 0
    log_every: int = 10
    sample_every: int = 250
    ckpt_every: int = 250
    n_samples: int = 64
    max_minutes: float | None = None
    profile: str = "custom"

    @classmethod
    def from_profile(cls, profile: Profile, **overrides: Any) -> GanConfig:
        """The course's settings for a profile: ``smoke`` finishes in seconds, ``full`` in minutes."""
        if profile.name == "smoke":
            base = cls(image_size=32, latent_dim=64, g_width=16, d_width=16, batch_size=32, steps=60,
                       n_data=512, sample_every=30, ckpt_every=30, log_every=5, n_samples=16,
                       ema_decay=0.99, profile="smoke")
        else:
            base = cls(image_size=profile.image_size, batch_size=profile.batch_size,
                       n_data=profile.n_sprites, steps=5000, max_minutes=15.0, profile=profile.name)
        return replace(base, **overrides)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GanConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def to_dict(self) -> dict[str, Any]:
        return {"model": "gan", **asdict(self), "versions": _versions()}


def _versions() -> dict[str, str]:
    return {"charlib": __version__, "tensorflow": tf.__version__, "keras": keras.__version__,
            "python": platform.python_version()}


class GAN(keras.Model):
    """A generator and a discriminator trained against each other.

    Args:
        generator: z (N, latent_dim) -> images (N, H, W, 3) in [-1, 1].
        discriminator: images -> logits (N, 1).
        latent_dim: size of z.
        loss: a name in :data:`charlib.losses.GAN_LOSSES`.
        ema_decay: keep an exponential moving average of the generator's weights (None: off).
        seed: keys the noise of every step.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, latent_dim: int,
                 loss: str = "nonsaturating", ema_decay: float | None = None, seed: int = 0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.gan_loss = losses.get_gan_loss(loss)
        self.seed = seed
        self.ema_decay = ema_decay
        self.ema_generator = None
        if ema_decay is not None:
            self.ema_generator = keras.models.clone_model(generator)
            self.ema_generator.set_weights(generator.get_weights())
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")

    def compile(self, g_optimizer: keras.optimizers.Optimizer,
                d_optimizer: keras.optimizers.Optimizer, **kwargs: Any) -> None:
        super().compile(**kwargs)
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        g_optimizer.build(self.generator.trainable_variables)
        d_optimizer.build(self.discriminator.trainable_variables)

    def noise(self, n: int, step: tf.Tensor) -> tf.Tensor:
        """Latent vectors (n, latent_dim) for a given step: the same step always gives the same z."""
        seed = tf.stack([tf.cast(self.seed, tf.int64), tf.cast(step, tf.int64)])
        return tf.random.stateless_normal((n, self.latent_dim), seed=seed)

    def train_step(self, real: tf.Tensor) -> dict[str, tf.Tensor]:
        """One update of both networks on a batch of real images (N, H, W, 3) in [-1, 1]."""
        if isinstance(real, tuple):  # (images, labels) from a labelled dataset
            real = real[0]
        n = tf.shape(real)[0]
        z = self.noise(n, self.step)
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            fake = self.generator(z, training=True)
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = self.gan_loss.d_loss(real_logits, fake_logits)
            if self.gan_loss.gradient_penalty_weight:
                gp_seed = tf.stack([tf.cast(self.seed + 1, tf.int64), self.step])
                gp = losses.gradient_penalty(self.discriminator, real, fake, seed=gp_seed)
                d_loss += self.gan_loss.gradient_penalty_weight * gp
            g_loss = self.gan_loss.g_loss(fake_logits)
        d_vars = self.discriminator.trainable_variables
        g_vars = self.generator.trainable_variables
        self.d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, d_vars), d_vars, strict=True))
        self.g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars, strict=True))
        if self.ema_generator is not None:
            for ema_w, w in zip(self.ema_generator.weights, self.generator.weights, strict=True):
                ema_w.assign(self.ema_decay * ema_w + (1.0 - self.ema_decay) * w)
        self.step.assign_add(1)
        return {
            "d_loss": d_loss,
            "g_loss": g_loss,
            "d_real": tf.reduce_mean(tf.sigmoid(real_logits)),
            "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits)),
        }

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


def build_gan(config: GanConfig) -> GAN:
    """Models and optimisers for a config, compiled and ready to train or restore."""
    gan = GAN(
        dcgan.make_generator(config.latent_dim, config.image_size, config.g_width),
        # WGAN-GP penalises per-example gradients, which BatchNorm would mix across the batch
        dcgan.make_discriminator(config.image_size, config.d_width,
                                 norm="layer" if config.loss == "wgan-gp" else "batch"),
        latent_dim=config.latent_dim, loss=config.loss, ema_decay=config.ema_decay, seed=config.seed,
    )  # fmt: skip
    gan.compile(
        g_optimizer=keras.optimizers.Adam(config.lr_g, beta_1=config.beta_1, beta_2=config.beta_2),
        d_optimizer=keras.optimizers.Adam(config.lr_d, beta_1=config.beta_1, beta_2=config.beta_2),
    )
    return gan


MIN_IMAGES = 16


def load_training_images(config: GanConfig, verbose: bool = True) -> np.ndarray:
    """The uint8 images (N, S, S, 3) a config trains on: procedural sprites or an image folder."""
    if config.data == "sprites":
        from charlib.data.sprites import sample_sprites

        return sample_sprites(config.n_data, size=config.image_size, seed=config.seed).images
    from charlib.data.folders import load_image_folder

    images, report = load_image_folder(config.data, size=config.image_size)
    if verbose:
        print(report.summary())
    if len(images) < max(MIN_IMAGES, config.batch_size):
        raise CharlibError(
            f"Only {len(images)} usable images in {config.data}; training needs at least "
            f"{max(MIN_IMAGES, config.batch_size)} (and a few hundred to learn anything). "
            "Add images or lower --batch-size."
        )
    return images


def batch_stream(images: np.ndarray, batch_size: int, seed: int, flip: bool,
                 start_step: int = 0) -> Iterator[tf.Tensor]:
    """Endless batches, epoch by epoch, each epoch shuffled with ``seed + epoch``.

    Starting at ``start_step`` gives exactly the batches an uninterrupted run would have seen then.
    """
    per_epoch = len(images) // batch_size
    epoch, skip = divmod(start_step, per_epoch)
    while True:
        ds = make_dataset(images, batch_size=batch_size, seed=seed + epoch, flip=flip, cache=False)
        yield from ds.skip(skip)
        epoch, skip = epoch + 1, 0


def fixed_noise(config: GanConfig, n: int | None = None) -> np.ndarray:
    """The run's fixed latent vectors for sample grids (n, latent_dim) float32."""
    rng = np.random.default_rng(config.seed + 12345)
    return rng.standard_normal((n or config.n_samples, config.latent_dim)).astype(np.float32)


def generate(generator: keras.Model, z: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Run a generator in inference mode on z (N, latent_dim); returns uint8 images (N, H, W, 3)."""
    out = [generator(z[i : i + batch_size], training=False) for i in range(0, len(z), batch_size)]
    return to_uint8(np.concatenate([np.asarray(o) for o in out]))


@dataclass
class GanRun:
    """What :func:`train_gan` returns: the run folder, the trained GAN and the loss history."""

    run: RunFolder
    gan: GAN
    config: GanConfig
    history: list[dict[str, float]]


def train_gan(config: GanConfig | None = None, out: str | Path = "outputs/gan", *, resume: bool = False,
              steps: int | None = None, images: np.ndarray | None = None,
              progress: bool = True) -> GanRun:
    """Train (or resume) a GAN in the run folder ``out``.

    Args:
        config: the run's settings (ignored on resume, where config.json is read back).
        out: the run folder; must be new or empty unless ``resume``.
        resume: continue the run in ``out`` from its latest checkpoint.
        steps: on resume, a new total number of steps (to train longer than first planned).
        images: uint8 (N, H, W, 3) to train on instead of ``config.data``.
        progress: show a progress bar.
    """
    if resume:
        run = RunFolder(out, resume=True)
        if run.config.get("model") != "gan":
            raise RunFolderError(f"{out} holds a {run.config.get('model')!r} run, not a GAN run")
        config = GanConfig.from_dict(run.config)
        if steps is not None and steps != config.steps:
            config = replace(config, steps=steps)
            run.update_config(steps=steps)
    else:
        config = config or GanConfig()
        if steps is not None:
            config = replace(config, steps=steps)
        run = RunFolder(out, config.to_dict())
    seed_everything(config.seed)
    data = images if images is not None else load_training_images(config)
    gan = build_gan(config)
    checkpointer = Checkpointer(run, **gan.checkpoint_objects())
    start = checkpointer.restore_latest()
    if resume and start:
        print(f"Resuming {run.path} from step {start} of {config.steps}.")
    z_fixed = fixed_noise(config)
    history = run_loop(
        run=run,
        step_fn=tf.function(gan.train_step, autograph=False),
        batches=batch_stream(data, config.batch_size, config.seed, config.flip, start_step=start),
        checkpointer=checkpointer,
        sample_fn=lambda: generate(gan.sampler, z_fixed),
        settings=LoopSettings(config.steps, config.log_every, config.sample_every, config.ckpt_every,
                              progress, time_budget_s=None if config.max_minutes is None
                              else 60.0 * config.max_minutes),
        description=f"GAN {config.image_size}px",
    )
    finished = int(gan.step.numpy())
    if finished < config.steps:  # stopped by the time budget: the run is complete at this step
        config = replace(config, steps=finished)
        run.update_config(steps=finished)
    export_generator(gan.sampler, run.export_path)
    return GanRun(run, gan, config, history)


def export_generator(generator: keras.Model, path: Path) -> Path:
    """Save a generator as ``.keras`` atomically (write a temporary file, then rename)."""
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    generator.save(tmp)
    tmp.replace(path)
    return path


def load_generator(run_dir: str | Path) -> tuple[keras.Model, GanConfig]:
    """The generator of a GAN run folder, from its latest checkpoint (EMA weights when used).

    Works mid-training too: only config.json and a checkpoint are needed. Falls back to the
    exported ``generator.keras`` (loaded with safe_mode) when there is no checkpoint.
    """
    run = RunFolder.open(run_dir)
    if run.config.get("model") != "gan":
        raise RunFolderError(f"{run_dir} holds a {run.config.get('model')!r} run, not a GAN run")
    config = GanConfig.from_dict(run.config)
    gan = build_gan(config)
    checkpointer = Checkpointer(run, **gan.checkpoint_objects())
    if checkpointer.manager.latest_checkpoint is not None:
        checkpointer.checkpoint.restore(checkpointer.manager.latest_checkpoint).expect_partial()
        return gan.sampler, config
    if run.export_path.is_file():
        return keras.models.load_model(run.export_path, safe_mode=True), config
    raise RunFolderError(f"{run_dir} has no checkpoint and no generator.keras yet")


def course_gan(profile: Profile, out: str | Path | None = None, progress: bool = True) -> GanRun:
    """The course's DCGAN for a profile, trained once and reused (the run folder is the cache).

    Trains into ``outputs/gan_<profile>`` (or ``out``) when the folder is missing, resumes it when a
    run there stopped early, and otherwise just loads it. Later notebooks call this, so each of
    them also runs on its own on a fresh clone.
    """
    from charlib.config import output_dir

    out = Path(out) if out is not None else output_dir().joinpath(f"gan_{profile.name}")
    if not (out / "config.json").is_file():
        return train_gan(GanConfig.from_profile(profile), out, progress=progress)
    return train_gan(out=out, resume=True, progress=progress)
