"""The GAN trainer: run folders, checkpoints and exact resume, the NaN guard, sampling, the CLI."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from charlib.base.run import RunFolderError
from charlib.cli import main
from charlib.config import profile
from charlib.data.sprites import sample_sprites
from charlib.errors import TrainingDiverged
from charlib.models import dcgan
from charlib.training.gan import GanConfig, build_gan, generate, train_gan


@pytest.fixture(scope="module")
def images():
    return sample_sprites(64, size=16, seed=0).images


def _weights(gan) -> list[np.ndarray]:
    return [w.numpy() for w in gan.generator.weights + gan.discriminator.weights]


@pytest.mark.parametrize("size, g_params", [(32, None), (64, None)])
def test_generator_upsamples_noise_to_images_in_tanh_range(size, g_params):
    g = dcgan.make_generator(latent_dim=16, image_size=size, width=8)
    d = dcgan.make_discriminator(image_size=size, width=8)
    out = g(np.random.default_rng(0).standard_normal((2, 16)).astype("float32"))
    assert out.shape == (2, size, size, 3)
    assert float(np.max(np.abs(out))) <= 1.0
    assert d(out).shape == (2, 1)
    assert any(isinstance(layer, keras.layers.Conv2DTranspose) for layer in g.layers)


def test_image_size_must_be_a_power_of_two_multiple_of_four():
    with pytest.raises(ValueError, match="image_size"):
        dcgan.make_generator(image_size=48)


def test_training_writes_config_checkpoints_samples_logs_and_export(tiny_gan_trained):
    result = tiny_gan_trained  # train_gan(tiny_gan(steps=10), out)
    out = result.run.path
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "gan" and config["image_size"] == 16
    assert "tensorflow" in config["versions"]
    assert sorted(p.name for p in (out / "ckpt").glob("*.index")) == ["ckpt-10.index", "ckpt-5.index"]
    assert (out / "samples" / "step_000010.png").is_file()
    assert (out / "samples" / "samples.gif").is_file()
    assert any((out / "logs").iterdir())
    assert (out / "generator.keras").is_file()
    assert [row["step"] for row in result.history] == list(range(1, 11))
    restored = keras.models.load_model(out / "generator.keras", safe_mode=True)
    assert restored.output_shape == (None, 16, 16, 3)


def test_a_new_run_refuses_a_non_empty_folder(tmp_path, images, tiny_gan):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(RunFolderError, match="not empty"):
        train_gan(tiny_gan(steps=2), tmp_path, images=images, progress=False)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_resume_continues_step_count_and_optimiser_and_matches_an_uninterrupted_run(tmp_path, tiny_gan,
                                                                                    tiny_gan_trained):
    straight = tiny_gan_trained  # 10 steps on the sprites its config names, as these runs
    train_gan(tiny_gan(steps=5), tmp_path / "b", progress=False)
    resumed = train_gan(out=tmp_path / "b", resume=True, steps=10, progress=False)
    assert int(resumed.model.step.numpy()) == 10
    assert int(resumed.model.g_optimizer.iterations.numpy()) == 10
    assert [row["step"] for row in resumed.history] == list(range(1, 11))
    for a, b in zip(_weights(straight.model), _weights(resumed.model), strict=True):
        np.testing.assert_array_equal(a, b)  # exact: batches, noise and optimiser state all resume


def test_resume_without_a_run_is_a_clear_error(tmp_path):
    with pytest.raises(RunFolderError, match="Nothing to resume"):
        train_gan(out=tmp_path / "missing", resume=True, progress=False)


def test_nan_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, images, tiny_gan):
    config = tiny_gan(steps=50, lr_g=1e12, lr_d=1e12, ckpt_every=1)
    with pytest.raises(TrainingDiverged, match="diverged at step") as info:
        train_gan(config, tmp_path / "nan", images=images, progress=False)
    good = sorted((tmp_path / "nan" / "ckpt").glob("ckpt-*.index"))
    assert good, "a checkpoint from before the divergence must survive"
    assert f"step {good[-1].name.split('-')[1].split('.')[0]}" in str(info.value)
    # what the guard promises of the kept state: every weight of every network is finite (at this
    # learning rate they are ~1e12 after one step, so the images themselves may overflow)
    from charlib.training.trainer import restore_for_inference

    gan, _, _ = restore_for_inference(GanConfig, tmp_path / "nan", build_gan)
    assert all(np.all(np.isfinite(w.numpy())) for net in (gan.generator, gan.discriminator, gan.ema_generator)
               for w in net.weights)


def test_keyboard_interrupt_saves_a_checkpoint_to_resume_from(tmp_path, images, interrupted_at_batch,
                                                               tiny_gan):
    with interrupted_at_batch(3):
        train_gan(tiny_gan(steps=6, ckpt_every=100), tmp_path / "r", images=images, progress=False)
    assert (tmp_path / "r" / "ckpt" / "ckpt-3.index").is_file()
    resumed = train_gan(out=tmp_path / "r", resume=True, images=images, progress=False)
    assert int(resumed.model.step.numpy()) == 6


def test_ema_generator_differs_from_raw_generator_after_training(tmp_path, images, tiny_gan):
    result = train_gan(tiny_gan(steps=5, ema_decay=0.9), tmp_path / "e", images=images,
                       progress=False)
    raw = result.model.generator.get_weights()[0]
    ema = result.model.ema_generator.get_weights()[0]
    assert not np.allclose(raw, ema)


@pytest.mark.parametrize("loss", ["minimax", "hinge", "wgan-gp"])
def test_every_loss_trains_a_few_finite_steps(tmp_path, images, loss, tiny_gan):
    result = train_gan(tiny_gan(steps=3, loss=loss), tmp_path / loss, images=images,
                       progress=False)
    assert all(np.isfinite(v) for v in result.history[-1].values())


def test_cli_train_smoke_then_resume_then_sample(tmp_path, capsys):
    out = tmp_path / "g"
    assert main(["train", "gan", "--profile", "smoke", "--out", str(out), "--steps", "6", "--quiet"]) == 0
    assert main(["train", "gan", "--profile", "smoke", "--out", str(out), "--quiet"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["train", "gan", "--out", str(out), "--resume", "--steps", "8", "--quiet"]) == 0
    assert "from step 6" in capsys.readouterr().out
    assert main(["sample", "--checkpoint", str(out), "--n", "9", "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").is_file()


def test_smoke_profile_config_is_small():
    config = GanConfig.from_profile(profile("smoke"))
    assert config.image_size == 32 and config.steps <= 100


def test_generate_returns_uint8_pictures():
    g = dcgan.make_generator(latent_dim=4, image_size=8, width=2)
    images = generate(g, np.zeros((3, 4), np.float32), batch_size=2)
    assert images.shape == (3, 8, 8, 3) and images.dtype == np.uint8


def test_time_budget_ends_the_run_cleanly_and_marks_it_complete(tmp_path, images, tiny_gan):
    result = train_gan(tiny_gan(steps=10_000, max_minutes=0.0), tmp_path / "t", images=images,
                       progress=False)
    assert result.config.steps == 1 == int(result.model.step.numpy())
    assert json.loads((tmp_path / "t" / "config.json").read_text())["steps"] == 1
    assert (tmp_path / "t" / "ckpt" / "ckpt-1.index").is_file()


def test_training_data_comes_from_the_training_identities_only():
    from charlib.data.sprites import identity_split, mode_id
    from charlib.training.trainer import load_training_images

    config = GanConfig(image_size=16, n_data=300, seed=3)
    images = load_training_images(config)
    train_modes, test_modes = identity_split()
    expected = sample_sprites(300, size=16, seed=3, split="train")
    np.testing.assert_array_equal(images, expected.images)
    assert set(mode_id(expected.labels.attributes)) <= set(train_modes)
    assert not set(expected.labels.mode) & set(test_modes)


def test_course_gan_trains_once_then_loads_without_training(tmp_path, monkeypatch):
    from charlib.training import gan as gan_module

    first = gan_module.course_gan(profile("smoke"), out=tmp_path / "c", progress=False)
    calls = []
    monkeypatch.setattr(gan_module, "train_gan", lambda *a, **k: calls.append(1))
    again = gan_module.course_gan(profile("smoke"), out=tmp_path / "c", progress=False)
    assert calls == [] and int(again.model.step.numpy()) == first.config.steps
    assert len(again.history) == len(first.history)


def test_course_gan_is_keyed_by_its_config_and_the_code_version(tmp_path, monkeypatch):
    from charlib import config as config_module
    from charlib.training import gan as gan_module
    from charlib.training import trainer

    monkeypatch.setenv(config_module.ENV_OUTPUTS, str(tmp_path))
    seen = []
    # the real train_or_load picks the folder; the stubbed trainer records where it was sent
    monkeypatch.setattr(gan_module, "train_gan",
                        lambda cfg, out, progress: seen.append((cfg.image_size, out.name)))
    gan_module.course_gan(profile("smoke"))
    gan_module.course_gan(profile("smoke"), image_size=32)  # the same config: the same folder
    gan_module.course_gan(profile("smoke"), image_size=16)
    gan_module.course_gan(profile("smoke"), steps=61)
    monkeypatch.setattr(trainer, "code_version", lambda: "edited-code")
    gan_module.course_gan(profile("smoke"))
    names = [name for _, name in seen]
    assert all(name.startswith("gan_smoke_") for name in names)
    assert names[0] == names[1] and len(set(names)) == 4  # changed size, steps or code: a new folder
    assert [size for size, _ in seen] == [32, 32, 16, 32, 32]


def test_code_version_changes_with_the_source(tmp_path, monkeypatch):
    from charlib import config as config_module

    before = config_module.code_version()
    assert before == config_module.code_version() and len(before) == 12
    fake = tmp_path / "config.py"  # code_version hashes the folder config.py lives in
    fake.write_text("x = 1\n")
    monkeypatch.setattr(config_module, "__file__", str(fake))
    one = config_module.code_version()
    fake.write_text("x = 2\n")
    assert config_module.code_version() != one
