"""Precision/recall/density/coverage and the Fréchet distance on constructed point sets."""

from __future__ import annotations

import numpy as np
import pytest

from charlib.diagnostics.prdc import (
    frechet_distance,
    frechet_distance_gaussians,
    kth_neighbour_distances,
    nearest_distances,
    prdc,
    sqrtm_psd,
)
from charlib.errors import ShapeError


def clusters(n: int, n_clusters: int, dim: int = 8, seed: int = 0, only: int | None = None) -> np.ndarray:
    """Points around ``n_clusters`` well-separated centres (or all around centre ``only``)."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(123).normal(0, 10, (n_clusters, dim))
    which = rng.integers(0, n_clusters, n) if only is None else np.full(n, only)
    return centres[which] + rng.normal(0, 1, (n, dim))


def test_identical_sets_have_full_precision_recall_and_coverage():
    x = clusters(500, 10)
    m = prdc(x, x.copy(), k=5)
    assert m["precision"] == 1.0 and m["recall"] == 1.0 and m["coverage"] == 1.0
    assert 0.8 < m["density"] < 1.6


def test_two_samples_of_one_distribution_score_high():
    m = prdc(clusters(1000, 10, seed=1), clusters(1000, 10, seed=2), k=5)
    assert min(m["precision"], m["recall"], m["coverage"]) > 0.85
    assert 0.7 < m["density"] < 1.3


def test_collapsed_set_has_low_recall_and_coverage_but_high_precision():
    real = clusters(1000, 10, seed=1)
    collapsed = clusters(1000, 10, seed=2, only=3)  # every fake point in one of the ten clusters
    m = prdc(real, collapsed, k=5)
    assert m["precision"] > 0.85
    assert m["recall"] < 0.2 and m["coverage"] < 0.2


def test_shifted_set_has_low_precision_and_density():
    real = clusters(1000, 10, seed=1)
    m = prdc(real, clusters(1000, 10, seed=2) + 6.0, k=5)
    assert m["precision"] < 0.1 and m["density"] < 0.1 and m["coverage"] < 0.1


def test_block_size_does_not_change_the_result():
    real, fake = clusters(300, 5, seed=1), clusters(250, 5, seed=2, only=1)
    assert prdc(real, fake, k=3, block=7) == prdc(real, fake, k=3, block=4096)


def test_kth_neighbour_distance_matches_brute_force_and_skips_self():
    x = np.random.default_rng(0).normal(size=(60, 3))
    d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    expected = np.sort(d, axis=1)[:, 4]  # column 0 is the point itself
    np.testing.assert_allclose(kth_neighbour_distances(x, k=4, block=16), expected, atol=1e-6)
    np.testing.assert_allclose(nearest_distances(x[:10], x[10:]), d[:10, 10:].min(1), atol=1e-6)


def test_prdc_rejects_bad_input():
    x = np.zeros((10, 3))
    with pytest.raises(ShapeError, match="dimension"):
        prdc(x, np.zeros((10, 4)))
    with pytest.raises(ShapeError, match="NaN"):
        prdc(x, np.full((10, 3), np.nan))
    with pytest.raises(ShapeError, match="k must be"):
        prdc(x, x, k=10)


def test_frechet_distance_of_identical_sets_is_zero():
    x = clusters(400, 4)
    assert frechet_distance(x, x.copy()) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_matches_closed_forms():
    # 1-D: (mu1 - mu2)^2 + (s1 - s2)^2
    assert frechet_distance_gaussians([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(4.0 + 1.0)
    # diagonal (commuting) covariances: |dmu|^2 + sum (sqrt a - sqrt b)^2
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 16.0])
    mu = np.array([1.0, 0.0, -1.0])
    expected = 2.0 + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)  # |mu|^2 = 1 + 0 + 1
    assert frechet_distance_gaussians(mu, np.diag(a), np.zeros(3), np.diag(b)) == pytest.approx(expected)
    # non-commuting 2x2: Tr sqrt(M) = sqrt(Tr M + 2 sqrt(det M)) for PSD 2x2 M, M ~ S1 S2
    s1 = np.array([[2.0, 0.8], [0.8, 1.0]])
    s2 = np.array([[1.0, -0.3], [-0.3, 3.0]])
    tr_root = np.sqrt(np.trace(s1 @ s2) + 2 * np.sqrt(np.linalg.det(s1) * np.linalg.det(s2)))
    expected = np.trace(s1) + np.trace(s2) - 2 * tr_root
    assert frechet_distance_gaussians([0, 0], s1, [0, 0], s2) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_of_samples_approaches_the_gaussians_value():
    rng = np.random.default_rng(0)
    s1 = np.array([[2.0, 0.8], [0.8, 1.0]])
    s2 = np.array([[1.0, -0.3], [-0.3, 3.0]])
    x = rng.multivariate_normal([0.0, 0.0], s1, size=50_000)
    y = rng.multivariate_normal([1.0, 2.0], s2, size=50_000)
    exact = frechet_distance_gaussians([0, 0], s1, [1, 2], s2)
    assert frechet_distance(x, y) == pytest.approx(exact, rel=0.03)


def test_sqrtm_psd_squares_back_and_tolerates_rounding():
    a = np.random.default_rng(0).normal(size=(5, 3))
    m = a @ a.T  # rank 3: two eigenvalues are 0 up to rounding
    root = sqrtm_psd(m)
    np.testing.assert_allclose(root @ root, m, atol=1e-9)
    assert np.all(np.isfinite(root))
