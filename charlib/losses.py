"""Every loss in the course, in one place: GAN losses on logits, and the VAE's ELBO terms.

All the GAN losses take *logits*, the discriminator's raw pre-sigmoid scores, never probabilities.
Through a probability, ``log(1 - sigmoid(s))`` becomes ``log(0) = -inf`` in float32 once ``s``
passes about 17, and Keras' probability cross-entropy clips instead, so its loss stops at 15.94
with gradient exactly 0, just when the discriminator is most confidently wrong. On the logit the
same quantity is ``softplus(s)``, exact for every ``s``. So a discriminator in this course ends in
``Dense(1)`` with no activation. (The source article puts a sigmoid on that output *and* uses
``BinaryCrossentropy(from_logits=True)``, a second sigmoid: notebook 02 shows the damage.)

The VAE terms are per example, in nats, summed over the data or latent axes, so that
``negative_elbo`` is a true bound on ``-log p(x)`` and :func:`bits_per_dim` can turn it into the
unit papers report. Shapes are checked, and misuse raises :class:`charlib.errors.ShapeError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import tensorflow as tf

from charlib.errors import CharlibError, ShapeError

__all__ = [
    "GAN_LOSSES", "GanLoss", "bernoulli_nll", "bits_per_dim", "d_loss_hinge", "d_loss_minimax",
    "d_loss_wasserstein", "g_loss_hinge", "g_loss_minimax", "g_loss_nonsaturating", "g_loss_wasserstein",
    "gaussian_nll", "get_gan_loss", "gradient_penalty", "kl_diag_gaussians", "kl_standard_normal",
    "negative_elbo", "r1_penalty", "reparameterize", "rpgan_d_loss", "rpgan_g_loss", "zero_centred_penalty",
]

_LOG_2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------------------------------------
# shape helpers


def _float32(x, name: str) -> tf.Tensor:
    t = tf.convert_to_tensor(x)
    if not (t.dtype.is_floating or t.dtype.is_integer):
        raise ShapeError(f"{name} must be a real number tensor, got dtype {t.dtype.name}")
    return tf.cast(t, tf.float32)


def _logits(x, name: str) -> tf.Tensor:
    """Logits as float32 of shape (N,): accepts (N,) or (N, 1), refuses anything else."""
    t = _float32(x, name)
    rank = t.shape.rank
    if rank == 2 and t.shape[-1] == 1:
        return t[:, 0]
    if rank not in (None, 1):  # an unknown rank while tracing: trust the caller
        raise ShapeError(
            f"{name} must be one logit per example, shape (N,) or (N, 1), got {tuple(t.shape)}; "
            "a discriminator should end in Dense(1) with no activation"
        )
    return t


def _batched(x, name: str, min_rank: int = 1) -> tf.Tensor:
    t = _float32(x, name)
    rank = t.shape.rank
    if rank is not None and rank < 1:
        raise ShapeError(f"{name} must have a batch axis first, shape (N, ...), got a scalar")
    if rank is not None and rank < min_rank:
        raise ShapeError(f"{name} must have shape (N, ...) with rank >= {min_rank}, got {tuple(t.shape)}")
    return t


def _pair(a, b, name_a: str, name_b: str, convert: Callable = _batched) -> tuple[tf.Tensor, tf.Tensor]:
    """Both converted (by ``_batched`` or ``_logits``), refused unless their shapes agree."""
    a, b = convert(a, name_a), convert(b, name_b)
    if a.shape.rank is not None and b.shape.rank is not None and not a.shape.is_compatible_with(b.shape):
        raise ShapeError(f"{name_a} and {name_b} must have the same shape, got {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")
    return a, b


def _per_example(x, name: str) -> tf.Tensor:
    t = _batched(x, name)
    if t.shape.rank is not None and t.shape.rank != 1:
        raise ShapeError(f"{name} must be per example, shape (N,), got {tuple(t.shape)}; "
                         "sum over data/latent axes first")
    return t


def _broadcastable(x, name: str, target: tf.Tensor, target_name: str) -> tf.Tensor:
    t = _float32(x, name)
    if t.shape.rank is not None and target.shape.rank is not None:
        try:
            tf.broadcast_static_shape(t.shape, target.shape)
        except ValueError:
            raise ShapeError(f"{name} of shape {tuple(t.shape)} does not broadcast to the shape of "
                             f"{target_name} {tuple(target.shape)}") from None
    return t


def _sum_per_example(t: tf.Tensor) -> tf.Tensor:
    """Sum over every axis but the first: (N, ...) -> (N,). A rank-1 tensor is already per example."""
    if t.shape.rank is not None and t.shape.rank <= 1:
        return t
    return tf.reduce_sum(tf.reshape(t, [tf.shape(t)[0], -1]), axis=1)


def _random(kind: str, shape, seed) -> tf.Tensor:
    """``tf.random.uniform`` / ``normal`` (``seed=None``), else their stateless twins; an int seed
    ``s`` is the stateless seed ``(s, 0)``."""
    if seed is None:
        return getattr(tf.random, kind)(shape, dtype=tf.float32)
    s = tf.convert_to_tensor(seed)
    if s.shape.rank == 0:
        s = tf.stack([tf.cast(s, tf.int64), tf.constant(0, tf.int64)])
    return getattr(tf.random, f"stateless_{kind}")(shape, seed=tf.cast(s, tf.int64), dtype=tf.float32)


# --------------------------------------------------------------------------------------------------
# GAN losses: logits of shape (N,) or (N, 1) in, scalar float32 out


def d_loss_minimax(real_logits, fake_logits) -> tf.Tensor:
    """The original discriminator loss, cross-entropy with real as 1 and fake as 0:
    ``mean(softplus(-real)) + mean(softplus(fake))``, minimised by ``D*(x) = p_data / (p_data + p_g)``.
    The batches may differ in size; ``2 ln 2 ≈ 1.386`` when every logit is 0."""
    real, fake = _logits(real_logits, "real_logits"), _logits(fake_logits, "fake_logits")
    return tf.reduce_mean(tf.nn.softplus(-real)) + tf.reduce_mean(tf.nn.softplus(fake))


def g_loss_minimax(fake_logits) -> tf.Tensor:
    """The original *saturating* generator loss (Goodfellow et al. 2014): ``-mean(softplus(fake))``,
    that is ``mean(log(1 - D(G(z))))``. Its gradient ``-sigmoid(s)`` vanishes when D confidently
    rejects a fake, so a bad generator learns almost nothing. ``-ln 2`` when every logit is 0."""
    return -tf.reduce_mean(tf.nn.softplus(_logits(fake_logits, "fake_logits")))


def g_loss_nonsaturating(fake_logits) -> tf.Tensor:
    """The non-saturating generator loss, the default: ``-mean(log D(G(z))) = mean(softplus(-fake))``.
    Same fixed point as the minimax loss, but its gradient ``-sigmoid(-s)`` tends to -1, not 0, when
    D confidently rejects a fake. ``ln 2`` when every logit is 0."""
    return tf.reduce_mean(tf.nn.softplus(-_logits(fake_logits, "fake_logits")))


def d_loss_hinge(real_logits, fake_logits) -> tf.Tensor:
    """Hinge discriminator loss (Lim & Ye 2017; SAGAN, BigGAN): ``relu(1 - real) + relu(1 + fake)``,
    averaged: real scores are pushed above +1, fakes below -1 (2.0 when every score is 0)."""
    real, fake = _logits(real_logits, "real_logits"), _logits(fake_logits, "fake_logits")
    return tf.reduce_mean(tf.nn.relu(1.0 - real)) + tf.reduce_mean(tf.nn.relu(1.0 + fake))


def d_loss_wasserstein(real_logits, fake_logits) -> tf.Tensor:
    """Wasserstein critic loss (Arjovsky et al. 2017): ``mean(fake) - mean(real)``, on unbounded scores;
    ``-L_D`` estimates the Wasserstein-1 distance while :func:`gradient_penalty` keeps D 1-Lipschitz."""
    real, fake = _logits(real_logits, "real_logits"), _logits(fake_logits, "fake_logits")
    return tf.reduce_mean(fake) - tf.reduce_mean(real)


def g_loss_wasserstein(fake_logits) -> tf.Tensor:
    """The Wasserstein and hinge generator loss: ``L_G = -mean(fake)`` (raise D's score of fakes)."""
    return -tf.reduce_mean(_logits(fake_logits, "fake_logits"))


g_loss_hinge = g_loss_wasserstein  # the hinge GAN differs from WGAN only in D's loss


def rpgan_d_loss(real_logits, fake_logits) -> tf.Tensor:
    """The relativistic pairing discriminator loss (RpGAN, used by R3GAN): ``mean(softplus(fake - real))``.
    Real i is paired with fake i, and D only has to score each real *above* its fake, so a generator
    that drops a mode keeps paying on that mode's reals. ``ln 2`` when each pair scores the same."""
    real, fake = _pair(real_logits, fake_logits, "real_logits", "fake_logits", _logits)
    return tf.reduce_mean(tf.nn.softplus(fake - real))


def rpgan_g_loss(real_logits, fake_logits) -> tf.Tensor:
    """The relativistic pairing generator loss: ``mean(softplus(real - fake))``, the same pairs as
    :func:`rpgan_d_loss` with the roles swapped."""
    real, fake = _pair(real_logits, fake_logits, "real_logits", "fake_logits", _logits)
    return tf.reduce_mean(tf.nn.softplus(real - fake))


# --------------------------------------------------------------------------------------------------
# gradient penalties: call them inside the discriminator's GradientTape (they differentiate
# through a gradient). ``critic`` is a keras model (called with ``training``) or any callable from
# (N, ...) to scores (N,) or (N, 1); inputs have rank >= 2: points (N, D), images (N, H, W, C).


def gradient_penalty(critic: Callable, real, fake, training: bool = True, seed=None) -> tf.Tensor:
    """WGAN-GP's gradient penalty (Gulrajani et al. 2017) without its weight (λ = 10 usually):
    ``mean((‖∇ₓ critic(x̂)‖₂ - 1)²)`` at ``x̂ = α·real + (1 - α)·fake``, one ``α ~ U(0, 1)`` per example.

    The critic must score examples independently (no BatchNorm in training mode). ``seed`` (an int
    or a shape-(2,) int tensor) makes the α draw repeatable; ``None`` uses the global random state.
    """
    real, fake = _pair(real, fake, "real", "fake")
    _batched(real, "real and fake", min_rank=2)
    alpha_shape = tf.concat([tf.shape(real)[:1], tf.ones([tf.rank(real) - 1], tf.int32)], axis=0)
    alpha = _random("uniform", alpha_shape, seed)
    squared = _squared_grad_norms(critic, alpha * real + (1.0 - alpha) * fake, training)
    norms = tf.sqrt(squared + 1e-12)  # the epsilon keeps the gradient of sqrt finite at 0
    return tf.reduce_mean(tf.square(norms - 1.0))


def r1_penalty(discriminator: Callable, images, training: bool = True) -> tf.Tensor:
    """The zero-centred penalty ``mean(‖∇ₓ D(x)‖₂²)`` at ``images``: R1 on real images, R2 on fakes.

    R1 (Mescheder et al. 2018) keeps D from growing sharp edges around real examples; its usual
    weight, the caller's, is ``γ / 2``. R3GAN adds it at reals *and* at fakes (R2); pass fakes with
    their gradient to G stopped.
    """
    return tf.reduce_mean(_squared_grad_norms(discriminator, _batched(images, "real", 2), training))


zero_centred_penalty = r1_penalty  # R1 at real images, R2 at generated ones: one penalty, both names


def _squared_grad_norms(model: Callable, x: tf.Tensor, training: bool) -> tf.Tensor:
    import keras

    with tf.GradientTape() as tape:
        tape.watch(x)
        out = model(x, training=training) if isinstance(model, keras.layers.Layer) else model(x)
        scores = _logits(out, "critic output")
    grads = tape.gradient(scores, x)
    if grads is None:
        raise ShapeError("the critic's output does not depend on its input; cannot take its gradient")
    return _sum_per_example(tf.square(grads))


# --------------------------------------------------------------------------------------------------
# registry


@dataclass(frozen=True)
class GanLoss:
    """A named pair ``d_loss(real_logits, fake_logits)``, ``g_loss(fake_logits)``, as a trainer uses
    them; ``gradient_penalty_weight`` is λ for :func:`gradient_penalty` (0.0: no penalty)."""

    name: str
    d_loss: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]
    g_loss: Callable[[tf.Tensor], tf.Tensor]
    gradient_penalty_weight: float = 0.0
    description: str = ""


