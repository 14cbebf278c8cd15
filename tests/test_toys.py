"""charlib.diagnostics.toys: toy mixtures, mode metrics, 1-D divergences and the tiny GAN."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from charlib.diagnostics import toys as T  # noqa: E402
from charlib.errors import CharlibError, ShapeError  # noqa: E402

# ------------------------------------------------------------------------------------- samplers


def test_ring_has_8_distinct_modes_on_radius_2():
    c = T.ring_centres()
    assert c.shape == (8, 2) and c.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(c, axis=1), 2.0, rtol=1e-6)
    gaps = np.linalg.norm(c - np.roll(c, 1, axis=0), axis=1)
    np.testing.assert_allclose(gaps, 2 * 2.0 * math.sin(math.pi / 8), rtol=1e-5)  # evenly spaced, none twice


def test_grid_is_5x5_on_minus4_to_4():
    c = T.grid_centres()
    assert c.shape == (25, 2)
    assert sorted(set(c[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert len({tuple(p) for p in c.tolist()}) == 25


@pytest.mark.parametrize("make, std", [(T.ring, T.RING_STD), (T.grid, T.GRID_STD)])
def test_samplers_shape_statistics_and_seed(make, std):
    mixture = make()
    x = mixture.sample(20_000, 3)
    assert x.shape == (20_000, 2) and x.dtype == np.float32
    np.testing.assert_array_equal(x, mixture.sample(20_000, 3))
    assert not np.array_equal(x, mixture.sample(20_000, 4))
    np.testing.assert_array_equal(x, mixture.sample(20_000, np.random.default_rng(3)))
    # offsets from the nearest centre are N(0, std^2) per axis; modes are equally used
    d2 = ((x[:, None, :] - mixture.centres[None]) ** 2).sum(-1)
    nearest = d2.argmin(1)
    offsets = x - mixture.centres[nearest]
    np.testing.assert_allclose(offsets.std(axis=0), std, rtol=0.03)
    np.testing.assert_allclose(offsets.mean(axis=0), 0.0, atol=4 * std / math.sqrt(len(x)))
    counts = np.bincount(nearest, minlength=mixture.n_modes)
    expected = len(x) / mixture.n_modes
    assert np.all(np.abs(counts - expected) < 5 * math.sqrt(expected))


# -------------------------------------------------------------------------------- mode metrics


def test_all_samples_on_one_mode_capture_one():
    m = T.ring()
    x = np.repeat(m.centres[3:4], 500, axis=0)
    out = m.metrics(x)
    assert out["modes_captured"] == 1 and out["n_modes"] == 8
    assert out["high_quality_fraction"] == 1.0
    assert out["counts"].tolist() == [0, 0, 0, 500, 0, 0, 0, 0]
    assert out["reverse_kl"] == pytest.approx(math.log(8))


def test_perfect_samples_capture_everything():
    m = T.grid()
    exact = np.repeat(m.centres, 40, axis=0)
    out = m.metrics(exact)
    assert out["modes_captured"] == 25 and out["high_quality_fraction"] == 1.0
    assert out["reverse_kl"] == pytest.approx(0.0, abs=1e-12)
    # real data: 3-sigma discs in 2-D hold 1 - exp(-4.5) = 98.9% of each mode's mass
    real = m.metrics(m.sample(50_000, 0))
    assert real["modes_captured"] == 25
    assert real["high_quality_fraction"] == pytest.approx(1 - math.exp(-4.5), abs=0.003)
    assert real["reverse_kl"] < 0.005


def test_uniform_noise_is_low_quality():
    m = T.ring()
    noise = np.random.default_rng(0).uniform(-3, 3, size=(5000, 2))
    out = m.metrics(noise)
    # 8 discs of radius 0.06 cover 8 * pi * 0.06^2 / 36 = 0.25% of the square
    assert out["high_quality_fraction"] < 0.01


def test_min_count_ignores_stray_points_and_empty_sets_are_nan():
    m = T.ring()
    x = np.concatenate([np.repeat(m.centres[:1], 100, axis=0), m.centres[1:3]])  # 100 + 1 + 1
    assert m.metrics(x)["modes_captured"] == 3
    assert m.metrics(x, min_count=10)["modes_captured"] == 1
    far = np.full((10, 2), 50.0)
    out = m.metrics(far)
    assert out["modes_captured"] == 0 and out["high_quality_fraction"] == 0.0
    assert math.isnan(out["reverse_kl"])


def test_half_and_half_reverse_kl():
    m = T.ring()
    x = np.concatenate([np.repeat(m.centres[:1], 50, axis=0), np.repeat(m.centres[4:5], 50, axis=0)])
    assert T.mode_metrics(x, m.centres, m.std)["reverse_kl"] == pytest.approx(math.log(4))


def test_mode_metrics_checks_shapes():
    with pytest.raises(ShapeError):
        T.mode_metrics(np.zeros((4, 3)), T.ring_centres(), 0.02)
    with pytest.raises(ShapeError):
        T.mode_metrics(np.zeros((4, 2)), T.ring_centres(), 0.0)


# ---------------------------------------------------------------------------------- 1-D maths

X = np.linspace(-12, 12, 24_001)
DX = float(X[1] - X[0])


def test_optimal_discriminator():
    p, q = T.normal_pdf(X, -1, 1), T.normal_pdf(X, 2, 0.5)
    d = T.optimal_discriminator(p, q)
    assert d.shape == X.shape and np.all((d >= 0) & (d <= 1))
    np.testing.assert_allclose(T.optimal_discriminator(p, p), 0.5)  # p_g = p_data: D* = 1/2 everywhere
    np.testing.assert_allclose(T.optimal_discriminator([1.0, 0.0, 0.0], [0.0, 2.0, 0.0]), [1.0, 0.0, 0.5])


def test_js_and_kl_known_values():
    p = T.normal_pdf(X, 0, 1)
    assert T.js_divergence(p, p, DX) == pytest.approx(0.0, abs=1e-12)
    assert T.kl_divergence(p, p, DX) == pytest.approx(0.0, abs=1e-12)
    disjoint_a = np.where(np.abs(X + 5) < 1, 0.5, 0.0)
    disjoint_b = np.where(np.abs(X - 5) < 1, 0.5, 0.0)
    assert T.js_divergence(disjoint_a, disjoint_b, DX) == pytest.approx(math.log(2), rel=1e-3)
    assert T.kl_divergence(disjoint_a, disjoint_b, DX) == math.inf
    # KL(N(0,1) || N(1, 2^2)) = log 2 + (1 + 1) / 8 - 1/2
    q = T.normal_pdf(X, 1, 2)
    assert T.kl_divergence(p, q, DX) == pytest.approx(math.log(2) + 2 / 8 - 0.5, rel=1e-6)
    js = T.js_divergence(p, q, DX)
    assert 0 < js < math.log(2) and js == pytest.approx(T.js_divergence(q, p, DX))


def test_value_at_the_optimal_discriminator_is_minus_log4_plus_2js():
    p, q = T.normal_pdf(X, 0, 1), T.normal_pdf(X, 1.5, 0.7)
    v = T.gan_value(p, q, DX)  # d=None: the optimal discriminator, in log space
    assert v == pytest.approx(-math.log(4) + 2 * T.js_divergence(p, q, DX), abs=1e-9)
    assert T.gan_value(p, p, DX) == pytest.approx(-math.log(4), abs=1e-6)
    # where D* rounds to exactly 1 in the tails, the explicit-d route honestly gives -inf
    assert T.gan_value(p, q, DX, d=T.optimal_discriminator(p, q)) == -math.inf
    inner = np.abs(X) < 5  # away from the tails the two routes agree
    assert T.gan_value(p[inner], q[inner], DX, d=T.optimal_discriminator(p[inner], q[inner])) == \
        pytest.approx(T.gan_value(p[inner], q[inner], DX), abs=1e-9)
    # any other D does worse for the discriminator (lower V)
    assert T.gan_value(p, q, DX, d=np.full_like(X, 0.5)) < v


def test_density_helpers_check_shapes():
    with pytest.raises(ShapeError):
        T.js_divergence(np.ones(3), np.ones(4), 0.1)
    with pytest.raises(ShapeError):
        T.optimal_discriminator(np.array([-1.0]), np.array([1.0]))


# ------------------------------------------------------------------------------------ models


def test_toy_models_shapes_and_seeded_weights():
    g = T.make_toy_generator(latent_dim=8, out_dim=2, width=32, depth=2, seed=1)
    d = T.make_toy_discriminator(in_dim=2, width=32, depth=2, seed=1)
    assert g(np.zeros((5, 8), np.float32)).shape == (5, 2)
    assert d(np.zeros((5, 2), np.float32)).shape == (5, 1)
    assert d.layers[-1].activation.__name__ == "linear"  # logits, not probabilities
    g2 = T.make_toy_generator(latent_dim=8, out_dim=2, width=32, depth=2, seed=1)
    for a, b in zip(g.get_weights(), g2.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------------- the toy GAN


def test_train_toy_gan_runs_snapshots_and_is_deterministic():
    ring = T.ring()
    kw = dict(steps=200, batch_size=128, snapshot_every=50, n_snapshot=300, seed=5, progress=False)
    a = T.train_toy_gan(ring.sample, **kw)
    b = T.train_toy_gan(ring.sample, **kw)
    assert [s.step for s in a.snapshots] == [0, 50, 100, 150, 200]
    assert all(s.samples.shape == (300, 2) for s in a.snapshots)
    for key in ("d_loss", "g_loss", "gradient_penalty"):
        assert a.history[key].shape == (200,) and np.isfinite(a.history[key]).all()
    assert not np.array_equal(a.snapshots[0].samples, a.snapshots[-1].samples)  # it trained
    np.testing.assert_array_equal(a.snapshots[-1].samples, b.snapshots[-1].samples)  # same seed, same run
    np.testing.assert_array_equal(a.history["d_loss"], b.history["d_loss"])
    assert a.sample(10).shape == (10, 2)
    fig = T.plot_snapshots(a, ring.centres, max_panels=3)
    assert len(fig.axes) == 3
    plt.close(fig)


def test_train_toy_gan_wgan_gp_and_1d_data():
    def one_d(n, rng):
        return rng.normal(3.0, 0.5, size=n)  # (n,): 1-D data is accepted

    r = T.train_toy_gan(one_d, steps=20, batch_size=32, loss="wgan-gp", d_steps=2, n_snapshot=50,
                        progress=False)
    assert r.snapshots[-1].samples.shape == (50, 1)
    assert [s.step for s in r.snapshots] == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20]  # default: steps // 8
    assert r.generator.output_shape == (None, 1)
    assert (r.history["gradient_penalty"] > 0).all()
    fig = T.plot_snapshots(r, centres=[[3.0]])
    plt.close(fig)


def test_train_toy_gan_rejects_bad_input():
    with pytest.raises(CharlibError, match="hinge"):
        T.train_toy_gan(T.ring().sample, steps=2, loss="no-such-loss", progress=False)
    with pytest.raises(ShapeError, match="sample_real"):
        T.train_toy_gan(lambda n, rng: np.zeros((3, 2)), steps=2, progress=False)
