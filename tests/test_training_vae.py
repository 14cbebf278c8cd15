"""The VAE trainer: loss terms reported separately, resume, evaluation helpers and the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from charlib import losses
from charlib.cli import main
from charlib.data.sprites import sample_sprites
from charlib.models import vae as vae_models
from charlib.training.vae import (
    build_vae,
    decode,
    encode,
    evaluate,
    load_vae,
    reconstruct,
    train_vae,
)


@pytest.fixture(scope="module")
def images():
    return sample_sprites(64, size=16, seed=0).images


def test_encoder_and_decoder_shapes():
    enc = vae_models.make_encoder(32, latent_dim=6, width=4)
    mu, logvar = enc(np.zeros((2, 32, 32, 3), np.float32))
    assert mu.shape == logvar.shape == (2, 6)
    for likelihood in ("gaussian", "bernoulli"):
        dec = vae_models.make_decoder(32, latent_dim=6, width=4, likelihood=likelihood)
        assert dec(mu).shape == (2, 32, 32, 3)


def test_train_step_reports_terms_that_add_up(images, tiny_vae):
    vae = build_vae(tiny_vae())
    x = tf.convert_to_tensor(images[:8].astype(np.float32) / 127.5 - 1)
    logs = vae.train_step(x)
    np.testing.assert_allclose(float(logs["elbo"]), -(float(logs["recon"]) + float(logs["kl"])), rtol=1e-5)
    expected_bpd = float(losses.bits_per_dim(-float(logs["elbo"]), 16 * 16 * 3))
    np.testing.assert_allclose(float(logs["bpd"]), expected_bpd, rtol=1e-5)
    assert float(logs["kl"]) >= 0


def test_kl_warm_up_ramps_beta_linearly(images, tiny_vae):
    vae = build_vae(tiny_vae(kl_warmup_steps=4, beta=2.0))
    x = tf.convert_to_tensor(images[:8].astype(np.float32) / 127.5 - 1)
    betas = [float(vae.train_step(x)["beta"]) for _ in range(6)]
    np.testing.assert_allclose(betas, [0.0, 0.5, 1.0, 1.5, 2.0, 2.0])


def test_training_resumes_exactly(tmp_path, images, tiny_vae):
    # stopped at step 3 of 6, inside the KL warm-up (4 steps): beta must resume on schedule too
    straight = train_vae(tiny_vae(steps=6), tmp_path / "a", images=images, progress=False)
    train_vae(tiny_vae(steps=3), tmp_path / "b", images=images, progress=False)
    resumed = train_vae(out=tmp_path / "b", resume=True, steps=6, images=images, progress=False)
    assert int(resumed.model.step.numpy()) == 6
    for a, b in zip(straight.model.weights, resumed.model.weights, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
def test_helpers_encode_decode_reconstruct_and_evaluate(tmp_path, images, likelihood, tiny_vae):
    train_vae(tiny_vae(steps=3, likelihood=likelihood), tmp_path / "v", images=images,
              progress=False)
    vae, config = load_vae(tmp_path / "v")
    mu, logvar = encode(vae, images[:5])
    assert mu.shape == logvar.shape == (5, 4)
    assert decode(vae, mu).dtype == np.uint8
    assert reconstruct(vae, images[:5]).shape == images[:5].shape
    report = evaluate(vae, images[:16])
    assert report["elbo_nats"] == pytest.approx(-(report["recon_nats"] + report["kl_nats"]))
    assert 0 <= report["pixel_mse_01"] <= 1


def test_free_bits_keeps_the_objective_above_the_floor(images, tiny_vae):
    vae = build_vae(tiny_vae(kl_warmup_steps=0, free_bits=5.0))
    x = tf.convert_to_tensor(images[:8].astype(np.float32) / 127.5 - 1)
    logs = vae.train_step(x)
    assert float(logs["loss"]) >= float(logs["recon"]) + 5.0 * 4 - 1e-3


def test_cli_trains_and_samples_a_vae(tmp_path):
    out = tmp_path / "v"
    assert main(["train", "vae", "--profile", "smoke", "--out", str(out), "--steps", "4", "--quiet"]) == 0
    assert main(["sample", "--checkpoint", str(out), "--n", "4", "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").is_file()
    assert main(["train", "vae", "--profile", "smoke", "--out", str(tmp_path / "w"), "--loss", "hinge"]) == 2


def test_latent_prior_is_fitted_once_per_checkpoint_and_kept_in_the_run_folder(tiny_vae_copy):
    from charlib.training.vae import latent_prior

    out = tiny_vae_copy  # 4 steps
    prior = latent_prior(out, n_components=3, n_images=64)
    saved = list(out.glob("latent_prior_step4_k3.npz"))
    assert len(saved) == 1 and prior.means.shape == (3, 4)
    np.testing.assert_array_equal(latent_prior(out, n_components=3).means, prior.means)  # loaded, not refit
    vae, _ = load_vae(out)
    assert decode(vae, prior.sample(5, seed=0)).shape == (5, 16, 16, 3)


def test_cli_samples_a_vae_from_the_mixture_prior_and_refuses_it_for_a_gan(tmp_path, capsys, tiny_vae_copy,
                                                                          tiny_gan_run):
    vae_dir, gan_dir = tiny_vae_copy, tiny_gan_run
    assert not list(vae_dir.glob("latent_prior_*.npz"))
    assert main(["sample", "--checkpoint", str(vae_dir), "--n", "4", "--prior", "mixture",
                 "--out", str(tmp_path / "m.png")]) == 0
    assert (tmp_path / "m.png").is_file() and list(vae_dir.glob("latent_prior_*.npz"))
    capsys.readouterr()
    assert main(["sample", "--checkpoint", str(gan_dir), "--prior", "mixture",
                 "--out", str(tmp_path / "g.png")]) == 2
    assert "VAE runs" in capsys.readouterr().err and not (tmp_path / "g.png").exists()


def test_encode_decode_and_generate_on_no_rows_give_empty_arrays_of_the_right_shape(tiny_vae):
    from charlib.training.trainer import generate

    vae = build_vae(tiny_vae())
    assert encode(vae, np.zeros((0, 16, 16, 3), np.uint8))[0].shape == (0, 4)
    assert decode(vae, np.zeros((0, 4), np.float32)).shape == (0, 16, 16, 3)
    assert generate(vae.decoder, np.zeros((0, 4), np.float32)).shape == (0, 16, 16, 3)
