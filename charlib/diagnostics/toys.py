"""Toy distributions and a tiny GAN: see GAN behaviour (and mode collapse) in seconds on a CPU.

GAN papers first test on 2-D mixtures of Gaussians whose modes are known exactly, so every sample
can be plotted and the modes a generator found counted. The **ring** has 8 modes on a circle of
radius 2 with σ = 0.02 (the Unrolled GAN paper, Metz et al. 2017; VEEGAN and PacGAN use radius 1,
σ = 0.01: ``ring(radius=1.0, std=0.01)``). Its angles are ``2πk/8``: the widely copied
``np.linspace(0, 2π, 8)`` includes both ends, so its first and last modes coincide. The **grid**
has 25 modes on {-4, -2, 0, 2, 4}² with σ = 0.05 (VEEGAN's and PacGAN's ``2DGrid``).
:func:`mode_metrics` scores samples as VEEGAN and PacGAN do: a sample is *high quality* within 3σ
of its nearest mode, a mode is *captured* when it holds ``min_count`` of them (PacGAN's code: 1),
and the *reverse KL* compares their histogram over modes with the uniform one. A 3σ disc holds
``1 - exp(-4.5) ≈ 98.9%`` of a 2-D Gaussian, so real data scores 98.9% high quality, not 100%.

The 1-D helpers (optimal discriminator, KL and Jensen–Shannon on a grid of densities, the GAN
value function) serve the maths notebook. :func:`train_toy_gan` trains tiny MLPs in seconds with
any loss of :mod:`charlib.losses` and its remedy switches, keeping snapshots for
:func:`plot_snapshots`; :data:`TOY_RECIPES` names a collapse-prone ``"baseline"`` and one remedy
each, compared in ``benchmarks/remedies_toys.py``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from charlib import losses
from charlib.config import seed_everything
from charlib.diagnostics.modes import reverse_kl
from charlib.errors import CharlibError, ShapeError
from charlib.training.loop import fit_steps

__all__ = [
    "GRID_SIDE", "GRID_SPACING", "GRID_STD", "RING_N_MODES", "RING_RADIUS", "RING_STD", "TOY_RECIPES",
    "GaussianMixture", "RPGAN", "Snapshot", "ToyGanResult", "gan_value", "grid", "grid_centres",
    "js_divergence", "kl_divergence", "make_toy_discriminator", "make_toy_generator", "mode_metrics",
    "normal_pdf", "optimal_discriminator", "plot_snapshots", "ring", "ring_centres", "train_toy_gan"
]

RING_N_MODES = 8
RING_RADIUS = 2.0
RING_STD = 0.02  # Metz et al. 2017 (Unrolled GAN)
GRID_SIDE = 5
GRID_SPACING = 2.0
GRID_STD = 0.05  # VEEGAN / PacGAN 2DGrid


# --------------------------------------------------------------------------------------------------
# toy distributions


def ring_centres(n_modes: int = RING_N_MODES, radius: float = RING_RADIUS) -> np.ndarray:
    """(n_modes, 2) float32 centres at angles 2πk/n_modes on a circle (k = 0 lies on the +x axis)."""
    if n_modes < 1 or radius <= 0:
        raise ShapeError(f"need n_modes >= 1 and radius > 0, got {n_modes} and {radius}")
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    return (radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)


def grid_centres(side: int = GRID_SIDE, spacing: float = GRID_SPACING) -> np.ndarray:
    """(side², 2) float32 centres of a square grid centred on 0 (side 5, spacing 2: {-4..4}²)."""
    if side < 1 or spacing <= 0:
        raise ShapeError(f"need side >= 1 and spacing > 0, got {side} and {spacing}")
    coords = (np.arange(side) - (side - 1) / 2) * spacing
    xx, yy = np.meshgrid(coords, coords, indexing="ij")
    return np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)


@dataclass(frozen=True, eq=False)
class GaussianMixture:
    """An equal-weight mixture of isotropic Gaussians: (K, D) float32 ``centres``, each of std σ per axis."""

    name: str
    centres: np.ndarray
    std: float

    @property
    def n_modes(self) -> int:
        return len(self.centres)

    def sample(self, n: int, rng: int | np.random.Generator | None = 0) -> np.ndarray:
        """``n`` samples (n, D) float32, a uniform mode plus N(0, σ²) noise; ``rng``: Generator or seed."""
        gen = np.random.default_rng(rng)  # a Generator passes through unchanged
        which = gen.integers(0, self.n_modes, size=int(n))
        noise = gen.standard_normal((int(n), self.centres.shape[1]))
        return (self.centres[which] + self.std * noise).astype(np.float32)

    def metrics(self, samples: np.ndarray, min_count: int = 1) -> dict:
        """:func:`mode_metrics` of ``samples`` against this mixture's modes."""
        return mode_metrics(samples, self.centres, self.std, min_count=min_count)


