"""The course's models are plain ``keras.Model`` subclasses: ``model.fit(dataset)`` trains them too.

charlib's own loop (``training.loop``) adds exact resume, checkpoints and samples, but a reader who
comes from the keras-io examples can call ``fit`` on the same model and get the same step.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from charlib.training.gan import GAN, build_gan
from charlib.training.vae import build_vae

EPOCHS, BATCHES = 2, 3


@pytest.fixture(scope="module")
def images() -> tf.data.Dataset:
    """Three batches of 8 random 16×16 pictures in [-1, 1]."""
    x = np.random.default_rng(0).uniform(-1, 1, (3 * 8, 16, 16, 3)).astype("float32")
    return tf.data.Dataset.from_tensor_slices(x).batch(8)


def weights(model: keras.Model) -> list[np.ndarray]:
    return [v.numpy().copy() for v in model.trainable_variables]


def changed(before: list[np.ndarray], model: keras.Model) -> bool:
    """Every weight array of ``model`` differs from ``before``."""
    after = [v.numpy() for v in model.trainable_variables]
    return all(not np.array_equal(b, a) for b, a in zip(before, after, strict=True))


def fit_gan(gan: GAN, images: tf.data.Dataset) -> dict:
    g, d = weights(gan.generator), weights(gan.discriminator)
    history = gan.fit(images, epochs=EPOCHS, shuffle=False, verbose=0).history
    return {"history": history, "g_changed": changed(g, gan.generator),
            "d_changed": changed(d, gan.discriminator)}


def test_gan_fit_updates_both_networks_and_counts_its_steps(tiny_gan, images):
    gan = build_gan(tiny_gan(steps=EPOCHS * BATCHES))
    result = fit_gan(gan, images)
    assert result["g_changed"] and result["d_changed"]
    assert int(gan.step.numpy()) == EPOCHS * BATCHES
    for name in ("d_loss", "g_loss"):
        assert len(result["history"][name]) == EPOCHS and np.isfinite(result["history"][name]).all()


class FrozenGAN(GAN):
    """A broken twin: its step reports losses but never applies the generator's gradients."""

    def train_step(self, real: tf.Tensor) -> dict[str, tf.Tensor]:
        fake = self.generator(self.noise(tf.shape(real)[0], self.step), training=True)
        return {"g_loss": self.gan_loss.g_loss(self.discriminator(fake))}


def test_the_fit_check_catches_a_step_that_does_not_train(tiny_gan, images):
    built = build_gan(tiny_gan(steps=EPOCHS * BATCHES))
    twin = FrozenGAN(built.generator, built.discriminator, built.latent_dim)
    twin.compile(g_optimizer=built.g_optimizer, d_optimizer=built.d_optimizer)
    result = fit_gan(twin, images)
    assert not result["g_changed"] and int(twin.step.numpy()) == 0


def test_vae_fit_trains_and_reports_the_elbo_terms(tiny_vae, images):
    vae = build_vae(tiny_vae(steps=EPOCHS * BATCHES))
    before = weights(vae)
    history = vae.fit(images, epochs=EPOCHS, shuffle=False, verbose=0).history
    assert changed(before, vae) and int(vae.step.numpy()) == EPOCHS * BATCHES
    for name in ("loss", "recon", "kl", "elbo", "bpd"):
        assert np.isfinite(history[name]).all(), name
    np.testing.assert_allclose(history["elbo"], -(np.array(history["recon"]) + history["kl"]), rtol=1e-5)
