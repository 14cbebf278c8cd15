"""R3GAN: the pairing loss, R1/R2, the normalisation-free nets, training, resume, the CLI, and the
trainer's warning when the discriminator has won."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from charlib import losses
from charlib.cli import main
from charlib.config import profile
from charlib.data.sprites import sample_sprites
from charlib.errors import CharlibError
from charlib.models import r3gan as nets
from charlib.training import loop
from charlib.training.gan import R3GAN, GanConfig, load_generator, r3gan_config, train_gan


@pytest.fixture(scope="module")
def images():
    return sample_sprites(64, size=16, seed=0).images


@pytest.fixture(scope="module")
def r3gan_run(tmp_path_factory, tiny_r3gan, images):
    """A tiny R3GAN trained 6 steps (checkpoints at 5 and 6; step 4 is regularised), shared by the
    tests of this file: tracing R3GAN's step, with its gradient penalties, is what takes the time."""
    out = tmp_path_factory.mktemp("r3gan") / "run"
    return train_gan(tiny_r3gan(steps=6), out, images=images, progress=False)


def _weights(gan) -> list[np.ndarray]:
    return [w.numpy() for w in gan.generator.weights + gan.discriminator.weights
            + gan.ema_generator.weights]


def test_rpgan_losses_on_known_logits():
    real, fake = np.array([2.0, 0.0, -1.0]), np.array([0.0, 0.0, 1.0])
    softplus = lambda t: np.log1p(np.exp(t))  # noqa: E731
    np.testing.assert_allclose(float(losses.rpgan_d_loss(real, fake)), np.mean(softplus(fake - real)),
                               rtol=1e-6)
    np.testing.assert_allclose(float(losses.rpgan_g_loss(real, fake)), np.mean(softplus(real - fake)),
                               rtol=1e-6)
    assert float(losses.rpgan_d_loss([[3.0]], [[3.0]])) == pytest.approx(np.log(2.0))
    # only the difference matters: shifting every logit changes nothing
    shifted = float(losses.rpgan_d_loss(real + 5, fake + 5))
    assert shifted == pytest.approx(float(losses.rpgan_d_loss(real, fake)))


def test_rpgan_refuses_unpaired_batches():
    with pytest.raises(CharlibError, match="same shape"):
        losses.rpgan_d_loss(np.zeros(4), np.zeros(3))


def test_zero_centred_penalty_equals_the_hand_computed_gradient_norm():
    # D(x) = sum(w * x²) has gradient 2 w x, so ‖∇D‖² = sum(4 w² x²) per example
    w = np.array([[0.5, -1.0], [2.0, 0.25]], np.float32)
    x = np.array([[[1.0, 2.0], [0.0, -1.0]], [[3.0, 0.5], [1.0, 1.0]]], np.float32)[..., None]
    d = lambda images: tf.reduce_sum(w[None, ..., None] * images**2, axis=[1, 2, 3])  # noqa: E731
    expected = np.mean(np.sum(4 * w[None] ** 2 * x[..., 0] ** 2, axis=(1, 2)))
    assert float(losses.zero_centred_penalty(d, x)) == pytest.approx(expected, rel=1e-5)
    assert float(losses.zero_centred_penalty(d, x)) == pytest.approx(float(losses.r1_penalty(d, x)))


@pytest.mark.parametrize("size", [16, 32, 64])
def test_nets_map_noise_to_images_and_images_to_one_logit(size):
    g, d = nets.make_generator(8, size, 4), nets.make_discriminator(size, 4)
    out = g(np.random.default_rng(0).standard_normal((2, 8)).astype("float32"))
    assert out.shape == (2, size, size, 3) and d(out).shape == (2, 1)
    assert not any(isinstance(layer, keras.layers.BatchNormalization | keras.layers.LayerNormalization)
                   for layer in g.layers + d.layers)


def test_parameter_counts_at_32px_are_in_the_stated_range():
    g, d = nets.make_generator(64, 32, 32), nets.make_discriminator(32, 32)
    assert 200_000 <= g.count_params() <= 250_000
    assert 150_000 <= d.count_params() <= 200_000


