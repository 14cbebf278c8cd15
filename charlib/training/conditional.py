"""Training the conditional VAE that animates generated characters (see :mod:`charlib.models.conditional`).

Each training example is a *pair* of frames of one of the 1000 training characters: a reference
frame in a random pose (what the encoder sees) and a target frame in another random pose (what the
decoder must draw, given the target's action, direction and frame). The loss is the negative ELBO
of the target given the reference,

    -ELBO = -E_{q(z|x_ref)}[log p(x_target | z, c_target)] + beta * KL(q(z|x_ref) || N(0, I)),

in nats per image (Gaussian likelihood of fixed ``sigma`` in [-1, 1] pixel units, KL warmed up over
``kl_warmup_steps``). Pairs are drawn fresh every step, keyed by (seed, step), so a resumed run sees
what an uninterrupted one would have seen. New characters come from z ~ N(0, I) or, better after a
short run, from an *ex-post* Gaussian mixture fitted to the training characters' identity codes
(:func:`identity_prior`), which avoids the holes that N(0, I) leaves in latent space.

With ``identity="attributes"`` the identity is discrete: the decoder reads the target's 4 appearance
labels as one-hot codes (teacher forcing) plus a small continuous z, and the loss adds the encoder's
classification of the reference frame, the sum over the attributes of -log q(attribute | x_ref). A
new character is then 4 categorical draws plus z ~ N(0, I) (:func:`sample_characters`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import keras
import numpy as np
import tensorflow as tf

from charlib import losses
from charlib.config import Profile, settings_for
from charlib.data import skeleton as sk
from charlib.data import sprites
from charlib.data.pipeline import to_float, to_uint8
from charlib.errors import CharlibError
from charlib.models import conditional as cond_models
from charlib.models.latent_prior import GaussianMixturePrior, fit_gaussian_mixture
from charlib.training import hardware
from charlib.training.trainer import (
    RunConfig,
    TrainedRun,
    fixed_noise,
    in_batches,
    load_trained,
    train,
    train_or_load,
)
from charlib.training.vae import EncoderDecoder

__all__ = ["ConditionalConfig", "ConditionalVAE", "build_conditional", "course_conditional",
           "fit_identity_prior", "generate_cycles", "generate_poses", "load_conditional", "pair_batch",
           "encode_identity", "identity_prior", "read_attributes", "refine_identities",
           "sample_characters", "sample_identities", "train_conditional"]

IDENTITIES = ("latent", "attributes")
IDENTITY_PRIOR_FILE = "identity_prior.npz"
POSE_SIZES = (len(sk.ACTIONS), len(sk.DIRECTIONS), sk.N_FRAMES)  # how many actions, directions, frames


@dataclass(frozen=True)
class ConditionalConfig(RunConfig):
    """Everything that defines a conditional-VAE run; saved as the run folder's config.json."""

    kind: ClassVar[str] = "conditional"
    architecture: ClassVar[tuple[str, ...]] = ("image_size", "latent_dim", "width", "palette", "identity")

    image_size: int = 32
    latent_dim: int = 16
    width: int = 32
    palette: int = 16  # 0: plain RGB decoder; K: K colour layers, colours from the identity alone
    sigma: float = 0.1
    beta: float = 1.0
    kl_warmup_steps: int = 500
    lr: float = 1e-3
    flip: bool = False
    identity: str = "latent"  # "latent": a continuous code; "attributes": 4 categoricals (+ latent_dim)

    def __post_init__(self) -> None:
        if self.identity not in IDENTITIES:
            raise CharlibError(f"identity must be one of {IDENTITIES}, got {self.identity!r}")
        if self.latent_dim < (0 if self.identity == "attributes" else 1):
            raise CharlibError(f"latent_dim={self.latent_dim} is too small: a continuous identity needs "
                               "at least 1 dimension (0 is allowed with identity='attributes')")

    @property
    def code_dim(self) -> int:
        """Length of an identity code, the decoder's first input: latent_dim, plus 24 attribute
        one-hots when ``identity="attributes"``."""
        return self.latent_dim + (cond_models.N_ATTRIBUTE_CODE if self.identity == "attributes" else 0)

    @classmethod
    def from_profile(cls, profile: Profile, **overrides: Any) -> ConditionalConfig:
        """The course's settings for a profile (:data:`PROFILE_SETTINGS`), then ``overrides``; with
        ``identity="attributes"``, that kind's own settings (:data:`ATTRIBUTE_SETTINGS`) on top."""
        settings = settings_for(PROFILE_SETTINGS, profile)
        if overrides.get("identity") == "attributes":
            settings.update(settings_for(ATTRIBUTE_SETTINGS, profile))
        return replace(cls(**settings, profile=profile.name), **overrides)


