"""A Gaussian mixture fitted to where a VAE's encoder actually puts the data: an ex-post prior.

A VAE is trained so that the *aggregate posterior* q(z) = E_x[q(z|x)] comes close to the prior
N(0, I), but after a short training run it fills only part of the Gaussian ball, and a z drawn from
N(0, I) often lands in a "hole" that no training image encodes to, where the decoder draws a smudge.
The cheap, well-documented fix (Ghosh et al. 2020, "From Variational to Deterministic
Autoencoders", ex-post density estimation) is to fit a density to the encoder's means of the
training images after training and to sample z from it; the decoder is unchanged. Here that
density is a full-covariance Gaussian mixture fitted by expectation maximisation in NumPy
(k-means++ start, a small ridge on each covariance so no component can shrink to a point).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["GaussianMixturePrior", "fit_gaussian_mixture"]


@dataclass(frozen=True, eq=False)
class GaussianMixturePrior:
    """A mixture of K full-covariance Gaussians in D dimensions, saved to and loaded from ``.npz``."""

    weights: np.ndarray  # (K,), summing to 1
    means: np.ndarray  # (K, D)
    covariances: np.ndarray  # (K, D, D), symmetric positive definite

    @property
    def n_components(self) -> int:
        return len(self.weights)

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def sample(self, n: int, seed: int | np.random.Generator = 0, temperature: float = 1.0) -> np.ndarray:
        """``n`` latents (n, D) float32: a component by its weight, then its Gaussian, its spread
        scaled by ``temperature`` (1.0 samples the fitted density itself)."""
        rng = np.random.default_rng(seed)
        which = rng.choice(self.n_components, size=int(n), p=self.weights)
        chol = np.linalg.cholesky(self.covariances)  # (K, D, D)
        eps = rng.standard_normal((int(n), self.dim))
        z = self.means[which] + temperature * np.einsum("nij,nj->ni", chol[which], eps)
        return z.astype(np.float32)

    def log_prob(self, z: np.ndarray) -> np.ndarray:
        """log p(z) for latents (N, D), in nats: (N,)."""
        return _logsumexp(_component_log_probs(np.asarray(z, np.float64), self), axis=1)

    def save(self, path: str | Path, **metadata: int | float) -> Path:
        """Write the mixture to one ``.npz`` file atomically, ``metadata`` (e.g. ``step=4300``) beside
        the arrays (:meth:`load` ignores it)."""
        from charlib.base.io import atomic_write_bytes

        buffer = io.BytesIO()
        np.savez(buffer, weights=self.weights, means=self.means, covariances=self.covariances, **metadata)
        path = Path(path)
        atomic_write_bytes(path, buffer.getvalue())
        return path

    @classmethod
    def load(cls, path: str | Path) -> GaussianMixturePrior:
        with np.load(Path(path)) as data:
            return cls(data["weights"], data["means"], data["covariances"])


def _component_log_probs(z: np.ndarray, gmm: GaussianMixturePrior) -> np.ndarray:
    """log w_k + log N(z | m_k, S_k) for every point and component: (N, K)."""
    d = z.shape[1]
    chol = np.linalg.cholesky(gmm.covariances)  # S_k = L_k L_k^T
    out = np.empty((len(z), gmm.n_components))
    for k in range(gmm.n_components):
        # y = L^-1 (z - m)^T, so that |y|^2 = (z - m)^T S^-1 (z - m); one small inverse, one matmul
        y = np.linalg.inv(chol[k]) @ (z - gmm.means[k]).T
        log_det = 2.0 * np.sum(np.log(np.diag(chol[k])))
        out[:, k] = np.log(gmm.weights[k]) - 0.5 * (np.sum(y * y, axis=0) + log_det + d * np.log(2 * np.pi))
    return out


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    top = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(top, axis=axis) + np.log(np.sum(np.exp(a - top), axis=axis))


def _kmeans_pp(z: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding: each new centre drawn with probability proportional to squared distance."""
    centres = [z[rng.integers(len(z))]]
    d2 = np.sum((z - centres[0]) ** 2, axis=1)
    for _ in range(1, k):
        total = d2.sum()
        i = rng.integers(len(z)) if total <= 0 else rng.choice(len(z), p=d2 / total)
        centres.append(z[i])
        d2 = np.minimum(d2, np.sum((z - z[i]) ** 2, axis=1))
    return np.stack(centres)


def fit_gaussian_mixture(z: np.ndarray, n_components: int = 10, *, iterations: int = 100,
                         ridge: float = 1e-3, tol: float = 1e-5, seed: int = 0) -> GaussianMixturePrior:
    """Fit K = ``n_components`` full-covariance Gaussians to latents ``z`` (N, D) by EM.

    At most ``iterations`` rounds, fewer once the mean log-likelihood gains less than ``tol``;
    ``ridge`` is added to each covariance's diagonal, relative to the data's mean variance; ``seed``
    makes the k-means++ start repeatable. Refuses (ValueError) non-finite or non-2-D ``z``, K > N.
    """
    z = np.asarray(z, np.float64)
    if z.ndim != 2:
        raise ValueError(f"z must be (N, D), got shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError("z holds NaN or infinite values")
    if not 1 <= n_components <= len(z):
        raise ValueError(f"n_components must be between 1 and N = {len(z)}, got {n_components}")
    d = z.shape[1]
    eps = ridge * max(float(np.mean(np.var(z, axis=0))), 1e-12) * np.eye(d)
    means = _kmeans_pp(z, n_components, np.random.default_rng(seed))
    # start: the k-means++ centres, each with the data's covariance, equal weights
    covariances = np.repeat((np.cov(z, rowvar=False).reshape(d, d) + eps)[None], n_components, axis=0)
    gmm = GaussianMixturePrior(np.full(n_components, 1.0 / n_components), means, covariances)
    previous = -np.inf
    for _ in range(iterations):
        log_p = _component_log_probs(z, gmm)  # E step: responsibilities
        log_norm = _logsumexp(log_p, axis=1)
        resp = np.exp(log_p - log_norm[:, None])
        counts = resp.sum(axis=0) + 1e-10  # M step
        means = (resp.T @ z) / counts[:, None]
        covariances = np.empty((n_components, d, d))
        for k in range(n_components):
            centred = z - means[k]
            covariances[k] = (resp[:, k, None] * centred).T @ centred / counts[k] + eps
        gmm = GaussianMixturePrior(counts / counts.sum(), means, covariances)
        current = float(np.mean(log_norm))
        if current - previous < tol:
            break
        previous = current
    return gmm