def test_each_residual_block_is_the_identity_at_initialisation():
    g = nets.make_generator(8, 16, 4)
    adds = [layer for layer in g.layers if isinstance(layer, keras.layers.Add)]
    assert adds
    for add in adds:
        branch_in, branch_out = add.input
        probe = keras.Model(g.input, [branch_in, branch_out, add.output])
        x, y, out = probe(np.ones((2, 8), np.float32))
        np.testing.assert_array_equal(np.asarray(y), 0.0)  # the zero-initialised last layer
        np.testing.assert_array_equal(np.asarray(out), np.asarray(x))


def test_config_refuses_options_r3gan_does_not_have(tiny_r3gan):
    for bad in ({"pack": 2}, {"minibatch_std": True}, {"loss": "hinge"}):
        with pytest.raises(CharlibError, match="r3gan"):
            tiny_r3gan(**bad)
    with pytest.raises(CharlibError, match="rpgan"):
        GanConfig(nets="r3gan")
    with pytest.raises(CharlibError, match="nets='r3gan'"):
        GanConfig(r2=0.1)
    with pytest.raises(CharlibError, match="reg_every"):
        tiny_r3gan(reg_every=0)


def test_r3gan_config_keeps_the_profile_sizes_and_sets_the_recipe():
    config = r3gan_config(profile("learner"))
    assert (config.nets, config.loss, config.pack, config.reg_every) == ("r3gan", "rpgan", 1, 4)
    assert config.r1 == config.r2 == 0.1 and config.ema_decay is not None
    assert config.steps == GanConfig.from_profile(profile("learner")).steps


def test_a_tiny_run_trains_exports_and_reloads_with_safe_mode(r3gan_run):
    result, out = r3gan_run, r3gan_run.run.path
    assert isinstance(result.model, R3GAN)
    assert json.loads((out / "config.json").read_text())["nets"] == "r3gan"
    assert all(np.isfinite(v) for row in result.history for v in row.values())
    row = result.history[-1]
    assert row["d_real"] + row["d_fake"] == pytest.approx(1.0, abs=1e-5)
    restored = keras.models.load_model(out / "generator.keras", safe_mode=True)
    z = np.random.default_rng(1).standard_normal((3, result.config.latent_dim)).astype("float32")
    np.testing.assert_allclose(np.asarray(restored(z)), np.asarray(result.model.sampler(z)), atol=1e-5)
    generator, config = load_generator(out)  # what charlib sample / diagnose use
    assert config.nets == "r3gan" and generator.output_shape == (None, 16, 16, 3)


def test_the_penalties_change_the_discriminator_only_on_regularised_steps(images, tiny_r3gan):
    real = tf.constant(images[:8].astype("float32") / 127.5 - 1.0)
    from charlib.training.gan import build_gan

    def d_after_one_step(start: int, **overrides) -> list[np.ndarray]:
        keras.utils.set_random_seed(0)  # the same initial weights for both
        gan = build_gan(tiny_r3gan(**overrides))
        gan.step.assign(start)
        gan.train_step(real)
        return [w.numpy() for w in gan.discriminator.weights]

    for start, differs in ((4, True), (5, False)):  # reg_every=4: step 4 is regularised, step 5 not
        with_penalty = d_after_one_step(start, r1=10.0, r2=10.0)
        without = d_after_one_step(start, r1=0.0, r2=0.0)
        same = all(np.allclose(a, b) for a, b in zip(with_penalty, without, strict=True))
        assert same != differs


