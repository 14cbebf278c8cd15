"""Precision, recall, density, coverage and a Fréchet distance between two sets of feature vectors.

A single number cannot tell "sharp but repetitive" from "diverse but blurry"; these metrics split
the two. Embed real and generated images in a feature space (here the penultimate layer of the
sprite classifier, :mod:`charlib.diagnostics.classifier`) and around every point draw a ball
reaching its k-th nearest neighbour in its own set: the union of the balls estimates the set's
*manifold*.

* **Precision** (Kynkäänniemi et al. 2019): the share of generated points inside the real manifold
  (are samples realistic?). **Recall**: the share of real points inside the generated manifold
  (is the data's variety produced?). Mode collapse shows as high precision, low recall.
* **Density** (Naeem et al. 2020): how many real balls hold each generated point, divided by k
  (about 1 for matching distributions; it is not capped at 1, and stays robust to real outliers).
  **Coverage**: the share of real points whose own ball holds at least one generated point; a
  fairer recall, because a few far-out fake points cannot inflate it.
* **Fréchet distance**: fit a Gaussian to each set and compute
  ``‖μ_r − μ_g‖² + Tr(Σ_r + Σ_g − 2 (Σ_r^{1/2} Σ_g Σ_r^{1/2})^{1/2})``. In Inception features this
  is the FID; in our classifier's features it is a *Fréchet classifier distance* (FCD), and its
  values are not comparable with published FIDs.

Distances are computed ``block`` rows at a time, so 10,000 × 10,000 sets need tens of megabytes,
not gigabytes; the matrix square roots use symmetric eigendecompositions, no scipy.
"""

from __future__ import annotations

import numpy as np

from charlib.errors import ShapeError

__all__ = [
    "frechet_distance", "frechet_distance_gaussians", "kth_neighbour_distances", "nearest_distances",
    "prdc", "sqrtm_psd"
]


