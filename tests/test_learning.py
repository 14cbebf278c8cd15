"""Training learns: on tiny fixed problems the course's trainers improve what they should, and
deliberately broken copies of them do not, which shows that each test can fail.

Every problem trains the real ``GAN`` / ``VAE`` / ``ConditionalVAE`` through its own ``train_step``
for a few hundred steps (seconds on 2 CPU cores). A broken variant changes one thing from outside,
leaving charlib as it is:

* GAN, ``flipped_generator``: G's loss is negated, so G *ascends* it (runs away from what D calls real);
* GAN, ``swapped_labels``: D's loss is called with real and fake exchanged (reals labelled fake);
* VAE and conditional VAE, ``detached_kl``: the KL term is wrapped in ``tf.stop_gradient``, so nothing
  pulls the posteriors towards the prior N(0, I);
* VAE and conditional VAE, ``no_reconstruction_gradient``: the same for the reconstruction term, so the
  decoder never learns to draw.

Each model and variant is trained once per session (``trained``) and measured by the tests that need it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import keras
import numpy as np
import pytest
import tensorflow as tf

from charlib import losses
from charlib.config import seed_everything
from charlib.data.pipeline import to_float
from charlib.data.sprites import sample_sprites
from charlib.diagnostics import toys
from charlib.training import conditional
from charlib.training.gan import GAN, GanConfig, build_gan
from charlib.training.vae import VaeConfig, build_vae, evaluate

SEED = 0
SIZE = 16  # sprite side in pixels
GAN_STEPS = 200
TOY_STEPS = 300
VAE_STEPS = 200
CVAE_STEPS = 200
# "moved towards the data": the distance fell below this fraction of the untrained model's. On both GAN
# problems a correct run lands well below it and a broken one stays near 1 or runs away, for every
# seed tried (the tests use one), so the margins hold either side
CLOSER = 0.7
# "learnt to reconstruct": held-out pixel error below 1 / RECON_FACTOR of the untrained model's
RECON_FACTOR = 2.0
# "KL bounded": held-out KL(q(z|x) || N(0, I)) in nats per image, per problem. With its gradient the KL
# levels off well below the bound; detached, it keeps growing as the posteriors shrink to points
# spread far out (and the conditional VAE's identity code, which carries less, grows more slowly)
KL_BOUND = {"vae": 60.0, "conditional": 33.0}


@dataclass(frozen=True)
class Outcome:
    """What a measured quantity was before and after training."""

    before: float
    after: float

    @property
    def ratio(self) -> float:
        return self.after / self.before


def sprite_sets() -> tuple[np.ndarray, np.ndarray]:
    """64 training sprites and 256 held-out ones, uint8 (N, 16, 16, 3)."""
    return sample_sprites(64, size=SIZE, seed=0).images, sample_sprites(256, size=SIZE, seed=1).images


def batches(images: np.ndarray, steps: int, batch_size: int, seed: int):
    """``steps`` batches of float images drawn without replacement within each batch, seeded."""
    rng = np.random.default_rng(seed)
    x = to_float(images)
    for _ in range(steps):
        yield tf.gather(x, rng.choice(len(images), batch_size, replace=False))


# ------------------------------------------------------------------------------------------- GAN


def broken_gan_loss(variant: str) -> losses.GanLoss:
    """The non-saturating GAN loss, or a broken copy of it (see the module docstring)."""
    base = losses.get_gan_loss("nonsaturating")
    if variant == "flipped_generator":
        return replace(base, g_loss=lambda fake: -base.g_loss(fake))
    if variant == "swapped_labels":
        return replace(base, d_loss=lambda real, fake: base.d_loss(fake, real))
    assert variant == "correct"
    return base


def train_gan_on_sprites(variant: str) -> Outcome:
    """The course's DCGAN (``build_gan``) on 64 sprites; measured: the RMS distance between the mean
    generated image and the mean held-out real image, before and after training."""
    seed_everything(SEED)
    train, held_out = sprite_sets()
    config = GanConfig(image_size=SIZE, latent_dim=16, g_width=8, d_width=8, batch_size=16, n_data=64,
                       ema_decay=None, lr_g=2e-3, lr_d=2e-3, seed=SEED)
    gan = build_gan(config)
    gan.gan_loss = broken_gan_loss(variant)
    z = tf.random.stateless_normal((256, config.latent_dim), seed=[SEED, 99])
    real_mean = np.asarray(to_float(held_out)).mean(axis=0)

    def distance() -> float:
        fake_mean = np.asarray(gan.generator(z, training=False)).mean(axis=0)
        return float(np.sqrt(np.mean((fake_mean - real_mean) ** 2)))

    before = distance()
    step = tf.function(gan.train_step)
    for batch in batches(train, GAN_STEPS, config.batch_size, SEED):
        step(batch)
    return Outcome(before, distance())


def train_gan_on_ring(variant: str) -> Outcome:
    """``GAN`` with the toy MLPs on the 8-Gaussian ring; measured: the mean distance of generated
    points to their nearest mode, before and after training."""
    seed_everything(SEED)
    ring = toys.ring()
    latent_dim, batch_size = 8, 64
    generator = toys.make_toy_generator(latent_dim, width=32, depth=3, seed=SEED)
    discriminator = toys.make_toy_discriminator(width=32, depth=3, seed=SEED + 1000)
    gan = GAN(generator, discriminator, latent_dim=latent_dim, loss=broken_gan_loss(variant), seed=SEED)
    gan.compile(keras.optimizers.Adam(2e-3, beta_1=0.5), keras.optimizers.Adam(2e-3, beta_1=0.5))
    z = np.random.default_rng(SEED + 1).standard_normal((2000, latent_dim)).astype(np.float32)

    def distance() -> float:
        x = np.asarray(generator(z, training=False), dtype=np.float64)
        d2 = ((x[:, None, :] - ring.centres[None]) ** 2).sum(axis=-1)
        return float(np.sqrt(d2.min(axis=1)).mean())

    before = distance()
    real = ring.sample(TOY_STEPS * batch_size, np.random.default_rng(SEED)).reshape(TOY_STEPS, batch_size, 2)
    step = tf.function(gan.train_step)
    for batch in real:
        step(tf.constant(batch))
    return Outcome(before, distance())


# ------------------------------------------------------------------------------ VAE and conditional


@contextmanager
def broken_vae_losses(variant: str) -> Iterator[None]:
    """Within this block ``charlib.losses`` gives the broken variant's gradients (the values, and so
    every measurement, stay the same)."""
    with pytest.MonkeyPatch.context() as patch:
        if variant == "detached_kl":
            kl = losses.kl_standard_normal_per_dim
            patch.setattr(losses, "kl_standard_normal_per_dim",
                          lambda mu, logvar: tf.stop_gradient(kl(mu, logvar)))
        elif variant == "no_reconstruction_gradient":
            nll = losses.gaussian_nll
            patch.setattr(losses, "gaussian_nll",
                          lambda *args, **kwargs: tf.stop_gradient(nll(*args, **kwargs)))
        else:
            assert variant == "correct"
        yield


def train_vae_on_sprites(variant: str) -> dict[str, Outcome]:
    """The course's VAE (``build_vae``) on 64 sprites; measured on 256 held-out sprites: the pixel MSE
    of reconstructions and the KL to the prior (nats per image), before and after training."""
    seed_everything(SEED)
    train, held_out = sprite_sets()
    config = VaeConfig(image_size=SIZE, latent_dim=8, width=8, batch_size=16, n_data=64, sigma=0.2,
                       kl_warmup_steps=0, lr=2e-3, seed=SEED)
    vae = build_vae(config)
    before = evaluate(vae, held_out)
    with broken_vae_losses(variant):
        step = tf.function(vae.train_step)
        for batch in batches(train, VAE_STEPS, config.batch_size, SEED):
            step(batch)
    after = evaluate(vae, held_out)
    return {"mse": Outcome(before["pixel_mse_01"], after["pixel_mse_01"]),
            "kl": Outcome(before["kl_nats"], after["kl_nats"])}


def train_conditional_on_pairs(variant: str) -> dict[str, Outcome]:
    """The course's conditional VAE (``build_conditional``) on fresh pairs of frames each step;
    measured on 256 pairs it never trained on: the pixel MSE of the target frame drawn from the
    reference frame's code and the target pose, and the KL to the prior, before and after."""
    seed_everything(SEED)
    config = conditional.ConditionalConfig(image_size=SIZE, latent_dim=8, width=8, batch_size=16,
                                           sigma=0.2, kl_warmup_steps=0, lr=2e-3, seed=SEED)
    model = conditional.build_conditional(config)
    x_ref, pose, x_target, _ = (tf.constant(a) for a in
                                conditional.pair_batch(replace(config, seed=12345, batch_size=256), 0))

    def measure() -> tuple[float, float]:
        mu, logvar = model.encoder(x_ref, training=False)
        drawn = model.decoder([mu, pose], training=False)
        mse = float(tf.reduce_mean(tf.square((drawn - x_target) / 2.0)))
        kl = float(tf.reduce_mean(losses.kl_standard_normal(mu, logvar)))
        return mse, kl

    mse_before, kl_before = measure()
    pairs = [tuple(tf.constant(a) for a in conditional.pair_batch(config, i)) for i in range(CVAE_STEPS)]
    with broken_vae_losses(variant):
        step = tf.function(model.train_step, autograph=False)
        for batch in pairs:
            step(batch)
    mse_after, kl_after = measure()
    return {"mse": Outcome(mse_before, mse_after), "kl": Outcome(kl_before, kl_after)}


