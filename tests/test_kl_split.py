"""The KL split of benchmarks/remedies_sprites.py (--kl-parts): marginals, sampling floor, interactions.

The split is checked on hand-built mode histograms whose answer is known: independent attributes
(nothing left beyond the floor), one attribute stuck on one value (all in its marginal), and
balanced marginals over too few combinations (all in the interactions).
"""

from __future__ import annotations

import numpy as np
import pytest

from charlib.data import sprites as sp
from charlib.diagnostics.modes import mode_report, split_modes, uniform_floor


@pytest.fixture(scope="module")
def split_kl(benchmark_script):
    return benchmark_script("remedies_sprites").split_kl


def _parts_sum(parts: dict) -> float:
    return parts["marginal_total"] + parts["floor"] + parts["interactions"]


def test_split_adds_up_to_the_reverse_kl_and_counts_what_falls_outside(split_kl):
    modes = np.random.default_rng(0).integers(0, 400, 5000)  # lopsided: a third of the ids only
    parts = split_kl(modes)
    report = mode_report(modes, split="train")
    assert parts["kl"] == pytest.approx(report.kl, abs=1e-6)
    assert _parts_sum(parts) == pytest.approx(report.kl, abs=1e-5)
    assert parts["outside_fraction"] == pytest.approx(report.outside_fraction, abs=1e-6)
    assert parts["n_in_support"] == int(np.isin(modes, split_modes("train")).sum())
    assert set(parts["marginal_kl"]) == {a.name for a in sp.ATTRIBUTES}


def test_independent_uniform_attributes_leave_only_the_sampling_floor(split_kl):
    # a generator that ignores the train/test split: every one of the 1296 characters equally often
    modes = np.random.default_rng(1).integers(0, sp.N_MODES, 10_000)
    parts = split_kl(modes)
    assert parts["outside_fraction"] == pytest.approx(296 / 1296, abs=0.015)
    expected_floor = uniform_floor(parts["n_in_support"], 1000, trials=20, seed=0)["kl_mean"]
    assert parts["floor"] == pytest.approx(expected_floor, abs=1e-6)
    assert parts["floor"] > 0.06  # fewer samples in S than 10,000 real sprites: a higher floor
    assert parts["marginal_total"] < 0.005
    assert abs(parts["interactions"]) < 0.01


def test_one_stuck_attribute_shows_in_its_own_marginal(split_kl):
    train = split_modes("train")
    pale = train[sp.attributes_of(train)[:, 0] == 0]  # every training character with skin 0
    modes = np.random.default_rng(2).choice(pale, 10_000)
    parts = split_kl(modes)
    assert parts["marginal_kl"]["skin"] == pytest.approx(np.log(1000 / len(pale)), abs=1e-6)
    assert max(parts["marginal_kl"][a] for a in ("hair", "top", "bottom")) < 0.01
    assert abs(parts["interactions"]) < 0.06  # 167 modes sampled 10,000 times: less noise than the floor


def test_balanced_marginals_over_too_few_combinations_show_as_interactions(split_kl):
    train = split_modes("train")
    attrs = sp.attributes_of(train)
    latin = train[attrs.sum(axis=1) % 6 == 0]  # every value of every attribute, 1 in 6 combinations
    modes = np.random.default_rng(3).choice(latin, 10_000)
    parts = split_kl(modes)
    assert parts["marginal_total"] < 0.02
    assert parts["interactions"] > np.log(1000 / len(latin)) - parts["floor"] - 0.05
    assert parts["interactions"] > 1.0
