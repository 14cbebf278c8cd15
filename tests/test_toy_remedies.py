"""Remedy switches of the toy GAN: packing, minibatch std, spectral norm, unrolling, named recipes."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from charlib import losses
from charlib.diagnostics import toys as T
from charlib.errors import CharlibError

FAST = dict(steps=6, batch_size=32, width=16, depth=2, n_snapshot=20, progress=False)


@pytest.mark.parametrize("pack, mbstd, sn", [(2, 0, False), (1, 4, False), (1, 0, True), (4, 2, True)])
def test_toy_discriminator_remedies_keep_one_logit_per_pack(pack, mbstd, sn):
    d = T.make_toy_discriminator(2, 16, 2, seed=0, pack=pack, minibatch_std=mbstd, spectral_norm=sn)
    x = np.random.default_rng(0).standard_normal((16, 2)).astype("float32")
    assert d(x).shape == (16 // pack, 1)
    assert d.input_shape == (None, 2)


def test_packing_minibatch_std_and_spectral_norm_train_finitely_and_repeatably():
    switches = dict(pack=2, minibatch_std=True, spectral_norm=True)
    a = T.train_toy_gan(T.ring().sample, seed=3, **FAST, **switches)
    b = T.train_toy_gan(T.ring().sample, seed=3, **FAST, **switches)
    assert np.isfinite(a.history["g_loss"]).all() and np.isfinite(a.history["d_loss"]).all()
    np.testing.assert_allclose(a.snapshots[-1].samples, b.snapshots[-1].samples, rtol=0, atol=5e-5)


def test_wgan_gp_with_packing_trains_with_a_positive_penalty():
    r = T.train_toy_gan(T.ring().sample, seed=0, loss="wgan-gp", pack=2, d_steps=2, **FAST)
    assert (r.history["gradient_penalty"] > 0).all() and np.isfinite(r.history["g_loss"]).all()


def test_unrolled_generator_loss_differs_from_the_plain_one():
    plain = T.train_toy_gan(T.ring().sample, seed=1, **FAST)
    unrolled = T.train_toy_gan(T.ring().sample, seed=1, unrolled_steps=3, **FAST)
    assert np.isfinite(unrolled.history["g_loss"]).all()
    # same data, noise and initial weights, and D's first update is identical; G's loss looks ahead
    assert plain.history["d_loss"][0] == unrolled.history["d_loss"][0]
    assert plain.history["g_loss"][0] != unrolled.history["g_loss"][0]


def test_unroll_matches_what_adam_would_do_to_the_discriminator():
    spec = losses.get_gan_loss("nonsaturating")
    d = T.make_toy_discriminator(2, 8, 2, seed=0)
    opt = keras.optimizers.Adam(1e-2, beta_1=0.5)
    opt.build(d.trainable_variables)
    rng = np.random.default_rng(0)
    real, fake = (tf.constant(rng.standard_normal((16, 2)).astype("float32")) for _ in range(2))

    def adam_step():
        with tf.GradientTape() as tape:
            loss = spec.d_loss(d(real, training=True), d(fake, training=True))
        opt.apply_gradients(zip(tape.gradient(loss, d.trainable_variables), d.trainable_variables,
                                strict=True))

    adam_step()  # non-zero moments, as mid-training
    before = [v.numpy() for v in d.trainable_variables]
    ahead = T._unroll(d, opt, spec, real, fake, k=2)
    np.testing.assert_array_equal(before[0], d.trainable_variables[0].numpy())  # D itself unchanged
    adam_step()
    adam_step()
    for looked_ahead, actual in zip(ahead, d.trainable_variables, strict=True):
        np.testing.assert_allclose(looked_ahead.numpy(), actual.numpy(), rtol=1e-4, atol=1e-6)


def test_toy_remedy_switches_reject_bad_values():
    with pytest.raises(CharlibError, match="divide batch_size"):
        T.train_toy_gan(T.ring().sample, steps=2, batch_size=30, pack=4, progress=False)
    with pytest.raises(CharlibError, match="penalty"):
        T.train_toy_gan(T.ring().sample, steps=2, loss="wgan-gp", unrolled_steps=2, progress=False)
    with pytest.raises(CharlibError, match=">= 0"):
        T.train_toy_gan(T.ring().sample, steps=2, unrolled_steps=-1, progress=False)


def test_toy_recipes_name_a_baseline_and_remedies_with_valid_switches():
    import inspect

    accepted = set(inspect.signature(T.train_toy_gan).parameters)
    assert "baseline" in T.TOY_RECIPES and len(T.TOY_RECIPES) >= 5
    for name, recipe in T.TOY_RECIPES.items():
        assert set(recipe) <= accepted, name
    r = T.train_toy_gan(T.ring().sample, seed=0, **{**T.TOY_RECIPES["unrolled-5"], **FAST, "steps": 2})
    assert r.snapshots[-1].samples.shape == (20, 2)


def test_zero_centred_penalties_are_the_mean_squared_input_gradient_at_reals_and_fakes():
    # D(x) = Σ x²  has ∇ₓD = 2x, so mean ‖∇D‖² = 4 · mean ‖x‖²
    def square(x, training=True):
        return tf.reduce_sum(tf.square(x), axis=1, keepdims=True)

    real = tf.constant([[1.0, 0.0], [0.0, 2.0]])  # ‖x‖² = 1, 4: R1 = 4 · 2.5 = 10
    fake = tf.constant([[3.0, 0.0], [0.0, 0.0]])  # ‖x‖² = 9, 0: R2 = 4 · 4.5 = 18
    at_real, at_fake = T._zero_centred(square, real, fake, r1=1.0, r2=1.0)
    assert float(at_real) == pytest.approx(10.0) and float(at_fake) == pytest.approx(18.0)
    off_real, off_fake = T._zero_centred(square, real, fake, r1=0.0, r2=0.5)
    assert float(off_real) == 0.0 and float(off_fake) == pytest.approx(18.0)


def test_rpgan_loss_scores_each_fake_against_its_paired_real():
    real, fake = np.array([1.0, 0.0], "float32"), np.array([0.0, 2.0], "float32")
    softplus = lambda x: np.log1p(np.exp(x))  # noqa: E731
    spec = T._toy_loss(" RpGAN")
    assert spec is T.RPGAN
    assert float(spec.d_loss(real, fake)) == pytest.approx(np.mean(softplus(fake - real)), rel=1e-6)
    assert float(spec.g_loss(real, fake)) == pytest.approx(np.mean(softplus(real - fake)), rel=1e-6)
    # pairing, not batch means: swapping the fakes' order changes the loss
    assert float(spec.d_loss(real, fake[::-1].copy())) != pytest.approx(float(spec.d_loss(real, fake)))


def test_r3gan_recipe_trains_repeatably_with_both_penalties_recorded():
    recipe = T.TOY_RECIPES["r3gan"]
    assert recipe["loss"] == "rpgan" and recipe["r1"] > 0 and recipe["r2"] > 0
    assert {k: recipe[k] for k in T.TOY_RECIPES["baseline"]} == T.TOY_RECIPES["baseline"]
    a = T.train_toy_gan(T.ring().sample, seed=2, **{**recipe, **FAST})
    b = T.train_toy_gan(T.ring().sample, seed=2, **{**recipe, **FAST})
    # the same up to the order in which CPU threads sum the penalties' second gradients
    np.testing.assert_allclose(a.snapshots[-1].samples, b.snapshots[-1].samples, rtol=0, atol=5e-5)
    assert (a.history["r1"] > 0).all() and (a.history["r2"] > 0).all()
    assert not a.history["gradient_penalty"].any() and np.isfinite(a.history["g_loss"]).all()
    plain = T.train_toy_gan(T.ring().sample, seed=2, **{**recipe, **FAST, "r1": 0.0, "r2": 0.0})
    assert not plain.history["r1"].any() and not plain.history["r2"].any()
    # the same first D loss (penalties are reported apart), then the penalised D moves differently
    assert plain.history["d_loss"][0] == pytest.approx(a.history["d_loss"][0], rel=1e-5)
    # by ten times the repeat tolerance
    assert np.abs(plain.snapshots[-1].samples - a.snapshots[-1].samples).max() > 5e-4


def test_r1_r2_and_the_rpgan_loss_reject_bad_settings_in_one_line():
    ring = T.ring().sample
    with pytest.raises(CharlibError, match=r"r1 and r2 .* >= 0, got -1.0 and 0.0"):
        T.train_toy_gan(ring, steps=2, r1=-1.0, progress=False)
    with pytest.raises(CharlibError, match=">= 0"):
        T.train_toy_gan(ring, steps=2, r2=float("nan"), progress=False)
    with pytest.raises(CharlibError, match="gradient penalty"):
        T.train_toy_gan(ring, steps=2, loss="rpgan", r1=1.0, unrolled_steps=2, progress=False)
    with pytest.raises(CharlibError, match="'rpgan' or one of"):
        T.train_toy_gan(ring, steps=2, loss="rpgan-gp", progress=False)