GAN_LOSSES: dict[str, GanLoss] = {
    "minimax": GanLoss("minimax", d_loss_minimax, g_loss_minimax, 0.0,
                       "Goodfellow 2014 as written: G minimises log(1 - D(G(z))) (saturates)"),
    "nonsaturating": GanLoss("nonsaturating", d_loss_minimax, g_loss_nonsaturating, 0.0,
                             "minimax D, G minimises -log D(G(z)): the default in practice"),
    "hinge": GanLoss("hinge", d_loss_hinge, g_loss_hinge, 0.0,
                     "hinge D (margins at ±1), G raises D's score of fakes (SAGAN, BigGAN)"),
    "wgan-gp": GanLoss("wgan-gp", d_loss_wasserstein, g_loss_wasserstein, 10.0,
                       "Wasserstein critic with gradient penalty λ = 10 (Gulrajani 2017)"),
}


def get_gan_loss(name: str | GanLoss) -> GanLoss:
    """The :class:`GanLoss` called ``name`` (case-insensitive); a ``GanLoss`` is returned as is."""
    if isinstance(name, GanLoss):
        return name
    key = str(name).strip().lower()
    if key not in GAN_LOSSES:
        raise CharlibError(f"Unknown GAN loss {name!r}; choose one of {sorted(GAN_LOSSES)}.")
    return GAN_LOSSES[key]