def ring(n_modes: int = RING_N_MODES, radius: float = RING_RADIUS, std: float = RING_STD) -> GaussianMixture:
    """The ring of Gaussians (defaults: 8 modes, radius 2, σ = 0.02, as in the Unrolled GAN paper)."""
    return GaussianMixture("ring", ring_centres(n_modes, radius), float(std))


def grid(side: int = GRID_SIDE, spacing: float = GRID_SPACING, std: float = GRID_STD) -> GaussianMixture:
    """The grid of Gaussians (defaults: 25 modes on {-4, -2, 0, 2, 4}², σ = 0.05, as in VEEGAN)."""
    return GaussianMixture("grid", grid_centres(side, spacing), float(std))


# --------------------------------------------------------------------------------------------------
# mode metrics


def mode_metrics(samples: np.ndarray, centres: np.ndarray, std: float, min_count: int = 1) -> dict:
    """Count the modes that samples (N, D) cover among centres (K, D) of std σ (the VEEGAN/PacGAN protocol).

    A sample is *high quality* within ``3 * std`` of its nearest centre; a mode is captured with
    ``min_count`` of them (raise it, e.g. to 1% of N / K, to ignore stray points between modes).
    Returns ``modes_captured``, ``n_modes``, ``high_quality_fraction`` (of *all* samples), ``counts``
    ((K,) high-quality samples per mode) and ``reverse_kl`` (nats): ``Σ q_k log(K q_k)`` for the
    histogram q of high-quality samples, 0 when balanced, ``log K`` on one mode, NaN with none.
    """
    x = np.asarray(samples, dtype=np.float64)
    c = np.asarray(centres, dtype=np.float64)
    if x.ndim == 1 and c.ndim == 2 and c.shape[1] == 1:
        x = x[:, None]
    if x.ndim != 2 or c.ndim != 2 or x.shape[1] != c.shape[1]:
        raise ShapeError(f"samples must be (N, D) and centres (K, D) with the same D, got {x.shape} "
                         f"and {c.shape}")
    if len(c) == 0 or not std > 0 or min_count < 1:
        raise ShapeError(f"need at least one centre, std > 0 and min_count >= 1, got {len(c)} centres, "
                         f"std {std} and min_count {min_count}")
    k = len(c)
    counts = np.zeros(k, dtype=np.int64)
    for start in range(0, len(x), 65_536):  # bounded memory for large N * K
        chunk = x[start : start + 65_536]
        d2 = ((chunk[:, None, :] - c[None, :, :]) ** 2).sum(axis=-1)
        nearest = d2.argmin(axis=1)
        hq = (np.sqrt(d2.min(axis=1)) < 3.0 * std) & np.isfinite(chunk).all(axis=1)
        counts += np.bincount(nearest[hq], minlength=k)
    return {
        "modes_captured": int((counts >= min_count).sum()),
        "n_modes": k,
        "high_quality_fraction": int(counts.sum()) / len(x) if len(x) else 0.0,
        "counts": counts,
        "reverse_kl": reverse_kl(counts),
    }


# --------------------------------------------------------------------------------------------------
# 1-D maths helpers (densities on a grid)