def test_interrupted_r3gan_run_resumes_exactly(tmp_path, images, interrupted_at_batch, r3gan_run):
    straight = r3gan_run  # stopped after step 3 of 6: the resumed part has the regularised step 4
    with interrupted_at_batch(3):
        train_gan(straight.config, tmp_path / "b", images=images, progress=False)
    assert sorted(p.name for p in (tmp_path / "b" / "ckpt").glob("*.index")) == ["ckpt-3.index"]
    resumed = train_gan(out=tmp_path / "b", resume=True, images=images, progress=False)
    assert int(resumed.model.step.numpy()) == 6
    for a, b in zip(_weights(straight.model), _weights(resumed.model), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_cli_gives_r3gan_its_recipe_and_refuses_options_it_lacks(tmp_path, capsys, cli_trainer_calls):
    """What the command line hands the trainer (training R3GAN itself is tested above)."""
    out = tmp_path / "g"
    assert main(["train", "gan", "--nets", "r3gan", "--out", str(out), "--steps", "2", "--size", "32",
                 "--r2", "0.2", "--reg-every", "2", "--quiet"]) == 0
    (config, given_out, kwargs), = cli_trainer_calls
    saved = config.to_dict()  # what config.json will hold
    assert (saved["nets"], saved["loss"], saved["r2"], saved["reg_every"]) == ("r3gan", "rpgan", 0.2, 2)
    assert saved["image_size"] == 32 and kwargs["steps"] == 2 and str(given_out) == str(out)
    assert config == r3gan_config(profile("smoke"), image_size=32, r2=0.2, reg_every=2)
    for flags in (["--pack", "2"], ["--minibatch-std"], ["--loss", "hinge"]):
        assert main(["train", "gan", "--nets", "r3gan", "--out", str(tmp_path / "x"), *flags]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error:") and err.count("\n") == 1 and "r3gan" in err
    assert main(["train", "gan", "--out", str(tmp_path / "y"), "--r2", "0.1"]) == 2
    assert "nets='r3gan'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
    assert len(cli_trainer_calls) == 1  # refused before the trainer is called


# ---------------------------------------------------------------------------------------------
# the trainer notices when the discriminator has won


def _stub_loop(tmp_path, scores, window: int, monkeypatch, **settings):
    """Run the shared loop on a stub step that logs the given (d_real, d_fake) pairs."""
    from charlib.base.run import RunFolder
    from charlib.training.loop import Checkpointer, LoopSettings, run_loop

    monkeypatch.setattr(loop, "D_WON_WINDOW", window)
    run = RunFolder(tmp_path / "stub", {"model": "stub"})
    step = tf.Variable(0, dtype=tf.int64)
    pairs = iter(scores)

    def step_fn(_batch):
        step.assign_add(1)
        real, fake = next(pairs)
        return {"d_loss": tf.constant(0.1), "d_real": tf.constant(real), "d_fake": tf.constant(fake)}

    history = run_loop(run=run, step_fn=step_fn, batches=iter(range(10**6)),
                       checkpointer=Checkpointer(run, step=step),
                       sample_fn=lambda: np.zeros((1, 8, 8, 3), np.uint8),
                       settings=LoopSettings(len(scores), progress=False, **settings))
    return run, history


def test_a_won_discriminator_is_warned_about_once_and_marked_in_history(tmp_path, capsys, monkeypatch):
    scores = [(0.6, 0.4)] * 5 + [(0.999, 0.001)] * 30 + [(0.6, 0.4)] * 5 + [(0.999, 0.001)] * 30
    run, history = _stub_loop(tmp_path, scores, 10, monkeypatch, log_every=1, sample_every=1000,
                              ckpt_every=1000)
    out = capsys.readouterr().out
    assert out.count("discriminator has won") == 1 and "--nets r3gan" in out and "--pack 2" in out
    assert "(step 15)" in out  # D wins from step 6; step 15 is the 10th in a row
    won = [int(row["d_won"]) for row in run.read_history()]
    assert won == [int(15 <= step <= 35 or step >= 50) for step in range(1, len(scores) + 1)]


def test_a_healthy_run_gets_no_warning(tmp_path, capsys, monkeypatch):
    # D winning for a while, but never for a whole window; a D sure of reals only; and a confident
    # but unsaturated D, as a healthy DCGAN's (reals near 0.99, fakes near 0.01)
    scores = ([(0.999, 0.001)] * 9 + [(0.7, 0.3)]) * 4 + [(0.999, 0.2)] * 20 + [(0.99, 0.01)] * 20
    run, _ = _stub_loop(tmp_path, scores, 10, monkeypatch, log_every=1)
    assert "discriminator has won" not in capsys.readouterr().out
    assert all(row["d_won"] == 0 for row in run.read_history())


def test_a_run_built_to_fail_warns(tmp_path, capsys, images, monkeypatch, tiny_gan):
    """A DCGAN whose generator cannot learn (lr_g = 0) against a fast discriminator: D wins."""
    monkeypatch.setattr(loop, "D_WON_WINDOW", 20)
    result = train_gan(tiny_gan(steps=80, lr_g=0.0, lr_d=1e-2, sample_every=100, ckpt_every=100),
                       tmp_path / "broken", images=images, progress=False)
    assert capsys.readouterr().out.count("discriminator has won") == 1
    assert result.history[-1]["d_won"] == 1.0
