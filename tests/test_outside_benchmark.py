"""Tests for the helpers of benchmarks/outside_data.py (the training itself is a benchmark, not a test)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def bench(benchmark_script):
    return benchmark_script("outside_data")


def row(seed: int, covered: int, kl: float, won: bool, recipe: str = "dcgan") -> dict:
    return {"set": "shapes", "recipe": recipe, "seed": seed, "steps_asked": 100, "minutes_asked": None,
            "steps": 100, "batch_size": 64, "flip": True, "distinct_images": 6400, "train_minutes": 1.0,
            "cpu_share": 0.5, "d_won": won, "d_won_first_step": 60 if won else None, "d_won_share": 0.1,
            "modes_covered": covered, "n_modes": 336, "kl": kl, "readable": 0.9}


def test_steps_are_one_number_for_all_recipes_or_one_per_recipe(bench):
    assert bench.parse_steps("2000") == {"dcgan": 2000, "r3gan": 2000}
    assert bench.parse_steps("dcgan=4000,r3gan=1500") == {"dcgan": 4000, "r3gan": 1500}
    with pytest.raises(ValueError, match="unknown recipe"):
        bench.parse_steps("wgan=10")


def test_distinct_images_stop_at_the_folder_once_an_epoch_is_done(bench):
    assert bench.distinct_images_seen(10, 64, 10_000) == 640
    assert bench.distinct_images_seen(156, 64, 10_000) == 156 * 64
    assert bench.distinct_images_seen(5000, 64, 10_000) == 10_000


def test_the_d_won_flag_comes_from_the_history_column(bench):
    quiet = [{"step": 10.0, "d_won": 0.0}, {"step": 20.0, "d_won": 0.0}]
    loud = [{"step": 10.0, "d_won": 0.0}, {"step": 20.0, "d_won": 1.0}, {"step": 30.0, "d_won": 1.0}]
    assert bench.d_won_summary(quiet)["d_won"] is False
    summary = bench.d_won_summary(loud)
    assert summary["d_won"] is True and summary["d_won_first_step"] == 20
    assert summary["d_won_share"] == pytest.approx(2 / 3, abs=1e-3)


def test_the_report_gives_mean_and_range_over_seeds_never_one_seed(bench, tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "RESULTS", tmp_path)
    info = {"n": 26_000, "n_data": 10_000, "commands": ["python benchmarks/outside_data.py"],
            "rows": [row(0, 300, 0.2, False), row(1, 100, 1.4, True), row(2, 200, 0.6, False)],
            "floors": {"shapes": {"perfect": {"modes_covered": 336.0, "kl": 0.0065},
                                  "real": {"modes_covered": 336, "n_modes": 336, "kl": 0.0066,
                                           "readable": 1.0, "reader_accuracy": 1.0}}}}
    bench.write_report(info)
    text = (tmp_path / "outside_data.md").read_text()
    assert "| shapes | `dcgan` | 0, 1, 2 | 100 | 200 (100–300) of 336 | 0.733 (0.200–1.400) |" in text
    assert "| 1 of 3 |" in text  # D won in one seed of three
    assert "*perfect generator* (floor)" in text and "0.007" in text