TRAINERS = {"gan_sprites": train_gan_on_sprites, "gan_ring": train_gan_on_ring,
            "vae": train_vae_on_sprites, "conditional": train_conditional_on_pairs}


@functools.cache
def trained(problem: str, variant: str):
    """Each (problem, variant) trains once per test session; several tests read its measurements."""
    return TRAINERS[problem](variant)


# ------------------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("variant, learns", [
    ("correct", True), ("flipped_generator", False), ("swapped_labels", False),
])
def test_gan_generator_moves_towards_the_sprites_and_a_flipped_update_or_swapped_labels_do_not(
        variant, learns):
    outcome = trained("gan_sprites", variant)
    assert (outcome.ratio < CLOSER) == learns, (
        f"{variant}: mean-image distance {outcome.before:.3f} -> {outcome.after:.3f} "
        f"(ratio {outcome.ratio:.2f}, learning means < {CLOSER})")


@pytest.mark.parametrize("variant, learns", [
    ("correct", True), ("flipped_generator", False), ("swapped_labels", False),
])
def test_toy_gan_points_move_onto_the_ring_and_a_flipped_update_or_swapped_labels_do_not(variant, learns):
    outcome = trained("gan_ring", variant)
    assert (outcome.ratio < CLOSER) == learns, (
        f"{variant}: distance to the nearest mode {outcome.before:.3f} -> {outcome.after:.3f} "
        f"(ratio {outcome.ratio:.2f}, learning means < {CLOSER})")


@pytest.mark.parametrize("problem", ["vae", "conditional"])
@pytest.mark.parametrize("variant, learns", [("correct", True), ("no_reconstruction_gradient", False)])
def test_held_out_reconstruction_error_falls_by_half_and_without_its_gradient_it_does_not(
        problem, variant, learns):
    outcome = trained(problem, variant)["mse"]
    assert (outcome.after * RECON_FACTOR < outcome.before) == learns, (
        f"{problem}, {variant}: held-out pixel MSE {outcome.before:.4f} -> {outcome.after:.4f} "
        f"(learning means below 1/{RECON_FACTOR:g} of the untrained)")


@pytest.mark.parametrize("problem", ["vae", "conditional"])
@pytest.mark.parametrize("variant, bounded", [("correct", True), ("detached_kl", False)])
def test_kl_to_the_prior_stays_bounded_and_a_detached_kl_lets_it_grow(problem, variant, bounded):
    outcome = trained(problem, variant)["kl"]
    assert (outcome.after < KL_BOUND[problem]) == bounded, (
        f"{problem}, {variant}: held-out KL {outcome.before:.1f} -> {outcome.after:.1f} nats "
        f"(bounded means < {KL_BOUND[problem]:g})")