# The conditional VAE of each profile, as data (continuous identity codes).
PROFILE_SETTINGS: dict[str, dict[str, Any]] = {
    "smoke": {"image_size": 32, "latent_dim": 16, "width": 16, "batch_size": 32, "steps": 60,
              "sample_every": 30, "ckpt_every": 30, "log_every": 5, "n_samples": 16, "kl_warmup_steps": 30},
    "learner": {"image_size": 32, "latent_dim": 16, "width": 32, "batch_size": 32, "steps": 1200,
                "sample_every": 500, "ckpt_every": 500, "kl_warmup_steps": 500, "n_samples": 64,
                "max_minutes": 10.0},
    "full": {"image_size": 32, "latent_dim": 16, "width": 32, "batch_size": 64, "steps": 6000,
             "sample_every": 500, "ckpt_every": 500, "kl_warmup_steps": 1000, "n_samples": 64,
             "max_minutes": 20.0},
}
# identity="attributes": the 4 labels hold everything a sprite's appearance holds, so no continuous
# part; the palette decoder, fed one-hot codes alone, stayed stuck on one flat colour in our runs. The
# plain decoder's thin limbs take long to get their colours right in jump frames, so cycle consistency
# keeps rising with steps (benchmarks/results/animation_attributes.md for full, learner_quality.md for
# learner, where batches of 32 scored as well as batches of 64, at a cheaper step).
ATTRIBUTE_SETTINGS: dict[str, dict[str, Any]] = {
    "smoke": {"identity": "attributes", "latent_dim": 0, "palette": 0},
    "learner": {"identity": "attributes", "latent_dim": 0, "palette": 0, "steps": 5500,
                "batch_size": 32, "ckpt_every": 500, "max_minutes": 10.0},
    "full": {"identity": "attributes", "latent_dim": 0, "palette": 0, "steps": 24000,
             "sample_every": 2000, "ckpt_every": 1000, "max_minutes": 40.0},
}


