"""GanConfig(nets="reference"): the TF-tutorial DCGAN trained, resumed and diagnosed like the course's.

The reference nets go through the same run folder as the course's DCGAN, so a restore must rebuild
them (not the course's nets) from config.json, and options the reference does not have must be
refused before anything is written.
"""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from charlib.config import profile
from charlib.diagnostics import diagnose
from charlib.errors import CharlibError
from charlib.training.gan import GanConfig, load_generator, train_gan

TINY = dict(image_size=32, batch_size=8, n_data=64, steps=2, sample_every=2, ckpt_every=2, log_every=1,
            n_samples=4)


def _kernel_sizes(model: keras.Model) -> set[tuple[int, int]]:
    return {tuple(layer.kernel_size) for layer in model.layers if hasattr(layer, "kernel_size")}


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "reference"
    train_gan(GanConfig.from_profile(profile("smoke"), nets="reference", **TINY), out, progress=False)
    return out


def test_from_profile_gives_the_reference_the_tutorial_latent_size_and_no_ema():
    config = GanConfig.from_profile(profile("full"), nets="reference", image_size=64)
    assert (config.nets, config.latent_dim, config.ema_decay) == ("reference", 100, None)
    assert GanConfig.from_profile(profile("full"), nets="reference", latent_dim=32).latent_dim == 32
    assert GanConfig.from_profile(profile("full")).nets == "dcgan"


def test_reference_run_records_its_nets_and_restores_the_tutorial_generator(reference_run):
    config = json.loads((reference_run / "config.json").read_text())
    assert config["nets"] == "reference" and config["latent_dim"] == 100
    generator, restored = load_generator(reference_run)
    assert restored.nets == "reference"
    assert generator.name == "reference_generator"
    assert _kernel_sizes(generator) == {(5, 5)}  # the course's generator uses 4x4 kernels
    images = np.asarray(generator(np.zeros((2, 100), "float32"), training=False))
    assert images.shape == (2, 32, 32, 3)


def test_reference_run_resumes_from_its_checkpoint(reference_run, tmp_path):
    import shutil

    run = tmp_path / "resumed"
    shutil.copytree(reference_run, run)
    before = load_generator(run)[0].get_weights()
    result = train_gan(out=run, resume=True, steps=4, progress=False)
    assert int(result.model.step.numpy()) == 4
    assert result.model.generator.name == "reference_generator"
    after = load_generator(run)[0].get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def test_diagnose_scores_a_reference_run(reference_run, untrained_classifier):
    r = diagnose(reference_run, n=32, seed=1, classifier=untrained_classifier)
    assert r["model"] == "gan" and r["image_size"] == 32 and r["n_modes"] == 1000
    assert 1 <= r["modes_covered"] <= 32
    for key in ("precision", "recall", "coverage"):
        assert 0.0 <= r[key] <= 1.0, key
    assert r["frechet_distance"] >= 0


@pytest.mark.parametrize("options, named", [
    ({"pack": 2}, "pack=2"),
    ({"minibatch_std": True}, "minibatch_std=True"),
    ({"d_norm": "spectral"}, "d_norm='spectral'"),
    ({"image_size": 20}, "multiple of 8"),
])
def test_options_the_reference_lacks_are_a_clear_error(options, named):
    with pytest.raises(CharlibError, match=named.replace("(", r"\(")):
        GanConfig(nets="reference", **{**TINY, **options})


def test_unknown_nets_is_a_clear_error():
    with pytest.raises(CharlibError, match="nets must be one of"):
        GanConfig(nets="resnet")


def test_fine_tuning_course_nets_from_a_reference_run_is_refused_before_a_folder_is_made(
        reference_run, tmp_path):
    out = tmp_path / "tuned"
    config = GanConfig.from_profile(profile("smoke"), **{**TINY, "latent_dim": 100})
    with pytest.raises(CharlibError, match="nets='dcgan'"):
        train_gan(config, out, init_from=reference_run, progress=False)
    assert not out.exists()