def _check(x: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2 or len(a) == 0:
        raise ShapeError(f"{name} must be a non-empty (N, D) array of features, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ShapeError(f"{name} contains NaN or infinite values")
    return a


def _sq_dist_block(a: np.ndarray, b: np.ndarray, b_sq: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances (len(a), len(b)), clipped at 0 against rounding."""
    d = (a * a).sum(axis=1)[:, None] + b_sq[None, :] - 2.0 * (a @ b.T)
    return np.maximum(d, 0.0)


def kth_neighbour_distances(x: np.ndarray, k: int = 5, block: int = 1024) -> np.ndarray:
    """Distance (N,) from each point of ``x`` (N, D) to its k-th nearest *other* point: its k-NN radius."""
    x = _check(x, "x")
    if not 1 <= k < len(x):
        raise ShapeError(f"k must be in [1, N) = [1, {len(x)}), got {k}")
    x_sq = (x * x).sum(axis=1)
    radii = np.empty(len(x))
    for start in range(0, len(x), block):
        d = _sq_dist_block(x[start : start + block], x, x_sq)
        d[np.arange(len(d)), np.arange(start, start + len(d))] = -1.0  # self sorts first, is skipped
        radii[start : start + len(d)] = np.partition(d, k, axis=1)[:, k]
    return np.sqrt(radii)


def nearest_distances(a: np.ndarray, b: np.ndarray, block: int = 1024) -> np.ndarray:
    """Distance (len(a),) from every point of ``a`` to its nearest point in ``b``."""
    a, b = _check(a, "a"), _check(b, "b")
    b_sq = (b * b).sum(axis=1)
    return np.sqrt(np.concatenate([_sq_dist_block(a[s : s + block], b, b_sq).min(axis=1)
                                   for s in range(0, len(a), block)]))


def _ball_counts(points: np.ndarray, centres: np.ndarray, radii: np.ndarray, block: int) -> np.ndarray:
    """For each of ``points``: how many balls (centre, radius) contain it (distance ≤ radius)."""
    c_sq = (centres * centres).sum(axis=1)
    r_sq = radii * radii
    counts = np.empty(len(points), dtype=np.int64)
    for s in range(0, len(points), block):
        d = _sq_dist_block(points[s : s + block], centres, c_sq)
        counts[s : s + len(d)] = (d <= r_sq[None, :]).sum(axis=1)
    return counts


def prdc(real_features: np.ndarray, fake_features: np.ndarray, k: int = 5,
         block: int = 1024) -> dict[str, float]:
    """Precision, recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020).

    With real points r_i (N of them), fake points f_j (M), and NND_k(·) the distance to the k-th
    nearest neighbour within the point's own set:

    * precision = (1/M) Σ_j 1[∃ i: ‖f_j − r_i‖ ≤ NND_k(r_i)]
    * recall    = (1/N) Σ_i 1[∃ j: ‖r_i − f_j‖ ≤ NND_k(f_j)]
    * density   = (1/(kM)) Σ_j Σ_i 1[‖f_j − r_i‖ ≤ NND_k(r_i)]
    * coverage  = (1/N) Σ_i 1[min_j ‖r_i − f_j‖ ≤ NND_k(r_i)]

    k = 5 is the choice Naeem et al. recommend. All but density are in [0, 1].
    """
    real, fake = _check(real_features, "real_features"), _check(fake_features, "fake_features")
    if real.shape[1] != fake.shape[1]:
        raise ShapeError(f"real and fake features differ in dimension: {real.shape[1]} vs {fake.shape[1]}")
    real_radii = kth_neighbour_distances(real, k, block)
    fake_radii = kth_neighbour_distances(fake, k, block)
    in_real_balls = _ball_counts(fake, real, real_radii, block)  # (M,)
    return {
        "precision": float(np.mean(in_real_balls > 0)),
        "recall": float(np.mean(_ball_counts(real, fake, fake_radii, block) > 0)),
        "density": float(in_real_balls.sum() / (k * len(fake))),
        "coverage": float(np.mean(nearest_distances(real, fake, block) <= real_radii)),
    }


def sqrtm_psd(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix (eigenvalues < 0 from
    rounding are clipped to 0): ``V diag(√λ) Vᵀ`` from ``numpy.linalg.eigh``."""
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ShapeError(f"need a square matrix, got shape {m.shape}")
    w, v = np.linalg.eigh(0.5 * (m + m.T))
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance_gaussians(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray,
                               sigma2: np.ndarray) -> float:
    """The Fréchet (2-Wasserstein squared) distance between N(mu1, sigma1) and N(mu2, sigma2).

    ``‖μ1 − μ2‖² + Tr(Σ1) + Tr(Σ2) − 2 Tr((Σ1^{1/2} Σ2 Σ1^{1/2})^{1/2})``. The inner matrix is
    symmetric PSD, so the trace of its root is the sum of the roots of its eigenvalues: stable,
    real-valued, no complex parts to discard (unlike ``scipy.linalg.sqrtm(Σ1 Σ2)``).
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    d = len(mu1)
    if mu2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise ShapeError(f"need means (D,) and covariances (D, D) of one D, got {mu1.shape}, "
                         f"{s1.shape}, {mu2.shape}, {s2.shape}")
    root1 = sqrtm_psd(s1)
    inner = root1 @ s2 @ root1
    eig = np.clip(np.linalg.eigvalsh(0.5 * (inner + inner.T)), 0.0, None)
    value = float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2.0 * np.sum(np.sqrt(eig)))
    return max(value, 0.0)


def frechet_distance(real_features: np.ndarray, fake_features: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted (unbiased covariances: 2 points at least) to feature
    sets (N, D) and (M, D); in the sprite classifier's features, the course's FCD, not an FID."""
    real, fake = _check(real_features, "real_features"), _check(fake_features, "fake_features")
    if real.shape[1] != fake.shape[1]:
        raise ShapeError(f"real and fake features differ in dimension: {real.shape[1]} vs {fake.shape[1]}")
    if min(len(real), len(fake)) < 2:
        raise ShapeError("the Fréchet distance needs at least 2 points in each set")
    return frechet_distance_gaussians(real.mean(axis=0), np.cov(real, rowvar=False),
                                      fake.mean(axis=0), np.cov(fake, rowvar=False))
