"""Every loss in the course, in one place: GAN losses on logits, and the VAE's ELBO terms.

All the GAN losses here take *logits*, the discriminator's raw pre-sigmoid scores, never
probabilities. The reason is numerical: through a probability, ``log(1 - sigmoid(s))`` becomes
``log(0) = -inf`` in float32 once ``s`` passes about 17 (``sigmoid(17)`` rounds to 1), and Keras'
probability cross-entropy clips to ``[1e-7, 1 - 1e-7]`` instead, so its loss stops at 15.94 and its
gradient is exactly 0 there, just when the discriminator is most confidently wrong. Written on the
logit, the same quantity is ``softplus(s) = log(1 + exp(s))``, exact for every ``s``, with gradient
``sigmoid(s)`` that never rounds to 0 where it matters. So a discriminator in this course ends in a
``Dense(1)`` with no activation, and these losses apply the sigmoid implicitly through softplus. The
source article gets this wrong: it puts a sigmoid on the discriminator's output *and* passes that
output to ``BinaryCrossentropy(from_logits=True)``, which applies a second sigmoid, so every
"probability" is squashed into [0.5, 0.73] and both the loss and its gradients are wrong (notebook
02 shows the numbers). The VAE terms are per example, in nats, summed over the data or latent
dimensions, so that ``negative_elbo`` is a true bound on ``-log p(x)`` and :func:`bits_per_dim` can
turn it into the unit papers report. Shapes are checked, and misuse raises
:class:`charlib.errors.ShapeError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import tensorflow as tf

from charlib.errors import CharlibError, ShapeError

__all__ = [
    "GAN_LOSSES",
    "GanLoss",
    "bernoulli_nll",
    "bits_per_dim",
    "d_loss_hinge",
    "d_loss_minimax",
    "d_loss_wasserstein",
    "g_loss_hinge",
    "g_loss_minimax",
    "g_loss_nonsaturating",
    "g_loss_wasserstein",
    "gaussian_nll",
    "get_gan_loss",
    "gradient_penalty",
    "kl_diag_gaussians",
    "kl_standard_normal",
    "negative_elbo",
    "r1_penalty",
    "reparameterize",
    "rpgan_d_loss",
    "rpgan_g_loss",
    "zero_centred_penalty",
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
    if rank is None:  # unknown rank while tracing: trust the caller
        return t
    if rank == 2 and t.shape[-1] == 1:
        return t[:, 0]
    if rank != 1:
        raise ShapeError(
            f"{name} must be one logit per example, shape (N,) or (N, 1), got {tuple(t.shape)}; "
            "a discriminator should end in Dense(1) with no activation"
        )
    return t


def _batched(x, name: str) -> tf.Tensor:
    t = _float32(x, name)
    if t.shape.rank is not None and t.shape.rank < 1:
        raise ShapeError(f"{name} must have a batch axis first, shape (N, ...), got a scalar")
    return t


def _same_shape(a: tf.Tensor, b: tf.Tensor, name_a: str, name_b: str) -> None:
    if a.shape.rank is not None and b.shape.rank is not None and not a.shape.is_compatible_with(b.shape):
        raise ShapeError(f"{name_a} and {name_b} must have the same shape, got {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")


def _sum_per_example(t: tf.Tensor) -> tf.Tensor:
    """Sum over every axis but the first: (N, ...) -> (N,). A rank-1 tensor is already per example."""
    rank = t.shape.rank
    if rank is not None and rank <= 1:
        return t
    return tf.reduce_sum(tf.reshape(t, [tf.shape(t)[0], -1]), axis=1)


def _call(model: Callable, x: tf.Tensor, training: bool) -> tf.Tensor:
    """Call a keras model/layer with ``training``; call any other callable with ``x`` only."""
    import keras

    if isinstance(model, keras.layers.Layer):
        return model(x, training=training)
    return model(x)


# --------------------------------------------------------------------------------------------------
# GAN losses: logits in, scalar float32 out


def d_loss_minimax(real_logits, fake_logits) -> tf.Tensor:
    """The original discriminator loss: binary cross-entropy with real as 1 and fake as 0.

    ``L_D = -E[log D(x)] - E[log(1 - D(G(z)))] = mean(softplus(-real)) + mean(softplus(fake))``,
    where ``D = sigmoid(logit)``. Its minimum over D is the optimal discriminator
    ``D*(x) = p_data(x) / (p_data(x) + p_g(x))``.

    Args:
        real_logits: (N,) or (N, 1) discriminator logits on real data.
        fake_logits: (M,) or (M, 1) logits on generated data (M may differ from N).

    Returns:
        Scalar float32: the sum of the two batch means. ``2 ln 2 ≈ 1.386`` when every logit is 0.
    """
    real = _logits(real_logits, "real_logits")
    fake = _logits(fake_logits, "fake_logits")
    return tf.reduce_mean(tf.nn.softplus(-real)) + tf.reduce_mean(tf.nn.softplus(fake))


def g_loss_minimax(fake_logits) -> tf.Tensor:
    """The original *saturating* generator loss: minimise ``E[log(1 - D(G(z)))]``.

    ``L_G = mean(log(1 - sigmoid(fake))) = -mean(softplus(fake))``. This is the generator's side of
    the minimax game exactly as Goodfellow et al. (2014) wrote it. Its gradient with respect to a
    fake logit ``s`` is ``-sigmoid(s)``, which tends to 0 when D confidently rejects a fake
    (``s -> -inf``): early in training, when the generator is bad, it learns almost nothing. Use
    :func:`g_loss_nonsaturating` in practice; this one is here to be compared with it.

    Args:
        fake_logits: (N,) or (N, 1) discriminator logits on generated data.

    Returns:
        Scalar float32 (always negative; ``-ln 2`` when every logit is 0).
    """
    fake = _logits(fake_logits, "fake_logits")
    return -tf.reduce_mean(tf.nn.softplus(fake))


def g_loss_nonsaturating(fake_logits) -> tf.Tensor:
    """The non-saturating generator loss: minimise ``-E[log D(G(z))]``, the default in practice.

    ``L_G = mean(softplus(-fake))``: binary cross-entropy of the fakes against the label *real*.
    Same fixed point as the minimax loss, but its gradient with respect to a fake logit ``s`` is
    ``-sigmoid(-s)``, which tends to -1 (not 0) when D confidently rejects a fake, so a poor
    generator still gets a strong signal.

    Args:
        fake_logits: (N,) or (N, 1) discriminator logits on generated data.

    Returns:
        Scalar float32 (``ln 2`` when every logit is 0).
    """
    fake = _logits(fake_logits, "fake_logits")
    return tf.reduce_mean(tf.nn.softplus(-fake))


def d_loss_hinge(real_logits, fake_logits) -> tf.Tensor:
    """Hinge discriminator loss (Lim & Ye 2017; used by SAGAN and BigGAN).

    ``L_D = mean(relu(1 - real)) + mean(relu(1 + fake))``: real scores are pushed above +1, fake
    scores below -1, and examples already past their margin contribute nothing.

    Args:
        real_logits: (N,) or (N, 1) discriminator scores on real data.
        fake_logits: (M,) or (M, 1) scores on generated data.

    Returns:
        Scalar float32 (2.0 when every score is 0).
    """
    real = _logits(real_logits, "real_logits")
    fake = _logits(fake_logits, "fake_logits")
    return tf.reduce_mean(tf.nn.relu(1.0 - real)) + tf.reduce_mean(tf.nn.relu(1.0 + fake))


def g_loss_hinge(fake_logits) -> tf.Tensor:
    """Hinge generator loss: ``L_G = -mean(fake)`` (raise the discriminator's score of fakes).

    Args:
        fake_logits: (N,) or (N, 1) discriminator scores on generated data.

    Returns:
        Scalar float32.
    """
    return -tf.reduce_mean(_logits(fake_logits, "fake_logits"))


def d_loss_wasserstein(real_logits, fake_logits) -> tf.Tensor:
    """Wasserstein critic loss (Arjovsky et al. 2017): ``L_D = mean(fake) - mean(real)``.

    The critic's scores are unbounded reals, not logits of a probability; minimising this while
    the critic is kept (roughly) 1-Lipschitz makes ``-L_D`` an estimate of the Wasserstein-1
    distance. Add :func:`gradient_penalty` (WGAN-GP) to enforce the Lipschitz constraint.

    Args:
        real_logits: (N,) or (N, 1) critic scores on real data.
        fake_logits: (M,) or (M, 1) critic scores on generated data.

    Returns:
        Scalar float32.
    """
    real = _logits(real_logits, "real_logits")
    fake = _logits(fake_logits, "fake_logits")
    return tf.reduce_mean(fake) - tf.reduce_mean(real)


def g_loss_wasserstein(fake_logits) -> tf.Tensor:
    """Wasserstein generator loss: ``L_G = -mean(fake)``.

    Args:
        fake_logits: (N,) or (N, 1) critic scores on generated data.

    Returns:
        Scalar float32.
    """
    return -tf.reduce_mean(_logits(fake_logits, "fake_logits"))


def rpgan_d_loss(real_logits, fake_logits) -> tf.Tensor:
    """The relativistic pairing discriminator loss (RpGAN, used by R3GAN): ``mean(softplus(fake - real))``.

    Real example i is paired with fake example i, and D is asked only to score the real *above* its
    fake, not to give either an absolute verdict. Every fake is judged against a real one, so a
    generator that drops a mode keeps paying on the reals of that mode.

    Args:
        real_logits: (N,) or (N, 1) discriminator logits on real data.
        fake_logits: (N,) or (N, 1) logits on generated data, paired with them.

    Returns:
        Scalar float32 (``ln 2`` when each fake scores the same as its real).
    """
    real = _logits(real_logits, "real_logits")
    fake = _logits(fake_logits, "fake_logits")
    _same_shape(real, fake, "real_logits", "fake_logits")
    return tf.reduce_mean(tf.nn.softplus(fake - real))


def rpgan_g_loss(real_logits, fake_logits) -> tf.Tensor:
    """The relativistic pairing generator loss: ``mean(softplus(real - fake))``, the same pairs as
    :func:`rpgan_d_loss` with the roles swapped (G wants each fake scored above its real)."""
    real = _logits(real_logits, "real_logits")
    fake = _logits(fake_logits, "fake_logits")
    _same_shape(real, fake, "real_logits", "fake_logits")
    return tf.reduce_mean(tf.nn.softplus(real - fake))


def _stateless_seed(seed) -> tf.Tensor | None:
    if seed is None:
        return None
    s = tf.convert_to_tensor(seed)
    if s.shape.rank == 0:
        s = tf.stack([tf.cast(s, tf.int64), tf.constant(0, tf.int64)])
    return tf.cast(s, tf.int64)


def gradient_penalty(critic: Callable, real, fake, training: bool = True, seed=None) -> tf.Tensor:
    """WGAN-GP's gradient penalty (Gulrajani et al. 2017), without its weight (λ = 10 usually).

    For each example, ``x̂ = α·real + (1 - α)·fake`` with ``α ~ U(0, 1)`` drawn once per example
    and broadcast over every other axis; the penalty is ``mean((‖∇ₓ critic(x̂)‖₂ - 1)²)``, which
    pushes the critic's gradient norm towards 1 along lines between real and fake data (a soft
    1-Lipschitz constraint). Works for any input rank >= 2: points (N, D), images (N, H, W, C).
    Call it inside the discriminator's ``GradientTape``: it differentiates through the gradient.
    The critic must treat examples independently (no BatchNorm in training mode), else the
    per-example gradients mix.

    Args:
        critic: a keras model (called with ``training``) or any callable mapping (N, ...) to scores
            of shape (N,) or (N, 1).
        real: (N, ...) real examples.
        fake: (N, ...) generated examples, the same shape as ``real``.
        training: passed to a keras critic.
        seed: optional stateless seed (an int or a shape-(2,) int tensor) for the α draw, for
            repeatable runs; ``None`` uses TensorFlow's global random state.

    Returns:
        Scalar float32 penalty.
    """
    real = _batched(real, "real")
    fake = _batched(fake, "fake")
    _same_shape(real, fake, "real", "fake")
    if real.shape.rank is not None and real.shape.rank < 2:
        raise ShapeError(f"real and fake must have shape (N, ...) with rank >= 2, got {tuple(real.shape)}")
    alpha_shape = tf.concat([tf.shape(real)[:1], tf.ones([tf.rank(real) - 1], tf.int32)], axis=0)
    stateless = _stateless_seed(seed)
    if stateless is None:
        alpha = tf.random.uniform(alpha_shape, dtype=tf.float32)
    else:
        alpha = tf.random.stateless_uniform(alpha_shape, seed=stateless, dtype=tf.float32)
    x_hat = alpha * real + (1.0 - alpha) * fake
    return _grad_norm_penalty(critic, x_hat, training, target=1.0)


def r1_penalty(discriminator: Callable, real, training: bool = True) -> tf.Tensor:
    """R1 regulariser (Mescheder et al. 2018): ``mean(‖∇ₓ D(x)‖₂²)`` on real data only.

    Penalising the discriminator's gradient on the data keeps it from growing sharp edges around
    real examples, which stabilises training near equilibrium. The usual weight is ``γ / 2``
    (γ = 10 in StyleGAN at 1024², much smaller for small images); the weight is the caller's.

    Args:
        discriminator: a keras model or callable mapping (N, ...) to logits (N,) or (N, 1).
        real: (N, ...) real examples, rank >= 2.
        training: passed to a keras discriminator.

    Returns:
        Scalar float32.
    """
    real = _batched(real, "real")
    if real.shape.rank is not None and real.shape.rank < 2:
        raise ShapeError(f"real must have shape (N, ...) with rank >= 2, got {tuple(real.shape)}")
    return _grad_norm_penalty(discriminator, real, training, target=None)


def zero_centred_penalty(discriminator: Callable, images, training: bool = True) -> tf.Tensor:
    """``mean(‖∇ₓ D(x)‖₂²)`` at the given images: R1 on real images, R2 on generated ones.

    The same zero-centred penalty as :func:`r1_penalty`, named for both of its uses: R3GAN adds
    ``(γ/2)`` times it at real images (R1) *and* at fakes (R2), so D is smooth wherever G's samples
    are as well as around the data. Pass fakes with their gradient to G stopped.
    """
    return r1_penalty(discriminator, images, training)


def _grad_norm_penalty(model: Callable, x: tf.Tensor, training: bool, target: float | None) -> tf.Tensor:
    with tf.GradientTape() as tape:
        tape.watch(x)
        scores = _logits(_call(model, x, training), "critic output")
    grads = tape.gradient(scores, x)
    if grads is None:
        raise ShapeError("the critic's output does not depend on its input; cannot take its gradient")
    squared = _sum_per_example(tf.square(grads))
    if target is None:
        return tf.reduce_mean(squared)
    norms = tf.sqrt(squared + 1e-12)  # the epsilon keeps the gradient of sqrt finite at 0
    return tf.reduce_mean(tf.square(norms - target))


# --------------------------------------------------------------------------------------------------
# registry


@dataclass(frozen=True)
class GanLoss:
    """A named pair of GAN losses, as a trainer uses them.

    Attributes:
        name: the registry key.
        d_loss: ``(real_logits, fake_logits) -> scalar`` discriminator (critic) loss.
        g_loss: ``(fake_logits) -> scalar`` generator loss.
        gradient_penalty_weight: λ for :func:`gradient_penalty` added to the D loss (10.0 for
            ``"wgan-gp"``, else 0.0: no penalty).
        description: one line for tables and reports.
    """

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
    """The :class:`GanLoss` called ``name`` (case-insensitive); a ``GanLoss`` is returned as is.

    Raises:
        CharlibError: for an unknown name, listing the valid ones.
    """
    if isinstance(name, GanLoss):
        return name
    key = str(name).strip().lower()
    if key not in GAN_LOSSES:
        raise CharlibError(f"Unknown GAN loss {name!r}; choose one of {sorted(GAN_LOSSES)}.")
    return GAN_LOSSES[key]


# --------------------------------------------------------------------------------------------------
# VAE terms: per example, in nats


def kl_standard_normal(mu, logvar) -> tf.Tensor:
    """KL(N(mu, diag exp(logvar)) ‖ N(0, I)) in closed form, per example.

    ``KL = 0.5 * Σ_j (mu_j² + exp(logvar_j) - 1 - logvar_j)``, summed over every latent axis.
    It is 0 exactly when mu = 0 and logvar = 0 (the posterior equals the prior).

    Args:
        mu: (N, ...) posterior means.
        logvar: log-variances, the same shape as ``mu``.

    Returns:
        (N,) float32 in nats.
    """
    return _sum_per_example(kl_standard_normal_per_dim(mu, logvar))


def kl_standard_normal_per_dim(mu, logvar) -> tf.Tensor:
    """The terms of :func:`kl_standard_normal` before the sum: one KL per latent dimension.

    Args:
        mu: (N, ...) posterior means.
        logvar: log-variances, the same shape as ``mu``.

    Returns:
        float32 in nats, the shape of ``mu`` (what free bits puts a floor under).
    """
    mu = _batched(mu, "mu")
    logvar = _batched(logvar, "logvar")
    _same_shape(mu, logvar, "mu", "logvar")
    return 0.5 * (tf.square(mu) + tf.exp(logvar) - 1.0 - logvar)


def kl_diag_gaussians(mu_q, logvar_q, mu_p, logvar_p) -> tf.Tensor:
    """KL(q ‖ p) between diagonal Gaussians q = N(mu_q, exp(logvar_q)), p = N(mu_p, exp(logvar_p)).

    ``KL = 0.5 * Σ_j [logvar_p - logvar_q + (exp(logvar_q) + (mu_q - mu_p)²) / exp(logvar_p) - 1]``.
    With mu_p = 0 and logvar_p = 0 it is :func:`kl_standard_normal`.

    Args:
        mu_q, logvar_q: (N, ...) parameters of q, the same shape.
        mu_p, logvar_p: parameters of p, broadcastable to that shape (e.g. a learned prior (D,)).

    Returns:
        (N,) float32 in nats.
    """
    mu_q = _batched(mu_q, "mu_q")
    logvar_q = _batched(logvar_q, "logvar_q")
    _same_shape(mu_q, logvar_q, "mu_q", "logvar_q")
    mu_p = _float32(mu_p, "mu_p")
    logvar_p = _float32(logvar_p, "logvar_p")
    for name, t in (("mu_p", mu_p), ("logvar_p", logvar_p)):
        if t.shape.rank is not None and mu_q.shape.rank is not None:
            try:
                tf.broadcast_static_shape(t.shape, mu_q.shape)
            except ValueError:
                raise ShapeError(f"{name} of shape {tuple(t.shape)} does not broadcast to the shape "
                                 f"of mu_q {tuple(mu_q.shape)}") from None
    term = (logvar_p - logvar_q + (tf.exp(logvar_q) + tf.square(mu_q - mu_p)) * tf.exp(-logvar_p) - 1.0)
    term = tf.broadcast_to(term, tf.shape(mu_q))
    return 0.5 * _sum_per_example(term)


def gaussian_nll(x, mean, log_sigma=0.0) -> tf.Tensor:
    """Negative log-likelihood of ``x`` under N(mean, sigma²), per example.

    ``NLL = Σ_j [0.5 * ((x_j - mean_j) / sigma_j)² + log sigma_j + 0.5 * log(2π)]``, summed over
    every non-batch axis. With a fixed ``log_sigma`` this is a scaled squared error plus a constant,
    which is why "MSE reconstruction loss" secretly picks sigma: the ratio of MSE to KL weight is a
    choice of sigma, not a detail.

    Args:
        x: (N, ...) data.
        mean: the decoder's means, the same shape as ``x``.
        log_sigma: log standard deviation; a Python float, a scalar, or a tensor broadcastable to
            ``x`` (e.g. one learned value per channel).

    Returns:
        (N,) float32 in nats.
    """
    x = _batched(x, "x")
    mean = _batched(mean, "mean")
    _same_shape(x, mean, "x", "mean")
    log_sigma = _float32(log_sigma, "log_sigma")
    if log_sigma.shape.rank is not None and x.shape.rank is not None:
        try:
            tf.broadcast_static_shape(log_sigma.shape, x.shape)
        except ValueError:
            raise ShapeError(f"log_sigma of shape {tuple(log_sigma.shape)} does not broadcast to x "
                             f"{tuple(x.shape)}") from None
    z = (x - mean) * tf.exp(-log_sigma)
    per_dim = 0.5 * tf.square(z) + log_sigma + 0.5 * _LOG_2PI
    return _sum_per_example(tf.broadcast_to(per_dim, tf.shape(x)))


def bernoulli_nll(x, logits) -> tf.Tensor:
    """Negative log-likelihood of ``x`` in [0, 1] under Bernoulli(sigmoid(logits)), per example.

    ``NLL = Σ_j [softplus(logit_j) - x_j * logit_j]`` (sigmoid cross-entropy with logits), summed
    over every non-batch axis. Data scaled to [-1, 1] (the course's pipeline) must be mapped back
    with ``(x + 1) / 2`` first; in eager mode a value outside [0, 1] raises :class:`ShapeError`.

    Args:
        x: (N, ...) targets in [0, 1].
        logits: the decoder's logits, the same shape as ``x``.

    Returns:
        (N,) float32 in nats.
    """
    x = _batched(x, "x")
    logits = _batched(logits, "logits")
    _same_shape(x, logits, "x", "logits")
    if tf.executing_eagerly() and tf.size(x) > 0:
        lo, hi = float(tf.reduce_min(x)), float(tf.reduce_max(x))
        if lo < 0.0 or hi > 1.0:
            raise ShapeError(f"bernoulli_nll needs x in [0, 1], got values in [{lo:.3g}, {hi:.3g}]; "
                             "map [-1, 1] data with (x + 1) / 2")
    return _sum_per_example(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits))


def negative_elbo(recon_nll, kl, beta: float = 1.0) -> tf.Tensor:
    """Per-example negative ELBO: ``recon_nll + beta * kl``, the loss a VAE minimises.

    With ``beta = 1`` it is an upper bound on ``-log p(x)``; ``beta != 1`` gives the β-VAE
    objective, which is no longer a bound. Average it over the batch yourself (``tf.reduce_mean``).

    Args:
        recon_nll: (N,) reconstruction negative log-likelihood (e.g. :func:`gaussian_nll`).
        kl: (N,) KL term (e.g. :func:`kl_standard_normal`).
        beta: weight of the KL term.

    Returns:
        (N,) float32 in nats.
    """
    recon_nll = _batched(recon_nll, "recon_nll")
    kl = _batched(kl, "kl")
    for name, t in (("recon_nll", recon_nll), ("kl", kl)):
        if t.shape.rank is not None and t.shape.rank != 1:
            raise ShapeError(f"{name} must be per example, shape (N,), got {tuple(t.shape)}; "
                             "sum over data/latent axes first")
    _same_shape(recon_nll, kl, "recon_nll", "kl")
    return recon_nll + float(beta) * kl


def bits_per_dim(nats, n_dims: int) -> tf.Tensor:
    """Convert a negative log-likelihood in nats per example into bits per dimension.

    ``bpd = nats / (n_dims * ln 2)``; e.g. a 32×32×3 image has ``n_dims = 3072``.

    Args:
        nats: scalar or (N,) values in nats.
        n_dims: how many data dimensions each example has (> 0).

    Returns:
        float32, the same shape as ``nats``.
    """
    if int(n_dims) != n_dims or n_dims <= 0:
        raise ShapeError(f"n_dims must be a positive integer, got {n_dims!r}")
    return _float32(nats, "nats") / (float(n_dims) * math.log(2.0))


def reparameterize(mu, logvar, seed=None) -> tf.Tensor:
    """Sample ``z = mu + exp(0.5 * logvar) * eps`` with ``eps ~ N(0, I)``: the reparameterisation trick.

    The randomness sits in ``eps``, outside the network, so gradients flow to ``mu`` and
    ``logvar``.

    Args:
        mu: (N, ...) means.
        logvar: log-variances, the same shape as ``mu``.
        seed: ``None`` for TensorFlow's global random state, or a stateless seed (an int or a
            shape-(2,) int tensor): the same seed gives the same ``eps``.

    Returns:
        float32, the shape of ``mu``.
    """
    mu = _batched(mu, "mu")
    logvar = _batched(logvar, "logvar")
    _same_shape(mu, logvar, "mu", "logvar")
    stateless = _stateless_seed(seed)
    if stateless is None:
        eps = tf.random.normal(tf.shape(mu), dtype=tf.float32)
    else:
        eps = tf.random.stateless_normal(tf.shape(mu), seed=stateless, dtype=tf.float32)
    return mu + tf.exp(0.5 * logvar) * eps