# --------------------------------------------------------------------------------------------------
# VAE terms: (N, ...) tensors in, (N,) float32 in nats out, summed over every non-batch axis


def kl_standard_normal(mu, logvar) -> tf.Tensor:
    """KL(N(mu, diag exp(logvar)) ‖ N(0, I)) in closed form, per example:
    ``0.5 * Σ_j (mu_j² + exp(logvar_j) - 1 - logvar_j)``, 0 exactly when the posterior is the prior."""
    return _sum_per_example(kl_standard_normal_per_dim(mu, logvar))


def kl_standard_normal_per_dim(mu, logvar) -> tf.Tensor:
    """The terms of :func:`kl_standard_normal` before the sum, the shape of ``mu`` (what free bits
    puts a floor under)."""
    mu, logvar = _pair(mu, logvar, "mu", "logvar")
    return 0.5 * (tf.square(mu) + tf.exp(logvar) - 1.0 - logvar)


def kl_diag_gaussians(mu_q, logvar_q, mu_p, logvar_p) -> tf.Tensor:
    """KL(q ‖ p) between diagonal Gaussians q = N(mu_q, exp(logvar_q)), p = N(mu_p, exp(logvar_p)):
    ``0.5 * Σ_j [logvar_p - logvar_q + (exp(logvar_q) + (mu_q - mu_p)²) / exp(logvar_p) - 1]``;
    ``mu_p`` and ``logvar_p`` need only broadcast to ``mu_q`` (e.g. a learned prior (D,))."""
    mu_q, logvar_q = _pair(mu_q, logvar_q, "mu_q", "logvar_q")
    mu_p = _broadcastable(mu_p, "mu_p", mu_q, "mu_q")
    logvar_p = _broadcastable(logvar_p, "logvar_p", mu_q, "mu_q")
    term = (logvar_p - logvar_q + (tf.exp(logvar_q) + tf.square(mu_q - mu_p)) * tf.exp(-logvar_p) - 1.0)
    return 0.5 * _sum_per_example(tf.broadcast_to(term, tf.shape(mu_q)))