def pair_batch(config: ConditionalConfig, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The training pairs of one step, repeatable for (seed, step): x_ref and x_target float32
    (B, S, S, 3) in [-1, 1], the same training characters in independent random poses; condition
    (B, 14), the target pose; labels (B, 24), the attribute codes."""
    if config.split != "train":
        raise CharlibError(f"the conditional VAE trains on the training identities; "
                           f"got split={config.split!r}")
    rng, b = np.random.default_rng([config.seed, step]), config.batch_size
    train_modes, _ = sprites.identity_split()
    attrs = sprites.attributes_of(rng.choice(train_modes, size=b))
    a, d, f = [rng.integers(0, n, size=(2, b)) for n in POSE_SIZES]
    ref, tgt = (sprites.render(attrs, a[k], d[k], f[k], config.image_size).astype(np.float32)
                * np.float32(1 / 127.5) - 1.0 for k in (0, 1))  # [0] the reference, [1] the target
    return ref, cond_models.condition_vectors(a[1], d[1], f[1]), tgt, cond_models.attribute_codes(attrs)


def pair_stream(config: ConditionalConfig, start_step: int = 0) -> Iterator[tuple[tf.Tensor, ...]]:
    """Endless training pairs from ``start_step`` on (see :func:`pair_batch`)."""
    for step in itertools.count(start_step):
        yield tuple(tf.constant(a) for a in pair_batch(config, step))


class ConditionalVAE(EncoderDecoder):
    """An identity encoder q(z | x_ref): frames (N, S, S, 3) to [mu, logvar] (N, latent_dim), plus
    attribute logits (N, 24) with ``identity="attributes"``; and a pose-conditioned decoder p(x | z, c):
    [code (N, code_dim), c (N, 14)] to Gaussian means (N, S, S, 3) in [-1, 1]."""

    def train_step(self, batch: tuple[tf.Tensor, ...]) -> dict[str, tf.Tensor]:
        """One gradient step on (x_ref (B,S,S,3), condition (B,14), x_target (B,S,S,3), labels (B,24))."""
        x_ref, c, x_tgt, labels = batch
        beta = self.beta_now()
        attributes = self.config.identity == "attributes"
        with tf.GradientTape() as tape:
            outputs = encoder_outputs(self.encoder, x_ref, training=True)
            if self.config.latent_dim:
                mu, logvar = outputs[0], outputs[1]
                z = losses.reparameterize(mu, logvar, seed=self.step_seed())
                kl = tf.reduce_mean(tf.reduce_sum(losses.kl_standard_normal_per_dim(mu, logvar), axis=-1))
            else:  # attribute identity only: nothing continuous to sample
                z, kl = tf.zeros_like(labels[:, :0]), tf.constant(0.0)
            code = tf.concat([labels, z], axis=-1) if attributes else z
            mean = self.decoder([code, c], training=True)
            recon = tf.reduce_mean(losses.gaussian_nll(x_tgt, mean, log_sigma=math.log(self.config.sigma)))
            loss = recon + beta * kl
            if attributes:
                classify = attribute_cross_entropy(labels, outputs[-1])
                loss += classify
        self.descend(tape, loss)
        mse = tf.reduce_mean(tf.square((mean - x_tgt) / 2.0))
        metrics = {"loss": loss, "recon": recon, "kl": kl, "mse": mse, "beta": beta}
        if attributes:
            metrics["classify"] = classify
        return metrics


def encoder_outputs(encoder: keras.Model, x: tf.Tensor | np.ndarray, training: bool) -> list[tf.Tensor]:
    """The encoder's outputs as a list, also when it has only one (attribute logits, latent_dim=0)."""
    outputs = encoder(x, training=training)
    return list(outputs) if isinstance(outputs, list | tuple) else [outputs]


def attribute_cross_entropy(labels: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """Sum over the 4 attributes of -log q(true value | x), batch-averaged (nats per image); labels
    and logits are (B, 24): 4 blocks of 6, one-hot labels and one classifier per block."""
    blocks = list(sprites.ATTRIBUTE_SIZES)
    return sum(tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(y, s))
               for y, s in zip(tf.split(labels, blocks, -1), tf.split(logits, blocks, -1), strict=True))


def build_conditional(config: ConditionalConfig) -> ConditionalVAE:
    """Encoder, decoder and optimiser for a config, compiled and ready to train or restore."""
    make_encoder = (cond_models.make_attribute_encoder if config.identity == "attributes"
                    else cond_models.make_identity_encoder)
    model = ConditionalVAE(make_encoder(config.image_size, config.latent_dim, config.width),
                           cond_models.make_conditional_decoder(config.image_size, config.code_dim,
                                                                config.width, palette=config.palette),
                           config)
    model.compile(hardware.loss_scaled(keras.optimizers.Adam(config.lr), config.precision))
    return model


def generate_poses(model: ConditionalVAE, z: np.ndarray, action: np.ndarray | int,
                   direction: np.ndarray | int, frame: np.ndarray | int,
                   batch_size: int = 512) -> np.ndarray:
    """Decode identity codes z (N, code_dim) in poses (indices, scalars or (N,)): uint8 (N, S, S, 3)."""
    z = np.asarray(z, dtype=np.float32)
    if z.ndim != 2 or z.shape[1] != model.config.code_dim:
        raise CharlibError(f"identity codes must have shape (N, {model.config.code_dim}) for this model, "
                           f"got {z.shape}")
    c = cond_models.condition_vectors(action, direction, frame)
    c = np.broadcast_to(c, (len(z), c.shape[1])) if len(c) == 1 else c
    if len(c) != len(z):
        raise CharlibError(f"{len(z)} identity codes but {len(c)} poses")
    return to_uint8(in_batches(lambda zs, cs: model.decoder([zs, cs], training=False), z, c,
                               batch_size=batch_size))


def generate_cycles(model: ConditionalVAE, z: np.ndarray, action: int | str = "walk",
                    direction: int | str = "front") -> np.ndarray:
    """Whole animation cycles of identities z (N, code_dim): uint8 (N, 8, S, S, 3); frame t of cycle i
    decodes z[i] under (action, direction, t), ``action`` and ``direction`` given by name or index."""
    a = pose_index(sk.ACTIONS, action, "action")
    d = pose_index(sk.DIRECTIONS, direction, "direction")
    z = np.asarray(z, dtype=np.float32)
    n, t = len(z), sk.N_FRAMES
    frames = generate_poses(model, np.repeat(z, t, axis=0), a, d, np.tile(np.arange(t), n))
    return frames.reshape(n, t, *frames.shape[1:])


def pose_index(options: tuple[str, ...], value: int | str, what: str) -> int:
    """A pose name or index to its index, with a :class:`CharlibError` naming the options."""
    if isinstance(value, str):
        if value not in options:
            raise CharlibError(f"unknown {what} {value!r}; choose from {', '.join(options)}")
        return options.index(value)
    if not 0 <= int(value) < len(options):
        raise CharlibError(f"{what} index must be in [0, {len(options)}), got {value}")
    return int(value)


def encode_identity(model: ConditionalVAE, images: np.ndarray) -> np.ndarray:
    """Identity codes (N, code_dim) of uint8 frames (N, S, S, 3): the posterior means of z, after
    the one-hot codes of the attributes the encoder reads when ``identity="attributes"``."""
    outputs = encoder_outputs(model.encoder, to_float(images), training=False)
    if model.config.identity != "attributes":
        return np.asarray(outputs[0])
    mu = np.asarray(outputs[0]) if model.config.latent_dim else np.zeros((len(images), 0), np.float32)
    attrs = cond_models.attributes_from_logits(np.asarray(outputs[-1]))
    return np.concatenate([cond_models.attribute_codes(attrs), mu], axis=1)


def read_attributes(model: ConditionalVAE, images: np.ndarray) -> np.ndarray:
    """The appearance attributes (N, 4) an ``identity="attributes"`` model's encoder reads in uint8
    frames (N, S, S, 3)."""
    if model.config.identity != "attributes":
        raise CharlibError("this model has a continuous identity code; only identity='attributes' "
                           "models read attributes")
    logits = encoder_outputs(model.encoder, to_float(images), training=False)[-1]  # (N, 24)
    return cond_models.attributes_from_logits(np.asarray(logits))


def fit_identity_prior(model: ConditionalVAE, config: ConditionalConfig, n_components: int = 32,
                       frames_per_identity: int = 4, seed: int = 0) -> GaussianMixturePrior:
    """A Gaussian mixture fitted to the identity codes of the training characters, each encoded
    from ``frames_per_identity`` random poses (so the mixture sees every pose)."""
    rng = np.random.default_rng(seed)
    train_modes, _ = sprites.identity_split()
    modes = np.repeat(train_modes, frames_per_identity)
    poses = [rng.integers(0, k, len(modes)) for k in POSE_SIZES]  # action, direction, frame
    images = sprites.render(sprites.attributes_of(modes), *poses, config.image_size)
    codes = in_batches(lambda x: encode_identity(model, x), images, batch_size=512)
    return fit_gaussian_mixture(codes, n_components=n_components, seed=seed)


def sample_characters(config: ConditionalConfig, n: int, seed: int = 0,
                      prior: GaussianMixturePrior | None = None,
                      attributes: np.ndarray | None = None) -> np.ndarray:
    """``n`` new identity codes (n, config.code_dim) float32: continuous ones from ``prior`` or N(0, I)
    (:func:`sample_identities`); attribute ones draw each of the 4 attributes uniformly (about 23% are
    combinations training never showed) or take ``attributes`` (n, 4), then a continuous z ~ N(0, I)."""
    if config.identity != "attributes":
        if attributes is not None:
            raise CharlibError("attributes can be chosen only for identity='attributes' models")
        return sample_identities(n, config.latent_dim, seed=seed, prior=prior)
    rng = np.random.default_rng(seed)
    if attributes is None:
        attributes = np.stack([rng.integers(0, k, n) for k in sprites.ATTRIBUTE_SIZES], axis=1)
    elif len(attributes) != n:
        raise CharlibError(f"asked for {n} characters but gave {len(attributes)} attribute rows")
    z = rng.standard_normal((n, config.latent_dim)).astype(np.float32)
    return np.concatenate([cond_models.attribute_codes(attributes), z], axis=1)


def sample_identities(n: int, latent_dim: int, seed: int = 0,
                      prior: GaussianMixturePrior | None = None) -> np.ndarray:
    """``n`` identity codes (n, latent_dim) float32: from ``prior`` if given, else from N(0, I)."""
    if prior is not None:
        if prior.dim != latent_dim:
            raise CharlibError(f"the identity prior is {prior.dim}-D but the codes are {latent_dim}-D")
        return prior.sample(n, seed=seed)
    return np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)


