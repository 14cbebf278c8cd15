"""Training on your own folder: the folder checks, DiffAugment in the GAN step, fine-tuning (init_from)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from charlib.cli import main
from charlib.data.sprites import sample_sprites
from charlib.errors import CharlibError, ImageFolderError
from charlib.training import trainer
from charlib.training.gan import GanConfig, build_gan, train_gan
from charlib.training.vae import VaeConfig, train_vae


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


def test_folder_trains_and_its_report_is_printed_once_before_training(tmp_path, capsys, tiny_gan):
    data = _folder(tmp_path / "art", 24)
    (data / "broken.png").write_bytes(b"not a png")
    result = train_gan(tiny_gan(steps=3, data=str(data)), tmp_path / "run", progress=False)
    out = capsys.readouterr().out
    assert out.count("Loaded 24 images") == 1 and "skipped broken.png" in out
    assert "very few" in out  # 24 < FEW_IMAGES: trains, with a warning
    assert (tmp_path / "run" / "samples" / "step_000003.png").is_file()
    assert int(result.model.step.numpy()) == 3


def test_too_small_folder_stops_before_a_run_folder_is_made(tmp_path, tiny_gan):
    data = _folder(tmp_path / "art", trainer.MIN_IMAGES - 1)
    with pytest.raises(CharlibError, match=rf"Only {trainer.MIN_IMAGES - 1} usable images.*at least "
                                           rf"{trainer.MIN_IMAGES}"):
        train_gan(tiny_gan(steps=3, data=str(data)), tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_empty_folder_stops_before_a_run_folder_is_made(tmp_path, tiny_gan):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImageFolderError, match="No images"):
        train_gan(tiny_gan(steps=3, data=str(tmp_path / "empty")), tmp_path / "run",
                  progress=False)
    assert not (tmp_path / "run").exists()


def test_fewer_images_than_a_batch_lower_the_batch_size_in_config_json(tmp_path, capsys, tiny_gan):
    data = _folder(tmp_path / "art", 10)
    result = train_gan(tiny_gan(steps=2, data=str(data), batch_size=32), tmp_path / "r",
                       progress=False)
    assert result.config.batch_size == 10
    assert json.loads((tmp_path / "r" / "config.json").read_text())["batch_size"] == 10
    assert "lowered from 32 to 10" in capsys.readouterr().out


def test_shipped_messy_folder_trains_on_its_good_images_from_any_working_folder(tmp_path, monkeypatch,
                                                                                 capsys, tiny_gan):
    monkeypatch.chdir(tmp_path)  # a relative data path still finds the course's data/ folder
    train_gan(tiny_gan(steps=1, data="data/messy_folder"), tmp_path / "m", progress=False)
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


def test_augmentation_changes_training(tmp_path, images, tiny_gan):
    plain = train_gan(tiny_gan(steps=3), tmp_path / "p", images=images, progress=False)
    aug = train_gan(tiny_gan(steps=3, augment="color,translation,cutout"), tmp_path / "a",
                    images=images, progress=False)
    assert not np.allclose(_weights(plain.model)[0], _weights(aug.model)[0])


def test_augmented_run_resumes_exactly(tmp_path, images, tiny_gan):
    config = tiny_gan(steps=4, augment="color,translation,cutout", ckpt_every=2)
    straight = train_gan(config, tmp_path / "a", images=images, progress=False)
    train_gan(replace(config, steps=2), tmp_path / "b", images=images, progress=False)
    resumed = train_gan(out=tmp_path / "b", resume=True, steps=4, images=images, progress=False)
    assert int(resumed.model.step.numpy()) == 4
    for a, b in zip(_weights(straight.model), _weights(resumed.model), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_augmentation_reaches_the_discriminator_of_both_updates(images, tiny_gan):
    gan = build_gan(tiny_gan(augment="translation,cutout"))
    real = np.asarray(images[:8], np.float32) / 127.5 - 1.0
    a_real, a_fake = gan.augment_pair(real, real)
    assert not np.allclose(a_real, real)
    assert not np.allclose(a_real, a_fake)  # reals and fakes get their own draws


def test_fine_tuning_starts_from_the_source_weights_with_fresh_optimisers(tmp_path, images, tiny_gan,
                                                                          tiny_gan_trained):
    source, src = tiny_gan_trained, tiny_gan_trained.run.path  # 10 steps
    new = build_gan(tiny_gan())
    provenance = trainer.init_weights(new, GanConfig, src, build_gan)
    for a, b in zip(_weights(new), _weights(source.model), strict=True):
        np.testing.assert_array_equal(a, b)
    assert provenance["step"] == 10 and provenance["run"] == str(src.resolve())
    assert provenance["networks"] == ["generator", "discriminator", "ema_generator"]

    tuned = train_gan(tiny_gan(steps=2, seed=1), tmp_path / "ft", images=images[:32],
                      progress=False, init_from=src)
    saved = json.loads((tmp_path / "ft" / "config.json").read_text())
    assert saved["init_from"]["step"] == 10 and saved["init_from"]["data"] == "sprites"
    assert int(tuned.model.step.numpy()) == 2
    assert int(tuned.model.g_optimizer.iterations.numpy()) == 2  # fresh, not the source's 10


def test_resuming_a_fine_tuned_run_does_not_reload_the_source(tmp_path, images, tiny_gan, tiny_gan_run):
    src = tiny_gan_run
    straight = train_gan(tiny_gan(steps=4, ckpt_every=2), tmp_path / "a", images=images, progress=False,
                         init_from=src)
    train_gan(tiny_gan(steps=2, ckpt_every=2), tmp_path / "b", images=images, progress=False,
              init_from=src)
    resumed = train_gan(out=tmp_path / "b", resume=True, steps=4, images=images, progress=False,
                        init_from=src)
    for a, b in zip(_weights(straight.model), _weights(resumed.model), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_fine_tuning_a_different_architecture_is_a_clear_error(tmp_path, images, tiny_gan, tiny_gan_run):
    with pytest.raises(CharlibError, match=r"g_width=8 \(source: 4\)"):
        train_gan(tiny_gan(steps=1, g_width=8), tmp_path / "ft", images=images,
                  progress=False, init_from=tiny_gan_run)
    assert not (tmp_path / "ft").exists()
    with pytest.raises(CharlibError, match="not a 'vae' run"):
        train_vae(VaeConfig(steps=1, image_size=16), tmp_path / "v", images=images, progress=False,
                  init_from=tiny_gan_run)


def test_cli_init_from_takes_the_source_architecture(tmp_path, capsys, tiny_gan_run):
    src = tiny_gan_run  # 16 px, latent_dim 8, 4 filters; the full profile's are 32 px, 64 and 32
    data = _folder(tmp_path / "art", 40, size=32)
    out = tmp_path / "ft"
    assert main(["train", "gan", "--profile", "full", "--steps", "2", "--data", str(data), "--out", str(out),
                 "--init-from", str(src), "--quiet", "--batch-size", "16"]) == 0
    saved = json.loads((out / "config.json").read_text())
    assert (saved["image_size"], saved["g_width"], saved["d_width"], saved["latent_dim"]) == (16, 4, 4, 8)
    assert saved["batch_size"] == 16 and saved["init_from"]["step"] == 10


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