def gaussian_nll(x, mean, log_sigma=0.0) -> tf.Tensor:
    """Negative log-likelihood of ``x`` under N(mean, sigma²), per example:
    ``Σ_j [0.5 * ((x_j - mean_j) / sigma_j)² + log sigma_j + 0.5 * log(2π)]``, ``log_sigma`` a float
    or a tensor broadcastable to ``x``. With a fixed sigma this is a scaled squared error plus a
    constant, which is why "MSE reconstruction loss" secretly picks sigma."""
    x, mean = _pair(x, mean, "x", "mean")
    log_sigma = _broadcastable(log_sigma, "log_sigma", x, "x")
    per_dim = 0.5 * tf.square((x - mean) * tf.exp(-log_sigma)) + log_sigma + 0.5 * _LOG_2PI
    return _sum_per_example(tf.broadcast_to(per_dim, tf.shape(x)))


def bernoulli_nll(x, logits) -> tf.Tensor:
    """Negative log-likelihood of ``x`` in [0, 1] under Bernoulli(sigmoid(logits)), per example:
    ``Σ_j [softplus(logit_j) - x_j * logit_j]``. Map [-1, 1] data with ``(x + 1) / 2`` first; in eager
    mode a value outside [0, 1] raises :class:`ShapeError`."""
    x, logits = _pair(x, logits, "x", "logits")
    if tf.executing_eagerly() and tf.size(x) > 0:
        lo, hi = float(tf.reduce_min(x)), float(tf.reduce_max(x))
        if lo < 0.0 or hi > 1.0:
            raise ShapeError(f"bernoulli_nll needs x in [0, 1], got values in [{lo:.3g}, {hi:.3g}]; "
                             "map [-1, 1] data with (x + 1) / 2")
    return _sum_per_example(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits))