def refine_identities(model: ConditionalVAE, z: np.ndarray, steps: int = 1,
                      pose: tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    """Pull identity codes (N, latent_dim) towards codes the encoder gives real characters: each step
    draws them in ``pose`` (action, direction, frame) and encodes the pictures again, the decode-encode
    Markov chain of Rezende et al. (2014), which moves a code between two characters (drawn as a
    blend) to the one the encoder recognises."""
    z = np.asarray(z, dtype=np.float32)
    for _ in range(steps):
        z = encode_identity(model, generate_poses(model, z, *pose)).astype(np.float32)
    return z


def identity_prior(run_dir: str | Path, model: ConditionalVAE | None = None,
                   config: ConditionalConfig | None = None, **fit_kwargs: Any) -> GaussianMixturePrior:
    """The run's ex-post identity prior: loaded from ``identity_prior.npz``, else fitted
    (:func:`fit_identity_prior` with ``fit_kwargs``) and saved. A prior of an older checkpoint, or
    with another ``n_components`` when that is given, is refitted."""
    path = Path(run_dir) / IDENTITY_PRIOR_FILE
    if model is None or config is None:
        model, config = load_conditional(run_dir)
    if config.identity == "attributes":
        raise CharlibError("this run's identities are attribute codes, drawn from their categorical "
                           "prior by sample_characters; there is no mixture to fit")
    step = int(model.step.numpy())
    components = fit_kwargs.get("n_components")
    if path.is_file():
        with np.load(path) as data:
            fitted_at = int(data["step"]) if "step" in data else -1
            same_size = components is None or len(data["weights"]) == components
        if fitted_at == step and same_size:
            return GaussianMixturePrior.load(path)
    prior = fit_identity_prior(model, config, **fit_kwargs)
    prior.save(path, step=step)
    return prior


def sample_grid(model: ConditionalVAE, config: ConditionalConfig) -> np.ndarray:
    """The fixed sample grid: n_samples // 8 prior characters, one walk cycle each (rows turn
    through the three directions), flattened to (rows * 8, S, S, 3)."""
    rows = max(1, config.n_samples // sk.N_FRAMES)
    z = (sample_characters(config, rows, seed=config.seed) if config.identity == "attributes"
         else fixed_noise(config, rows))
    cycles = [generate_cycles(model, z[i : i + 1], 0, i % len(sk.DIRECTIONS))[0] for i in range(rows)]
    return np.concatenate(cycles)


def train_conditional(config: ConditionalConfig | None = None, out: str | Path = "outputs/conditional", *,
                      resume: bool = False, steps: int | None = None, progress: bool = True,
                      init_from: str | Path | None = None) -> TrainedRun:
    """Train (or resume) the conditional VAE in the run folder ``out``; ``generator.keras`` is the
    decoder (inputs ``[z, condition]``). ``init_from`` (fine-tuning) is not supported for this model."""
    if init_from is not None:
        raise CharlibError("fine-tuning from another run (init_from) is not supported for the "
                           "conditional VAE; train it from scratch")
    return train(ConditionalConfig, config, out, resume=resume, steps=steps, images=None, progress=progress,
                 build=build_conditional, sampler=lambda model, cfg: lambda: sample_grid(model, cfg),
                 exported=lambda model: model.decoder, batches=pair_stream, name="CVAE")


def load_conditional(run_dir: str | Path) -> tuple[ConditionalVAE, ConditionalConfig]:
    """The conditional VAE of a run folder, rebuilt from config.json and its latest checkpoint."""
    return load_trained(ConditionalConfig, run_dir, build_conditional)


def course_conditional(profile: Profile, out: str | Path | None = None, progress: bool = True,
                       **overrides: Any) -> TrainedRun:
    """The course's conditional VAE for a profile, trained once into ``outputs/conditional_<profile>_<key>``
    and then reused, like :func:`charlib.training.gan.course_gan`."""
    return train_or_load(ConditionalConfig, ConditionalConfig.from_profile(profile, **overrides), out,
                         train_conditional, build_conditional, progress)
