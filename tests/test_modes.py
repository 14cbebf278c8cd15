"""Mode histograms, reverse KL, coverage and marginals on constructed mode lists."""

from __future__ import annotations

import numpy as np
import pytest

from charlib.data import sprites as sp
from charlib.diagnostics.modes import mode_report, plot_mode_rows, reverse_kl, split_modes, uniform_floor
from charlib.errors import ShapeError


def test_reverse_kl_is_zero_when_even_and_log_k_when_collapsed():
    assert reverse_kl(np.full(10, 7)) == pytest.approx(0.0)
    one = np.zeros(10)
    one[3] = 50
    assert reverse_kl(one) == pytest.approx(np.log(10))


def test_reverse_kl_ignores_empty_bins_and_matches_the_formula():
    counts = np.array([3, 1, 0, 0])
    q = np.array([0.75, 0.25])
    assert reverse_kl(counts) == pytest.approx(np.sum(q * np.log(4 * q)))
    assert np.isnan(reverse_kl(np.zeros(4)))


def test_every_mode_once_covers_all_with_zero_kl():
    r = mode_report(np.arange(sp.N_MODES))
    assert r.modes_covered == sp.N_MODES and r.coverage == 1.0
    assert r.kl == pytest.approx(0.0, abs=1e-12) and r.outside_fraction == 0.0
    for name, m in r.marginals().items():
        np.testing.assert_allclose(m, 1 / 6, err_msg=name)


def test_a_collapsed_generator_covers_one_mode_with_kl_log_k():
    r = mode_report(np.full(500, 17))
    assert r.modes_covered == 1
    assert r.kl == pytest.approx(np.log(sp.N_MODES))
    assert r.over_produced(1) == [(17, 500)]
    assert r.over_produced(3) == [(17, 500)]  # only modes that were drawn at all
    under = r.under_produced(8)
    assert all(c == 0 for _, c in under) and 17 not in [m for m, _ in under]  # missed modes first
    assert len({tuple(sp.attributes_of(m)[:2]) for m, _ in under}) > 4  # ties shuffled: varied looks
    assert mode_report(np.array([5, 5, 7])).under_produced(1304)[-2:] == [(7, 1), (5, 2)]
    assert r.marginals()["bottom"][sp.attributes_of(17)[3]] == 1.0


def test_train_split_counts_outside_modes_separately():
    train, test = split_modes("train"), split_modes("test")
    assert len(train) == 1000 and len(test) == 296
    modes = np.concatenate([train, test[:100]])  # every training mode once, plus 100 held-out ones
    r = mode_report(modes, split="train")
    assert r.n_modes == 1000 and r.modes_covered == 1000
    assert r.kl == pytest.approx(0.0, abs=1e-12)
    assert r.outside_fraction == pytest.approx(100 / 1100)


def test_summary_is_json_ready_and_names_characters():
    import json

    s = mode_report(np.array([0, 0, 5])).summary()
    text = json.dumps(s)
    assert s["modes_covered"] == 2 and "pale skin" in text


def test_uniform_floor_is_near_the_asymptotic_value():
    f = uniform_floor(10_000, sp.N_MODES, trials=10)
    assert f["kl_mean"] == pytest.approx((sp.N_MODES - 1) / (2 * 10_000), rel=0.15)
    assert f["modes_covered_mean"] > 1290


def test_bad_mode_ids_are_refused():
    with pytest.raises(ShapeError):
        mode_report(np.array([sp.N_MODES]))
    with pytest.raises(ShapeError):
        split_modes("validation")


def test_mode_rows_show_generated_over_and_rendered_under_produced_modes():
    import matplotlib

    matplotlib.use("agg")
    s = sp.sample_sprites(60, size=32, seed=0)
    modes = s.labels.mode.copy()
    modes[:20] = modes[0]  # one character 20 times: the most over-produced
    images = s.images.copy()
    images[:20] = images[0]
    r = mode_report(modes)
    fig = plot_mode_rows(r, images, k=4)
    axes = fig.axes
    assert len(axes) == 8
    np.testing.assert_array_equal(axes[0].images[0].get_array(), images[0])
    under_mode = r.under_produced(1)[0][0]
    np.testing.assert_array_equal(axes[4].images[0].get_array(),
                                  sp.render(sp.attributes_of(under_mode), size=32)[0])
    with pytest.raises(ShapeError):
        plot_mode_rows(r, images[:10])
    collapsed = mode_report(np.full(60, modes[0]))
    fig = plot_mode_rows(collapsed, images, k=4)  # one over-produced mode: the rest of its row is empty
    assert not fig.axes[1].axison and fig.axes[5].axison