def negative_elbo(recon_nll, kl, beta: float = 1.0) -> tf.Tensor:
    """Per-example negative ELBO ``recon_nll + beta * kl`` from two (N,) terms: with ``beta = 1`` an
    upper bound on ``-log p(x)``, otherwise (β-VAE) no longer a bound. Average it yourself."""
    recon_nll, kl = _pair(recon_nll, kl, "recon_nll", "kl", _per_example)
    return recon_nll + float(beta) * kl


def bits_per_dim(nats, n_dims: int) -> tf.Tensor:
    """Nats (scalar or per example) to bits per dimension, ``nats / (n_dims * ln 2)``; a 32×32×3
    image has ``n_dims = 3072``."""
    if int(n_dims) != n_dims or n_dims <= 0:
        raise ShapeError(f"n_dims must be a positive integer, got {n_dims!r}")
    return _float32(nats, "nats") / (float(n_dims) * math.log(2.0))


def reparameterize(mu, logvar, seed=None) -> tf.Tensor:
    """The reparameterisation trick, ``z = mu + exp(0.5 * logvar) * eps`` with ``eps ~ N(0, I)``:
    the randomness sits outside the network, so gradients flow to ``mu`` and ``logvar``. ``seed`` is
    ``None`` (the global random state) or a stateless seed (an int or a shape-(2,) int tensor)."""
    mu, logvar = _pair(mu, logvar, "mu", "logvar")
    return mu + tf.exp(0.5 * logvar) * _random("normal", tf.shape(mu), seed)