def normal_pdf(x: np.ndarray, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
    """The N(mean, std²) density at ``x`` (float64)."""
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def _densities(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if p.shape != q.shape:
        raise ShapeError(f"densities must be on the same grid, got shapes {p.shape} and {q.shape}")
    if (p < 0).any() or (q < 0).any():
        raise ShapeError("densities must be non-negative")
    return p, q


def optimal_discriminator(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    """``D*(x) = p_data(x) / (p_data(x) + p_g(x))``, elementwise on arrays of densities.

    Where both densities are 0 every D is equally good; 0.5 is returned there.
    """
    p, q = _densities(p_data, p_g)
    total = p + q
    return np.divide(p, total, out=np.full_like(total, 0.5), where=total > 0)


def kl_divergence(p: np.ndarray, q: np.ndarray, dx: float) -> float:
    """``KL(p ‖ q) = ∫ p log(p / q) dx`` in nats, by a Riemann sum on a uniform grid of spacing dx.

    Terms with p = 0 contribute 0; if q = 0 somewhere p > 0 the result is ``inf``.
    """
    p, q = _densities(p, q)
    mask = p > 0
    if (q[mask] == 0).any():
        return float("inf")
    return float(np.sum(p[mask] * np.log(p[mask] / q[mask])) * dx)


def js_divergence(p: np.ndarray, q: np.ndarray, dx: float) -> float:
    """Jensen–Shannon divergence ``½ KL(p ‖ m) + ½ KL(q ‖ m)``, ``m = (p + q) / 2``, in nats.

    Symmetric, finite, between 0 (p = q) and ``ln 2`` (disjoint supports).
    """
    p, q = _densities(p, q)
    m = 0.5 * (p + q)
    return 0.5 * kl_divergence(p, m, dx) + 0.5 * kl_divergence(q, m, dx)


def gan_value(p_data: np.ndarray, p_g: np.ndarray, dx: float, d: np.ndarray | None = None) -> float:
    """The GAN value ``V(D, G) = ∫ p_data log D + p_g log(1 - D) dx`` on a grid (0·log 0 = 0).

    ``d=None`` uses the optimal discriminator, computed in log space (``log D* = log p_data -
    log(p_data + p_g)``) so that far tails, where ``D*`` rounds to exactly 1 or 0, stay finite;
    then the value is ``C(G) = -log 4 + 2 JS(p_data ‖ p_g)``. An explicit ``d`` is used as given
    (a D that says exactly 1 where generated data lives scores ``-inf``, which is the truth).
    """
    p, q = _densities(p_data, p_g)
    with np.errstate(divide="ignore", invalid="ignore"):
        if d is None:
            log_total = np.log(p + q)
            log_d, log_1md = np.log(p) - log_total, np.log(q) - log_total
        else:
            d = np.asarray(d, dtype=np.float64)
            if d.shape != p.shape:
                raise ShapeError(f"d must be on the densities' grid, got shape {d.shape}, expected {p.shape}")
            log_d, log_1md = np.log(d), np.log1p(-d)
        terms = np.where(p > 0, p * log_d, 0.0) + np.where(q > 0, q * log_1md, 0.0)
    return float(np.sum(terms) * dx)


# --------------------------------------------------------------------------------------------------
# tiny models


def _init(seed: int | None, i: int):
    return keras.initializers.GlorotUniform(seed=None if seed is None else seed + i)


def make_toy_generator(latent_dim: int = 8, out_dim: int = 2, width: int = 128, depth: int = 3,
                       seed: int | None = None) -> keras.Sequential:
    """An MLP generator, noise (N, latent_dim) to points (N, out_dim): ``depth`` Dense(width) + ReLU."""
    hidden = [keras.layers.Dense(width, "relu", kernel_initializer=_init(seed, i)) for i in range(depth)]
    out = keras.layers.Dense(out_dim, kernel_initializer=_init(seed, depth))
    return keras.Sequential([keras.Input((latent_dim,)), *hidden, out], name="toy_generator")


def make_toy_discriminator(in_dim: int = 2, width: int = 128, depth: int = 3,
                           seed: int | None = None, *, pack: int = 1, minibatch_std: int = 0,
                           spectral_norm: bool = False) -> keras.Sequential:
    """An MLP discriminator: ``depth`` Dense(width) + LeakyReLU(0.2), then Dense(1) giving *logits*.

    Points (N, in_dim) give (N / pack, 1). The remedies: ``pack=m`` scores m points at once (PacGAN),
    ``minibatch_std=g`` > 0 appends the spread of groups of g samples before the last hidden layer,
    and ``spectral_norm`` wraps every Dense layer in spectral normalisation.
    """
    from charlib.models.dcgan import MinibatchStdDev, Pack

    wrap = keras.layers.SpectralNormalization if spectral_norm else (lambda layer: layer)
    layers: list = [keras.Input((in_dim,))]
    if pack > 1:
        layers.append(Pack(pack))
    for i in range(depth):
        if minibatch_std and i == depth - 1:
            layers.append(MinibatchStdDev(minibatch_std))
        layers += [wrap(keras.layers.Dense(width, kernel_initializer=_init(seed, i))),
                   keras.layers.LeakyReLU(negative_slope=0.2)]
    layers.append(wrap(keras.layers.Dense(1, kernel_initializer=_init(seed, depth))))
    return keras.Sequential(layers, name="toy_discriminator")


# --------------------------------------------------------------------------------------------------
# a tiny GAN


@dataclass(frozen=True, eq=False)
class Snapshot:
    """Generated points at one training step (from the same fixed noise every time)."""

    step: int
    samples: np.ndarray


@dataclass(eq=False)
class ToyGanResult:
    """What :func:`train_toy_gan` returns.

    ``history`` holds per-step arrays: ``d_loss`` (without penalties, the mean over the step's
    ``d_steps`` updates), ``g_loss``, and the unweighted penalties ``gradient_penalty`` (WGAN-GP's)
    and ``r1`` / ``r2`` (mean ‖∇ₓD‖² at the reals / fakes), zeros when off. ``snapshots`` are taken
    at step 0, every ``snapshot_every`` steps and the last step.
    """

    generator: keras.Model
    discriminator: keras.Model
    loss: losses.GanLoss
    latent_dim: int
    history: dict[str, np.ndarray]
    snapshots: list[Snapshot] = field(default_factory=list)
    seconds: float = 0.0

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` fresh points from the trained generator, float32 (n, out_dim)."""
        z = np.random.default_rng(seed).standard_normal((int(n), self.latent_dim)).astype(np.float32)
        return np.asarray(self.generator(z, training=False))


def _real_batch(sample_real: Callable, n: int, rng: np.random.Generator) -> np.ndarray:
    x = np.asarray(sample_real(n, rng), dtype=np.float32)
    x = x[:, None] if x.ndim == 1 else x
    if x.ndim != 2 or x.shape[0] != n:
        raise ShapeError(f"sample_real(n, rng) must return n points as (n, D) or (n,), asked for {n}, "
                         f"got shape {x.shape}")
    return x


_SLOW_D = {"lr_d": 1e-4, "lr_g": 1e-3}

TOY_RECIPES: dict[str, dict] = {
    # deliberately collapse-prone: a discriminator 10x slower than its generator lets G chase
    # whichever single mode D currently likes best
    "baseline": _SLOW_D,
    # one remedy each, on top of the baseline's setting
    "pacgan2": {**_SLOW_D, "pack": 2},
    "minibatch-std": {**_SLOW_D, "minibatch_std": True},
    "spectral-norm": {**_SLOW_D, "spectral_norm": True},
    "unrolled-5": {**_SLOW_D, "unrolled_steps": 5},
    # two timescales the other way round (TTUR, Heusel et al. 2017): D 10x faster than G
    "ttur": {"lr_d": 1e-3, "lr_g": 1e-4},
    # Wasserstein critic with gradient penalty, 5 critic steps per G step (Gulrajani et al. 2017)
    "wgan-gp": {"loss": "wgan-gp", "d_steps": 5, "lr_d": 1e-4, "lr_g": 1e-4, "beta_2": 0.9},
    # R3GAN (Huang et al. 2024): the relativistic pairing loss with zero-centred penalties on reals
    # (R1) and on fakes (R2), one γ for both, chosen among 0.1, 1, 10 and 100 on the ring (3 seeds)
    "r3gan": {**_SLOW_D, "loss": "rpgan", "r1": 10.0, "r2": 10.0},
}
"""Named :func:`train_toy_gan` settings: ``"baseline"`` collapses, each other entry adds one remedy."""


RPGAN = losses.GanLoss("rpgan", losses.rpgan_d_loss, losses.rpgan_g_loss, 0.0,
                       "relativistic pairing (R3GAN): each fake is scored against a real")
"""The RpGAN pair (:func:`charlib.losses.rpgan_d_loss`, ``rpgan_g_loss``) as ``loss="rpgan"``; unlike
``GAN_LOSSES``, its ``g_loss`` takes ``(real_logits, fake_logits)``: G needs D's scores of the reals too."""


def _toy_loss(loss: str | losses.GanLoss) -> losses.GanLoss:
    if isinstance(loss, str) and loss.strip().lower() == "rpgan":
        return RPGAN
    try:
        return losses.get_gan_loss(loss)
    except CharlibError:
        raise CharlibError(f"Unknown toy GAN loss {loss!r}; choose 'rpgan' or one of "
                           f"{sorted(losses.GAN_LOSSES)}.") from None


def _zero_centred(discriminator: keras.Model, real: tf.Tensor, fake: tf.Tensor, r1: float,
                  r2: float) -> tuple[tf.Tensor, tf.Tensor]:
    """(R1, R2): mean ‖∇ₓD‖² at the reals and at the fakes (G's gradient stopped); 0 where γ is 0."""
    zero = tf.constant(0.0)
    at_real = losses.zero_centred_penalty(discriminator, real) if r1 else zero
    at_fake = losses.zero_centred_penalty(discriminator, tf.stop_gradient(fake)) if r2 else zero
    return at_real, at_fake


def _unroll(discriminator: keras.Model, optimizer: keras.optimizers.Optimizer, spec: losses.GanLoss,
            real: tf.Tensor, fake: tf.Tensor, k: int) -> list[tf.Tensor]:
    """D's weights after ``k`` more Adam updates on (real, fake), as differentiable tensors.

    The updates start from D's current weights and its optimiser's moments and follow Keras's Adam
    rule; nothing is assigned, so D itself is unchanged. Called under G's tape, the result depends
    on G through ``fake``, which is what makes the unrolled GAN's generator gradient.
    """
    variables = discriminator.trainable_variables
    params = [v.value for v in variables]
    non_trainable = [v.value for v in discriminator.non_trainable_variables]
    slots = [optimizer._get_variable_index(v) for v in variables]  # Keras 3 Adam's moment slots
    m = [optimizer._momentums[i].value for i in slots]
    v2 = [optimizer._velocities[i].value for i in slots]
    b1, b2 = float(optimizer.beta_1), float(optimizer.beta_2)
    lr, eps = tf.cast(optimizer.learning_rate, tf.float32), float(optimizer.epsilon)
    for j in range(k):
        with tf.GradientTape() as tape:
            tape.watch(params)
            real_logits, non_trainable = discriminator.stateless_call(params, non_trainable, real,
                                                                      training=True)
            fake_logits, non_trainable = discriminator.stateless_call(params, non_trainable, fake,
                                                                      training=True)
            d_loss = spec.d_loss(real_logits, fake_logits)
        grads = tape.gradient(d_loss, params)
        t = tf.cast(optimizer.iterations, tf.float32) + 1.0 + j
        alpha = lr * tf.sqrt(1.0 - b2**t) / (1.0 - b1**t)
        m = [b1 * mi + (1.0 - b1) * g for mi, g in zip(m, grads, strict=True)]
        v2 = [b2 * vi + (1.0 - b2) * tf.square(g) for vi, g in zip(v2, grads, strict=True)]
        # the 1e-30 keeps sqrt's derivative finite where a gradient (and so v) is exactly zero
        params = [p - alpha * mi / (tf.sqrt(vi + 1e-30) + eps)
                  for p, mi, vi in zip(params, m, v2, strict=True)]
    return params


def train_toy_gan(
    sample_real: Callable[[int, np.random.Generator], np.ndarray], *, steps: int = 2000,
    batch_size: int = 256, latent_dim: int = 8, loss: str | losses.GanLoss = "nonsaturating",
    lr_d: float = 1e-3, lr_g: float = 1e-3, beta_1: float = 0.5, beta_2: float = 0.999, d_steps: int = 1,
    width: int = 128, depth: int = 3, pack: int = 1, minibatch_std: bool | int = False,
    spectral_norm: bool = False, unrolled_steps: int = 0, r1: float = 0.0, r2: float = 0.0,
    snapshot_every: int | None = None, n_snapshot: int = 1000, seed: int = 0, progress: bool = True,
) -> ToyGanResult:
    """Train a tiny MLP GAN on low-dimensional data in seconds; keep snapshots of what it generates.

    Every step draws real batches with ``sample_real(batch_size, rng)`` (``(n, D)`` or ``(n,)``
    points, e.g. ``ring().sample``), runs ``d_steps`` compiled updates of D, each on a fresh batch,
    then one of G, with the losses of ``charlib.losses.get_gan_loss(loss)`` (WGAN-GP adds its
    gradient penalty; it wants ``d_steps=5, lr 1e-4, beta_2=0.9``, Gulrajani et al. 2017, and with 1
    tends to orbit the modes) or ``"rpgan"`` (:data:`RPGAN`; G pairs its fakes with D's last reals).
    The remedies: ``pack`` (PacGAN, Lin et al. 2018: D scores ``pack`` points at a time; must divide
    ``batch_size``), ``minibatch_std`` (Karras et al. 2018: groups of 4 for ``True``, or the given
    size), ``spectral_norm`` on every layer of D (Miyato et al. 2018), and ``unrolled_steps=k`` (Metz
    et al. 2017): G's loss is D's score after k more Adam updates of D from its current weights and
    moments on the last real batch and G's fakes, differentiated through those updates (D itself
    keeps its ordinary updates; not with a gradient penalty). ``r1`` / ``r2`` are the γ of the
    zero-centred penalties at reals (Mescheder et al. 2018) and at fakes (G's gradient stopped): D's
    loss gains ``γ₁/2 · mean‖∇ₓD(real)‖² + γ₂/2 · mean‖∇ₓD(fake)‖²``; with ``loss="rpgan"`` (Huang
    et al. 2024) both together make R3GAN's regularised loss.

    Snapshots (every ``snapshot_every`` steps, default ``steps // 8``) are ``n_snapshot`` points
    from fixed noise. ``seed`` seeds Python, NumPy, TensorFlow, Keras, the weights, data and noise,
    so a CPU run repeats; with ``r1`` / ``r2``, runs in different processes on a busy CPU have
    differed in their last bits, which over 2000 steps grows into different samples. A bad setting
    raises :class:`~charlib.errors.CharlibError`, a NaN or infinite loss its subclass
    ``TrainingDiverged`` (lower the learning rates).
    """
    spec = _toy_loss(loss)
    paired = spec.g_loss is losses.rpgan_g_loss  # its g_loss takes (real_logits, fake_logits)
    r1, r2 = float(r1), float(r2)
    steps, batch_size, d_steps = int(steps), int(batch_size), int(d_steps)
    pack, unrolled_steps = int(pack), int(unrolled_steps)
    group = 4 if minibatch_std is True else int(minibatch_std)
    if min(steps, batch_size, n_snapshot, d_steps) < 1:
        raise CharlibError(f"steps, batch_size, n_snapshot and d_steps must be >= 1, got {steps}, "
                           f"{batch_size}, {n_snapshot}, {d_steps}")
    if pack < 1 or batch_size % pack:
        raise CharlibError(f"pack={pack} must be >= 1 and divide batch_size={batch_size}")
    if group < 0 or unrolled_steps < 0:
        raise CharlibError(f"minibatch_std and unrolled_steps must be >= 0, got {group} and {unrolled_steps}")
    if not (r1 >= 0 and r2 >= 0 and math.isfinite(r1 + r2)):
        raise CharlibError(f"r1 and r2 (the γ of the R1 and R2 penalties) must be finite and >= 0, got "
                           f"{r1} and {r2}")
    if unrolled_steps and (spec.gradient_penalty_weight or r1 or r2):
        raise CharlibError(f"unrolled_steps does not combine with a gradient penalty (the {spec.name!r} "
                           f"loss's, r1={r1}, r2={r2}); use a loss without one and r1 = r2 = 0")
    snapshot_every = max(1, int(snapshot_every or steps // 8 or 1))
    seed_everything(seed)
    rng = np.random.default_rng(seed)
    out_dim = _real_batch(sample_real, 2, np.random.default_rng(seed)).shape[1]

    generator = make_toy_generator(latent_dim, out_dim, width, depth, seed=seed)
    discriminator = make_toy_discriminator(out_dim, width, depth, seed=seed + 1000, pack=pack,
                                           minibatch_std=group, spectral_norm=spectral_norm)
    opt_g, opt_d = (keras.optimizers.Adam(lr, beta_1=beta_1, beta_2=beta_2) for lr in (lr_g, lr_d))
    opt_g.build(generator.trainable_variables)
    opt_d.build(discriminator.trainable_variables)
    gp_weight = float(spec.gradient_penalty_weight)

    @tf.function
    def train_step(real, z_d, z_g, gp_seed):
        # real: (d_steps, batch, D), z_d: (d_steps, batch, latent), z_g: (batch, latent)
        terms = []  # per D update: (d_loss, gradient penalty, R1, R2)
        for k in range(d_steps):  # unrolled: d_steps is a small Python int
            with tf.GradientTape() as tape:
                fake = generator(z_d[k], training=True)
                d_loss = spec.d_loss(discriminator(real[k], training=True),
                                     discriminator(fake, training=True))
                gp = (losses.gradient_penalty(discriminator, real[k], fake, seed=gp_seed + [0, k])
                      if gp_weight > 0 else tf.constant(0.0))  # a fresh seed for every D update
                at_real, at_fake = _zero_centred(discriminator, real[k], fake, r1, r2)
                total = d_loss + gp_weight * gp + 0.5 * (r1 * at_real + r2 * at_fake)
            grads = tape.gradient(total, discriminator.trainable_variables)
            opt_d.apply_gradients(zip(grads, discriminator.trainable_variables, strict=True))
            terms.append((d_loss, gp, at_real, at_fake))
        with tf.GradientTape() as tape:
            fake = generator(z_g, training=True)
            if unrolled_steps:
                params = _unroll(discriminator, opt_d, spec, real[-1], fake, unrolled_steps)
                frozen = [v.value for v in discriminator.non_trainable_variables]
                score = lambda x: discriminator.stateless_call(params, frozen, x, training=True)[0]  # noqa: E731
            else:
                score = lambda x: discriminator(x, training=True)  # noqa: E731
            fake_logits = score(fake)
            g_loss = spec.g_loss(score(real[-1]), fake_logits) if paired else spec.g_loss(fake_logits)
        grads = tape.gradient(g_loss, generator.trainable_variables)
        opt_g.apply_gradients(zip(grads, generator.trainable_variables, strict=True))
        d_loss, gp, at_real, at_fake = (tf.add_n(list(t)) / d_steps for t in zip(*terms, strict=True))
        return {"d_loss": d_loss, "g_loss": g_loss, "gradient_penalty": gp, "r1": at_real, "r2": at_fake}

    z_fixed = rng.standard_normal((n_snapshot, latent_dim)).astype(np.float32)
    snapshots: list[Snapshot] = []

    def keep_snapshots(step: int, logs: object = None, row: object = None, last: bool = False) -> None:
        if step % snapshot_every == 0 or last:
            snapshots.append(Snapshot(step, np.asarray(generator(z_fixed, training=False))))

    keep_snapshots(0)

    def batches() -> Iterator[tuple[tf.Tensor, ...]]:
        chunk = 50  # draw data and noise 50 steps at a time: fewer numpy calls, same randomness per seed
        for first in range(0, steps, chunk):
            n_steps = min(chunk, steps - first)
            real = _real_batch(sample_real, n_steps * d_steps * batch_size, rng)
            real = real.reshape(n_steps, d_steps, batch_size, out_dim)
            noise = rng.standard_normal((n_steps, d_steps + 1, batch_size, latent_dim)).astype(np.float32)
            for i in range(n_steps):
                yield (tf.constant(real[i]), tf.constant(noise[i, :d_steps]), tf.constant(noise[i, d_steps]),
                       tf.constant([seed, (first + i) * d_steps], tf.int64))

    start = time.perf_counter()
    rows = fit_steps(lambda batch: train_step(*batch), batches(), steps=steps, log_every=1, progress=progress,
                     description=f"toy GAN ({spec.name})", on_step=keep_snapshots, leave=False)
    history = {name: np.array([row[name] for row in rows], np.float32)
               for name in ("d_loss", "g_loss", "gradient_penalty", "r1", "r2")}
    return ToyGanResult(generator, discriminator, spec, latent_dim, history, snapshots,
                        seconds=time.perf_counter() - start)


# --------------------------------------------------------------------------------------------------
# pictures


def plot_snapshots(result: ToyGanResult | list[Snapshot], centres: np.ndarray | None = None, *,
                   max_panels: int = 6, lim: float | None = None, title: str | None = None):
    """A row of panels showing the generated points over training, real mode centres marked.

    Fixed noise makes the panels comparable: a learner sees the points gather, hop from mode to mode,
    or collapse. 2-D data is drawn as scatter plots (centres as red rings), 1-D data as histograms
    (centres as red lines). At most ``max_panels`` evenly spaced snapshots are shown, always the
    first and the last; ``lim`` is the half-width of the plotted square (default from the centres,
    or the points, plus a margin). Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt

    snaps = result.snapshots if isinstance(result, ToyGanResult) else list(result)
    if not snaps:
        raise ShapeError("no snapshots to plot")
    if len(snaps) > max_panels:
        idx = np.unique(np.linspace(0, len(snaps) - 1, max(2, max_panels)).round().astype(int))
        snaps = [snaps[i] for i in idx]
    dim = snaps[0].samples.shape[1] if snaps[0].samples.ndim == 2 else 1
    c = None if centres is None else np.asarray(centres, dtype=np.float64).reshape(-1, dim)
    if lim is None:
        ref = c if c is not None else np.concatenate([s.samples.reshape(-1, dim) for s in snaps])
        ref = ref[np.isfinite(ref).all(axis=1)]
        lim = float(np.abs(ref).max()) * 1.3 + 0.5 if len(ref) else 1.0
    fig, axes = plt.subplots(1, len(snaps), figsize=(2.4 * len(snaps), 2.8), squeeze=False)
    for ax, snap in zip(axes[0], snaps, strict=True):
        pts = snap.samples.reshape(-1, dim)
        if dim == 1:
            ax.hist(np.clip(pts[:, 0], -lim, lim), bins=80, range=(-lim, lim), color="tab:blue", alpha=0.8)
            for x in [] if c is None else c[:, 0]:
                ax.axvline(x, color="red", lw=1)
            ax.set(xlim=(-lim, lim), yticks=[])
        else:
            if c is not None:  # hollow rings under the points, so points on a mode stay visible
                ax.scatter(*c.T, s=60, facecolors="none", edgecolors="red", linewidths=1.0, zorder=1)
            ax.scatter(*pts.T, s=2.0, alpha=0.5, color="tab:blue", linewidths=0, zorder=2)
            ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xticks=[], yticks=[])
        ax.set_title(f"step {snap.step}", fontsize=9)
    if title is None and isinstance(result, ToyGanResult):
        title = f"generated points over training ({result.loss.name} loss, {result.seconds:.1f} s)"
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
