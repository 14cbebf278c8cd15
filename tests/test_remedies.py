"""Mode-collapse remedies in the DCGAN trainer: minibatch std, PacGAN packing, learning-rate decay,
R1, the benchmark's recipes (``benchmarks/recipes.py``), and the options the package no longer has."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from charlib.base.run import RemovedOptionError
from charlib.data.sprites import sample_sprites
from charlib.errors import CharlibError, ShapeError
from charlib.models import dcgan
from charlib.training.gan import REMOVED_OPTIONS, GanConfig, load_generator, train_gan

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
# the recipes are the benchmark's, not the package's: load benchmarks/recipes.py as a module
_spec = importlib.util.spec_from_file_location("recipes", BENCHMARKS / "recipes.py")
recipes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(recipes)
SPRITE_RECIPES, recipe_config = recipes.SPRITE_RECIPES, recipes.recipe_config



@pytest.fixture(scope="module")
def images():
    return sample_sprites(64, size=16, seed=0).images


# ------------------------------------------------------------------------------- minibatch std


def test_minibatch_std_appends_each_groups_spread_on_a_hand_made_batch():
    # 4 samples, 1x1 pixel, 2 channels: channel 0 varies, channel 1 is constant
    x = np.array([0.0, 1.0, 10.0, 20.0], dtype="float32")
    batch = np.stack([x, np.zeros(4, "float32")], axis=-1).reshape(4, 1, 1, 2)
    out = np.asarray(dcgan.MinibatchStdDev(group_size=2)(batch))
    assert out.shape == (4, 1, 1, 3)
    np.testing.assert_array_equal(out[..., :2], batch)  # the input passes through unchanged
    # sample i is in group i % 2: {0, 10} has std 5, {1, 20} has std 9.5; channel 1 adds ~0
    np.testing.assert_allclose(out[:, 0, 0, 2], [2.5, 4.75, 2.5, 4.75], atol=1e-3)
    whole = np.asarray(dcgan.MinibatchStdDev(group_size=0)(batch))[:, 0, 0, 2]
    np.testing.assert_allclose(whole, np.std(x) / 2, atol=1e-3)


def test_minibatch_std_is_near_zero_for_a_collapsed_batch_and_falls_back_to_one_group():
    same = np.ones((4, 2, 2, 3), "float32")
    assert float(np.max(dcgan.MinibatchStdDev(4)(same)[..., 3])) < 1e-3
    odd = np.arange(3, dtype="float32").reshape(3, 1, 1, 1)  # 4 does not divide 3: one group
    np.testing.assert_allclose(np.asarray(dcgan.MinibatchStdDev(4)(odd))[:, 0, 0, 1], np.std([0, 1, 2]),
                               atol=1e-3)
    with pytest.raises(ShapeError):
        dcgan.MinibatchStdDev(-1)


# ------------------------------------------------------------------------------------- packing


def test_pack_stacks_consecutive_images_along_channels():
    x = np.random.default_rng(0).standard_normal((6, 4, 4, 3)).astype("float32")
    out = np.asarray(dcgan.Pack(2)(x))
    assert out.shape == (3, 4, 4, 6)
    np.testing.assert_array_equal(out[1, ..., :3], x[2])
    np.testing.assert_array_equal(out[1, ..., 3:], x[3])
    with pytest.raises(ShapeError):
        dcgan.Pack(0)


@pytest.mark.parametrize("pack, mbstd", [(1, 4), (2, 0), (4, 2)])
def test_discriminator_with_remedies_scores_packs_and_reloads_safely(tmp_path, pack, mbstd):
    d = dcgan.make_discriminator(16, 4, pack=pack, minibatch_std=mbstd)
    x = np.random.default_rng(1).uniform(-1, 1, (8, 16, 16, 3)).astype("float32")
    assert d(x).shape == (8 // pack, 1)
    d.save(tmp_path / "d.keras")
    again = keras.models.load_model(tmp_path / "d.keras", safe_mode=True)
    np.testing.assert_allclose(again(x), d(x), rtol=1e-5, atol=1e-5)


# -------------------------------------------------------------------------------------- configs


def test_pack_must_divide_the_batch_at_config_time():
    with pytest.raises(CharlibError, match="divide batch_size"):
        GanConfig(batch_size=10, pack=4)
    with pytest.raises(CharlibError, match="pack"):
        GanConfig(pack=0)
    with pytest.raises(CharlibError, match="minibatch_std"):
        GanConfig(batch_size=4, pack=4, minibatch_std=True)


def test_old_config_json_without_remedy_fields_still_loads(tiny_gan):
    old = {k: v for k, v in tiny_gan().to_dict().items() if k not in ("pack", "minibatch_std")}
    config = GanConfig.from_dict(old)
    assert config.pack == 1 and config.minibatch_std is False


@pytest.mark.parametrize("name", sorted(SPRITE_RECIPES))
def test_every_sprite_recipe_is_a_valid_full_profile_config(name):
    config = recipe_config(name)
    assert config.profile == "full" and config.steps > 0
    assert config.batch_size % config.pack == 0


def test_unknown_recipe_is_a_clear_error():
    with pytest.raises(CharlibError, match="pacgan2"):
        recipe_config("no-such-recipe")


def test_a_removed_recipe_keeps_its_rows_and_names_the_commit_that_runs_it():
    saved = json.loads((BENCHMARKS / "results" / "remedies_sprites.json").read_text())
    removed = recipes.removed_recipes()
    assert set(removed) == {"pacgan2-decay-noise", "pacgan2-decay-palette", "pacgan2-decay-clusters"}
    for name, gone in removed.items():
        assert name not in SPRITE_RECIPES
        assert any(row["recipe"] == name and row.get("kl") is not None for row in saved["rows"])
        with pytest.raises(CharlibError, match=f"removed.*commit {gone['commit']}"):
            recipe_config(name)


@pytest.mark.parametrize("switches", [
    dict(minibatch_std=True),
    dict(pack=2),
    dict(d_norm="spectral", loss="hinge", lr_d=4e-4, lr_g=1e-4),
    dict(loss="wgan-gp", pack=2, minibatch_std=True),
])
def test_each_remedy_trains_checkpoints_resumes_and_exports(tmp_path, images, switches, tiny_gan):
    out = tmp_path / "run"
    config = tiny_gan(steps=3, sample_every=3, ckpt_every=3, **switches)
    first = train_gan(config, out, images=images, progress=False)
    assert all(np.isfinite(v) for v in first.history[-1].values())
    saved = json.loads((out / "config.json").read_text())
    assert {k: saved[k] for k in switches} == switches
    resumed = train_gan(out=out, resume=True, steps=6, images=images, progress=False)
    assert int(resumed.model.step.numpy()) == 6
    assert int(resumed.model.d_optimizer.iterations.numpy()) == 6
    g = keras.models.load_model(out / "generator.keras", safe_mode=True)
    assert g.output_shape == (None, 16, 16, 3)


def test_cli_pack_that_does_not_divide_the_batch_is_one_error_line_and_no_folder(tmp_path, capsys):
    from charlib.cli import main

    out = tmp_path / "run"
    assert main(["train", "gan", "--profile", "smoke", "--pack", "3", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "pack=3" in err[0]
    assert not out.exists()


def test_cli_hands_packing_and_minibatch_std_to_the_gan_trainer(tmp_path, cli_trainer_calls):
    from charlib.cli import main

    out = tmp_path / "run"  # (training with both is tested above)
    assert main(["train", "gan", "--profile", "smoke", "--steps", "2", "--pack", "2", "--minibatch-std",
                 "--quiet", "--out", str(out)]) == 0
    (config, _, kwargs), = cli_trainer_calls
    saved = config.to_dict()  # what config.json will hold
    assert saved["pack"] == 2 and saved["minibatch_std"] is True and kwargs["steps"] == 2


# ------------------------------------------------------------------------------- learning-rate decay


def test_linear_tail_is_constant_then_falls_linearly_to_zero_at_the_last_step():
    from charlib.training.gan import LinearTail

    lr = LinearTail(1e-3, steps=100, fraction=0.25)
    got = [float(lr(t)) for t in (0, 50, 75, 87.5, 100, 150)]
    np.testing.assert_allclose(got, [1e-3, 1e-3, 1e-3, 5e-4, 0.0, 0.0], atol=1e-9)


@pytest.mark.parametrize("fraction", [-0.1, 1.5])
def test_lr_decay_outside_zero_to_one_is_a_clear_error(fraction, tiny_gan):
    with pytest.raises(CharlibError, match="lr_decay"):
        tiny_gan(lr_decay=fraction)


def test_lr_decay_ends_at_zero_and_an_interrupted_run_resumes_on_the_same_schedule(
        tmp_path, images, interrupted_at_batch, tiny_gan):
    config = tiny_gan(steps=8, lr_decay=0.5, sample_every=3, ckpt_every=100)
    straight = train_gan(config, tmp_path / "a", images=images, progress=False)
    assert float(straight.model.g_optimizer.learning_rate) == 0.0  # the schedule ran to its end
    constant = train_gan(replace(config, lr_decay=0.0), tmp_path / "c", images=images, progress=False)
    assert float(constant.model.g_optimizer.learning_rate) == pytest.approx(config.lr_g)

    with interrupted_at_batch(5):
        train_gan(config, tmp_path / "b", images=images, progress=False)
    resumed = train_gan(out=tmp_path / "b", resume=True, images=images, progress=False)
    weights = [w.numpy() for w in straight.model.generator.weights]
    for a, b in zip(weights, [w.numpy() for w in resumed.model.generator.weights], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    # and the decay changed what was learnt: the constant-rate run ends elsewhere
    assert not all(np.allclose(a, w.numpy()) for a, w in zip(weights, constant.model.generator.weights,
                                                               strict=True))


# ------------------------------------------------------------------------------------ R1 penalty


@pytest.mark.parametrize("value", [-1.0, float("nan")])
def test_r1_below_zero_or_nan_is_a_clear_error(value, tiny_gan):
    with pytest.raises(CharlibError, match="r1"):
        tiny_gan(r1=value)


def test_r1_changes_what_d_learns_and_resumes_exactly(tmp_path, images, interrupted_at_batch, tiny_gan):
    config = tiny_gan(steps=6, sample_every=3, ckpt_every=100, r1=10.0)
    straight = train_gan(config, tmp_path / "a", images=images, progress=False)
    plain = train_gan(replace(config, r1=0.0), tmp_path / "p", images=images, progress=False)
    with interrupted_at_batch(4):
        train_gan(config, tmp_path / "b", images=images, progress=False)
    resumed = train_gan(out=tmp_path / "b", resume=True, images=images, progress=False)
    d_weights = [w.numpy() for w in straight.model.discriminator.trainable_weights]
    again = [w.numpy() for w in resumed.model.discriminator.trainable_weights]
    for a, b in zip(d_weights, again, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert not all(np.allclose(a, w.numpy()) for a, w in
                   zip(d_weights, plain.model.discriminator.trainable_weights, strict=True))
    assert all(np.isfinite(row["d_loss"]) for row in straight.history)


# ---------------------------------------------------------------- options the package no longer has


def test_a_run_saved_with_the_removed_options_off_still_loads(tiny_gan_copy):
    # what every config.json written before the options went holds
    path = tiny_gan_copy / "config.json"
    saved = json.loads(path.read_text())
    path.write_text(json.dumps({**saved, "instance_noise": 0.0, "palette": 0, "clusters": 0,
                                "cluster_weight": 1.0}))
    generator, config = load_generator(tiny_gan_copy)
    assert not any(hasattr(config, name) for name in ("instance_noise", "palette", "clusters"))
    z = np.zeros((2, config.latent_dim), "float32")
    assert generator(z).shape == (2, config.image_size, config.image_size, 3)


@pytest.mark.parametrize("field, value", [("palette", 16), ("clusters", 1000), ("instance_noise", 0.3)])
def test_a_run_with_a_removed_option_on_is_one_error_line_naming_it_and_the_commit(tiny_gan_copy, tmp_path,
                                                                                   capsys, field, value):
    from charlib.cli import main

    path = tiny_gan_copy / "config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), field: value}))
    with pytest.raises(RemovedOptionError, match=f"{field}={value}.*no longer has this option"):
        load_generator(tiny_gan_copy)
    assert main(["sample", "--checkpoint", str(tiny_gan_copy), "--out", str(tmp_path / "grid.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and f"{field}={value}" in err[0]
    assert "no longer has this option" in err[0] and "check out commit 8d7b374" in err[0]
    assert not (tmp_path / "grid.png").exists()


def test_the_removed_options_name_the_commit_the_results_record():
    saved = json.loads((BENCHMARKS / "results" / "remedies_sprites.json").read_text())
    commits = {gone["commit"] for gone in saved["removed"].values()}
    assert len(commits) == 1 and f"commit {commits.pop()} " in GanConfig.removed_at
    assert set(GanConfig.removed) == set(REMOVED_OPTIONS) == {"instance_noise", "palette", "clusters"}


def test_the_removed_cli_flags_are_refused(tmp_path, capsys):
    from charlib.cli import main

    for flag, value in (("--instance-noise", "0.3"), ("--clusters", "1000")):
        with pytest.raises(SystemExit):
            main(["train", "gan", "--profile", "smoke", flag, value, "--out", str(tmp_path / "run")])
        assert f"unrecognized arguments: {flag}" in capsys.readouterr().err
    # the conditional VAE's decoder has colour layers (its palette field); the GAN's generator no longer
    assert main(["train", "gan", "--palette", "16", "--out", str(tmp_path / "run")]) == 2
    assert "--palette is for the conditional VAE" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


# ------------------------------------------------------------------------- the remedies' CLI flags


@pytest.mark.parametrize("flag, key, good, expected, bad, message", [
    ("--lr-decay", "lr_decay", "0.5", 0.5, ["1.5"], "fraction"),
    ("--r1", "r1", "0.5", 0.5, ["-1", "nan"], ">= 0"),
])
def test_cli_gan_flag_is_saved_checked_and_refused_for_a_vae(tmp_path, capsys, flag, key, good, expected,
                                                              bad, message):
    from charlib.cli import main
    from charlib.training import gan as gan_module

    out, handed = tmp_path / "run", []  # what the trainer gets (training with each is tested above)

    def train_gan(config, *args, **kwargs):
        handed.append(config)
        return SimpleNamespace(history=[], config=config, run=SimpleNamespace(samples_dir=out, logs_dir=out))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gan_module, "train_gan", train_gan)
        assert main(["train", "gan", "--profile", "smoke", "--steps", "2", flag, good, "--quiet",
                     "--out", str(out)]) == 0
    assert len(handed) == 1 and handed[0].to_dict()[key] == expected  # to_dict(): config.json
    for value in bad:
        with pytest.raises(SystemExit):
            main(["train", "gan", flag, value, "--out", str(tmp_path / "bad")])
        assert message in capsys.readouterr().err
    assert main(["train", "vae", "--profile", "smoke", flag, good, "--out", str(tmp_path / "vae")]) == 2
    assert f"{flag} is for GANs" in capsys.readouterr().err
    assert not (tmp_path / "vae").exists() and not (tmp_path / "bad").exists()
