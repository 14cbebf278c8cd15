"""Training on your own folder: the folder checks, DiffAugment in the GAN step, fine-tuning (init_from)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from charlib.cli import main
from charlib.data.sprites import sample_sprites
from charlib.errors import CharlibError, ImageFolderError
from charlib.training import trainer
from charlib.training.gan import GanConfig, build_gan, train_gan
from charlib.training.vae import VaeConfig, train_vae

TINY = dict(image_size=16, latent_dim=8, g_width=4, d_width=4, batch_size=8, n_data=64,
            sample_every=5, ckpt_every=5, log_every=1, n_samples=4)


def _folder(path, n, size=16, seed=0):
    path.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(sample_sprites(n, size=size, seed=seed).images):
        Image.fromarray(image).save(path / f"c_{i:03d}.png")
    return path


@pytest.fixture(scope="module")
def images():
    return sample_sprites(64, size=16, seed=0).images


def _weights(gan) -> list[np.ndarray]:
    return [w.numpy() for w in gan.generator.weights + gan.discriminator.weights]


def test_folder_trains_and_its_report_is_printed_once_before_training(tmp_path, capsys):
    data = _folder(tmp_path / "art", 24)
    (data / "broken.png").write_bytes(b"not a png")
    result = train_gan(GanConfig(steps=3, data=str(data), **TINY), tmp_path / "run", progress=False)
    out = capsys.readouterr().out
    assert out.count("Loaded 24 images") == 1 and "skipped broken.png" in out
    assert "very few" in out  # 24 < FEW_IMAGES: trains, with a warning
    assert (tmp_path / "run" / "samples" / "step_000003.png").is_file()
    assert int(result.model.step.numpy()) == 3


def test_too_small_folder_stops_before_a_run_folder_is_made(tmp_path):
    data = _folder(tmp_path / "art", trainer.MIN_IMAGES - 1)
    with pytest.raises(CharlibError, match=rf"Only {trainer.MIN_IMAGES - 1} usable images.*at least "
                                           rf"{trainer.MIN_IMAGES}"):
        train_gan(GanConfig(steps=3, data=str(data), **TINY), tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_empty_folder_stops_before_a_run_folder_is_made(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImageFolderError, match="No images"):
        train_gan(GanConfig(steps=3, data=str(tmp_path / "empty"), **TINY), tmp_path / "run",
                  progress=False)
    assert not (tmp_path / "run").exists()


def test_fewer_images_than_a_batch_lower_the_batch_size_in_config_json(tmp_path, capsys):
    data = _folder(tmp_path / "art", 10)
    result = train_gan(GanConfig(steps=2, data=str(data), **{**TINY, "batch_size": 32}), tmp_path / "r",
                       progress=False)
    assert result.config.batch_size == 10
    assert json.loads((tmp_path / "r" / "config.json").read_text())["batch_size"] == 10
    assert "lowered from 32 to 10" in capsys.readouterr().out


def test_shipped_messy_folder_trains_on_its_good_images_from_any_working_folder(tmp_path, monkeypatch,
                                                                                 capsys):
    monkeypatch.chdir(tmp_path)  # a relative data path still finds the course's data/ folder
    train_gan(GanConfig(steps=1, data="data/messy_folder", **TINY), tmp_path / "m", progress=False)
    out = capsys.readouterr().out
    assert "Loaded 12 images" in out and "skipped truncated.jpg" in out


def test_cli_trains_on_a_folder_then_samples_from_it(tmp_path, capsys):
    data = _folder(tmp_path / "art", 40, size=32)
    out = tmp_path / "run"
    assert main(["train", "gan", "--data", str(data), "--profile", "smoke", "--steps", "2", "--out",
                 str(out), "--quiet", "--augment", "color,translation,cutout"]) == 0
    assert json.loads((out / "config.json").read_text())["augment"] == "color,translation,cutout"
    assert main(["sample", "--checkpoint", str(out), "--n", "4", "--out", str(tmp_path / "s.png")]) == 0


def test_cli_too_small_folder_is_one_error_line(tmp_path, capsys):
    data = _folder(tmp_path / "art", 3, size=32)
    assert main(["train", "gan", "--data", str(data), "--out", str(tmp_path / "r"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Only 3 usable images") and err.count("\n") == 1


def test_unknown_augmentation_is_refused_before_anything_is_written(tmp_path, capsys):
    with pytest.raises(CharlibError, match="'flip'"):
        GanConfig(augment="color,flip")
    assert main(["train", "gan", "--augment", "flip", "--out", str(tmp_path / "r"), "--quiet"]) == 2
    assert "Unknown augmentation" in capsys.readouterr().err and not (tmp_path / "r").exists()


def test_augmentation_changes_training(tmp_path, images):
    plain = train_gan(GanConfig(steps=3, **TINY), tmp_path / "p", images=images, progress=False)
    aug = train_gan(GanConfig(steps=3, augment="color,translation,cutout", **TINY), tmp_path / "a",
                    images=images, progress=False)
    assert not np.allclose(_weights(plain.model)[0], _weights(aug.model)[0])


def test_augmented_run_resumes_exactly(tmp_path, images):
    config = GanConfig(steps=8, augment="color,translation,cutout", **{**TINY, "ckpt_every": 4})
    straight = train_gan(config, tmp_path / "a", images=images, progress=False)
    train_gan(GanConfig(steps=4, augment="color,translation,cutout", **{**TINY, "ckpt_every": 4}),
              tmp_path / "b", images=images, progress=False)
    resumed = train_gan(out=tmp_path / "b", resume=True, steps=8, images=images, progress=False)
    for a, b in zip(_weights(straight.model), _weights(resumed.model), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_augmentation_reaches_the_discriminator_of_both_updates(images):
    gan = build_gan(GanConfig(augment="translation,cutout", **TINY))
    real = np.asarray(images[:8], np.float32) / 127.5 - 1.0
    a_real, a_fake = gan.augment_pair(real, real)
    assert not np.allclose(a_real, real)
    assert not np.allclose(a_real, a_fake)  # reals and fakes get their own draws


def test_fine_tuning_starts_from_the_source_weights_with_fresh_optimisers(tmp_path, images):
    source = train_gan(GanConfig(steps=6, **TINY), tmp_path / "src", images=images, progress=False)
    new = build_gan(GanConfig(**TINY))
    provenance = trainer.init_weights(new, GanConfig, tmp_path / "src", build_gan)
    for a, b in zip(_weights(new), _weights(source.model), strict=True):
        np.testing.assert_array_equal(a, b)
    assert provenance["step"] == 6 and provenance["run"].endswith("src")
    assert provenance["networks"] == ["generator", "discriminator", "ema_generator"]

    tuned = train_gan(GanConfig(steps=2, seed=1, **TINY), tmp_path / "ft", images=images[:32],
                      progress=False, init_from=tmp_path / "src")
    saved = json.loads((tmp_path / "ft" / "config.json").read_text())
    assert saved["init_from"]["step"] == 6 and saved["init_from"]["data"] == "sprites"
    assert int(tuned.model.step.numpy()) == 2
    assert int(tuned.model.g_optimizer.iterations.numpy()) == 2  # fresh, not the source's 6


def test_resuming_a_fine_tuned_run_does_not_reload_the_source(tmp_path, images):
    train_gan(GanConfig(steps=4, **TINY), tmp_path / "src", images=images, progress=False)
    cfg = dict(**{**TINY, "ckpt_every": 2})
    straight = train_gan(GanConfig(steps=4, **cfg), tmp_path / "a", images=images, progress=False,
                         init_from=tmp_path / "src")
    train_gan(GanConfig(steps=2, **cfg), tmp_path / "b", images=images, progress=False,
              init_from=tmp_path / "src")
    resumed = train_gan(out=tmp_path / "b", resume=True, steps=4, images=images, progress=False,
                        init_from=tmp_path / "src")
    for a, b in zip(_weights(straight.model), _weights(resumed.model), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_fine_tuning_a_different_architecture_is_a_clear_error(tmp_path, images):
    train_gan(GanConfig(steps=1, **TINY), tmp_path / "src", images=images, progress=False)
    with pytest.raises(CharlibError, match=r"g_width=8 \(source: 4\)"):
        train_gan(GanConfig(steps=1, **{**TINY, "g_width": 8}), tmp_path / "ft", images=images,
                  progress=False, init_from=tmp_path / "src")
    assert not (tmp_path / "ft").exists()
    with pytest.raises(CharlibError, match="not a 'vae' run"):
        train_vae(VaeConfig(steps=1, image_size=16), tmp_path / "v", images=images, progress=False,
                  init_from=tmp_path / "src")


def test_cli_init_from_takes_the_source_architecture(tmp_path, capsys):
    src = tmp_path / "src"
    assert main(["train", "gan", "--profile", "smoke", "--steps", "2", "--out", str(src), "--quiet"]) == 0
    data = _folder(tmp_path / "art", 40, size=32)
    out = tmp_path / "ft"
    assert main(["train", "gan", "--profile", "full", "--steps", "2", "--data", str(data), "--out", str(out),
                 "--init-from", str(src), "--quiet", "--batch-size", "16"]) == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["g_width"] == 16 and saved["latent_dim"] == 64  # smoke's widths, not full's 32
    assert saved["batch_size"] == 16 and saved["init_from"]["step"] == 2


def test_vae_fine_tunes_too(tmp_path, images):
    cfg = dict(image_size=16, latent_dim=4, width=4, batch_size=8, sample_every=5, ckpt_every=5,
               n_samples=4, kl_warmup_steps=2)
    src = train_vae(VaeConfig(steps=3, **cfg), tmp_path / "src", images=images, progress=False)
    ft = train_vae(VaeConfig(steps=1, **cfg), tmp_path / "ft", images=images, progress=False,
                   init_from=tmp_path / "src")
    assert json.loads((tmp_path / "ft" / "config.json").read_text())["init_from"]["step"] == 3
    moved = [np.abs(a - b).max() for a, b in zip(src.model.decoder.get_weights(),
                                                  ft.model.decoder.get_weights(), strict=True)]
    assert 0 < max(moved) < 0.1  # one small step away from the source, not a fresh start
