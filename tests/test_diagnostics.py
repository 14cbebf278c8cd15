"""diagnose(): a GAN or VAE run folder in, modes/KL/PRDC/FCD out; `charlib diagnose` on top of it.

These tests check the plumbing with tiny runs and an untrained classifier (fast and deterministic);
the classifier's accuracy is tested in test_classifier.py and measured in benchmarks/.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from charlib.cli import main
from charlib.config import profile
from charlib.diagnostics import classifier as C
from charlib.diagnostics import diagnose
from charlib.diagnostics.report import format_diagnosis, real_floor
from charlib.errors import CharlibError, ShapeError
from charlib.training.gan import GanConfig, train_gan
from charlib.training.vae import VaeConfig, train_vae
from charlib.viz import save_png

TINY = dict(steps=2, n_data=64, sample_every=2, ckpt_every=2, log_every=1, n_samples=4)
METRICS = ("modes_covered", "n_modes", "mode_coverage", "kl", "outside_fraction", "precision", "recall",
           "density", "coverage", "frechet_distance")


@pytest.fixture(scope="module")
def untrained(untrained_classifier):
    return untrained_classifier


@pytest.fixture(scope="module")
def gan_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "gan"
    train_gan(GanConfig.from_profile(profile("smoke"), **TINY), out, progress=False)
    return out


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "vae"
    train_vae(VaeConfig.from_profile(profile("smoke"), **TINY), out, progress=False)
    return out


def test_gan_run_gives_every_metric_in_range_and_is_repeatable(gan_run, untrained):
    r = diagnose(gan_run, n=64, seed=1, classifier=untrained)
    assert r["model"] == "gan" and r["reference"] == "train" and r["n_modes"] == 1000
    assert 1 <= r["modes_covered"] <= 64
    assert 0 <= r["kl"] <= np.log(1000) + 1e-9
    for key in ("precision", "recall", "coverage", "mode_coverage", "outside_fraction"):
        assert 0.0 <= r[key] <= 1.0, key
    assert r["density"] >= 0 and r["frechet_distance"] >= 0
    json.dumps(r)  # JSON-ready
    again = diagnose(gan_run, n=64, seed=1, classifier=untrained, batch_size=16)
    assert {k: again[k] for k in METRICS} == pytest.approx({k: r[k] for k in METRICS}, abs=1e-4)
    assert "modes covered" in format_diagnosis(r)
    assert r["kl_floor"] == pytest.approx((1000 - 1) / (2 * 64), abs=1e-6)
    assert "perfect generator" in format_diagnosis(r)


def test_modes_are_counted_on_all_samples_and_knn_metrics_on_the_first_n_knn(gan_run, untrained,
                                                                             monkeypatch):
    from charlib.diagnostics import report

    seen = []
    real_metrics = report._metrics
    monkeypatch.setattr(report, "_metrics", lambda real, fake, *a: seen.append(
        (len(real), len(fake))) or real_metrics(real, fake, *a))
    full = diagnose(gan_run, n=96, seed=1, classifier=untrained)
    part = diagnose(gan_run, n=96, seed=1, classifier=untrained, n_knn=48)
    assert seen == [(96, 96), (48, 48)]
    assert part["n_knn"] == 48 and full["n_knn"] == 96
    for key in ("modes_covered", "kl", "kl_floor", "outside_fraction"):  # from all 96 samples
        assert part[key] == pytest.approx(full[key]), key
    assert "first 48" in format_diagnosis(part) and "first" not in format_diagnosis(full)
    with pytest.raises(ShapeError, match="n_knn"):
        diagnose(gan_run, n=96, classifier=untrained, n_knn=5)


def test_the_perfect_generator_floor_is_what_real_samples_score_from_sampling_alone():
    from charlib.diagnostics.report import kl_floor

    assert kl_floor(1296, 26_000) == pytest.approx(0.0249, abs=1e-4)  # the papers' N and K
    rng = np.random.default_rng(0)
    k, n = 200, 5000  # a perfect generator of K equally likely modes, scored on n samples
    p = np.full(k, 1 / k)
    kls = []
    for _ in range(200):
        q = np.bincount(rng.integers(0, k, n), minlength=k) / n
        kls.append(np.sum(q[q > 0] * np.log(q[q > 0] / p[q > 0])))
    assert np.mean(kls) == pytest.approx(kl_floor(k, n), rel=0.1)
    assert kl_floor(k, n) < kl_floor(k, n // 2)  # more samples, a lower floor


def test_vae_run_is_diagnosed_from_prior_samples(vae_run, untrained):
    r = diagnose(vae_run, n=32, classifier=untrained)
    assert r["model"] == "vae" and all(r[k] is not None for k in METRICS)


def test_a_folder_that_is_not_a_run_is_a_clear_error(tmp_path, untrained):
    with pytest.raises(CharlibError, match="not a run folder"):
        diagnose(tmp_path, n=32, classifier=untrained)


def test_too_few_samples_is_a_clear_error(gan_run, untrained):
    with pytest.raises(ShapeError, match="at least"):
        diagnose(gan_run, n=4, classifier=untrained)


def test_a_run_on_an_image_folder_skips_mode_counting_and_says_why(gan_run, tmp_path, untrained):
    pictures = tmp_path / "pictures"
    for i, img in enumerate(C.sp.sample_sprites(24, size=32, seed=9).images):
        save_png(img, pictures / f"{i}.png")
    run = tmp_path / "folder_run"
    shutil.copytree(gan_run, run)
    config = json.loads((run / "config.json").read_text())
    config["data"] = str(pictures)
    (run / "config.json").write_text(json.dumps(config))
    r = diagnose(run, n=32, classifier=untrained)
    assert r["modes_covered"] is None and r["kl"] is None and "needs sprites" in r["note"]
    assert r["n_reference"] == 24 and 0 <= r["precision"] <= 1
    shutil.rmtree(pictures)
    with pytest.raises(CharlibError, match="no longer"):
        diagnose(run, n=32, classifier=untrained)


def test_real_floor_has_the_same_keys(untrained):
    r = real_floor(32, n=40, split="all", classifier=untrained)
    assert all(k in r for k in METRICS) and r["n_modes"] == 1296


def test_a_copy_of_a_small_training_set_covers_no_more_modes_than_it_holds(untrained):
    plain = real_floor(32, n=200, split="train", classifier=untrained)
    copy = real_floor(32, n=200, split="train", classifier=untrained, copy_of=5)
    assert copy["copy_of"] == 5 and copy["model"] == "a copy of 5 sprites"
    assert copy["modes_covered"] <= 5 < plain["modes_covered"]
    assert copy["kl"] > plain["kl"]
    with pytest.raises(ShapeError, match="copy_of"):
        real_floor(32, n=40, classifier=untrained, copy_of=0)


def test_cli_diagnose_json_prints_only_json(gan_run, untrained, monkeypatch, capsys):
    monkeypatch.setattr(C, "course_classifier", lambda size, progress=True: untrained)
    assert main(["diagnose", "--checkpoint", str(gan_run), "--n", "40", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 40 and all(k in out for k in METRICS)
    assert main(["diagnose", "--checkpoint", str(gan_run), "--n", "40"]) == 0
    assert "reverse KL" in capsys.readouterr().out


def test_cli_diagnose_bad_folder_is_one_error_line(tmp_path, capsys):
    assert main(["diagnose", "--checkpoint", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "not a run folder" in err[0]
