"""A sequence VAE over joint positions: learning new motion cycles from "motion capture".

A clip is 8 frames of 15 joints in 2-D, a (8, 30) sequence; the course's clips come from
:func:`charlib.data.skeleton.sample_motion`, which varies stride, arm swing, jump height, phase and
body proportions, conditioned on the action and the viewing direction (6 one-hot numbers). The
encoder is a GRU that reads the frames (with the condition) and whose last state gives q(z | clip);
the decoder's GRU starts from a state set by z and the condition, and at every step gets z, the
condition and the step's *phase* (sin and cos of 2 pi t / 8) and writes that frame's 30
coordinates. The likelihood is Gaussian with a fixed ``sigma`` in body units (1 is the standing
height, so ``sigma = 0.01`` is about half a pixel at 64 px). A new clip is a z decoded under the
chosen condition, turned back into pixels by :func:`from_body_units`.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from charlib import losses
from charlib.data import skeleton as sk
from charlib.models.conditional import _one_hots

N_COORDS: int = len(sk.JOINTS) * 2
N_MOTION_CONDITION: int = len(sk.ACTIONS) + len(sk.DIRECTIONS)

__all__ = ["MotionVAE", "from_body_units", "motion_conditions", "to_body_units"]


def to_body_units(joints: np.ndarray, size: int) -> np.ndarray:
    """Pixel joints (..., 15, 2) of a ``size`` image to body units: x right, y up from the ground line."""
    j = np.asarray(joints, dtype=np.float32)
    scale = sk.UNIT_SCALE * size
    return np.stack([(j[..., 0] - size / 2) / scale, (sk.GROUND_Y * size - j[..., 1]) / scale], axis=-1)


def from_body_units(coords: np.ndarray, size: int) -> np.ndarray:
    """The inverse of :func:`to_body_units`: body units (..., 15, 2) to pixels of a ``size`` image."""
    c = np.asarray(coords, dtype=np.float32)
    scale = sk.UNIT_SCALE * size
    return np.stack([size / 2 + c[..., 0] * scale, sk.GROUND_Y * size - c[..., 1] * scale],
                    axis=-1).astype(np.float32)


def motion_conditions(action: np.ndarray | int, direction: np.ndarray | int) -> np.ndarray:
    """Action and direction indices (N,) (or scalars) to one-hot conditions (N, 6) float32."""
    return _one_hots((action, direction), (len(sk.ACTIONS), len(sk.DIRECTIONS)), ("action", "direction"))


def _to_pixels(clips, size: int) -> np.ndarray:
    return from_body_units(np.asarray(clips).reshape(-1, sk.N_FRAMES, len(sk.JOINTS), 2), size)


def make_motion_encoder(latent_dim: int = 8, units: int = 96) -> keras.Model:
    """[clips (N, 8, 30), condition (N, 6)] -> [mu, logvar], each (N, latent_dim)."""
    clips = keras.Input((sk.N_FRAMES, N_COORDS), name="clips")
    c = keras.Input((N_MOTION_CONDITION,), name="condition")
    tiled = layers.RepeatVector(sk.N_FRAMES)(c)
    h = layers.GRU(units)(layers.Concatenate()([clips, tiled]))
    h = layers.Dense(units, activation="gelu")(layers.Concatenate()([h, c]))
    mu, logvar = layers.Dense(latent_dim, name="mu")(h), layers.Dense(latent_dim, name="logvar")(h)
    return keras.Model([clips, c], [mu, logvar], name="motion_encoder")


def make_motion_decoder(latent_dim: int = 8, units: int = 96) -> keras.Model:
    """[z (N, latent_dim), condition (N, 6), phase (N, 8, 2)] -> clips (N, 8, 30) in body units."""
    z = keras.Input((latent_dim,), name="z")
    c = keras.Input((N_MOTION_CONDITION,), name="condition")
    phase = keras.Input((sk.N_FRAMES, 2), name="phase")
    zc = layers.Concatenate()([z, c])
    state = layers.Dense(units, activation="tanh")(zc)
    steps = layers.Concatenate()([layers.RepeatVector(sk.N_FRAMES)(zc), phase])
    h = layers.GRU(units, return_sequences=True)(steps, initial_state=state)
    h = layers.Dense(units, activation="gelu")(h)
    return keras.Model([z, c, phase], layers.Dense(N_COORDS)(h), name="motion_decoder")


class MotionVAE(keras.Model):
    """The sequence VAE of this module: ``sigma`` is the likelihood's standard deviation in body
    units, ``beta`` the KL weight; :func:`charlib.training.motion.train_motion` trains it."""

    def __init__(self, latent_dim: int = 8, units: int = 96, sigma: float = 0.01, beta: float = 1.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.latent_dim, self.units, self.sigma, self.beta = latent_dim, units, sigma, beta
        self.encoder = make_motion_encoder(latent_dim, units)
        self.decoder = make_motion_decoder(latent_dim, units)
        t = 2 * np.pi * np.arange(sk.N_FRAMES) / sk.N_FRAMES
        self.phase = tf.constant(np.stack([np.sin(t), np.cos(t)], axis=-1), tf.float32)  # (8, 2)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.latent_prior: dict = {}  # (action, direction) -> ex-post mixture, see fit_latent_prior

    def decode(self, z: tf.Tensor, c: tf.Tensor, training: bool | None = False) -> tf.Tensor:
        """Clips (N, 8, 30) in body units for codes z (N, latent_dim) and conditions c (N, 6)."""
        phase = tf.tile(self.phase[None], [tf.shape(z)[0], 1, 1])
        return self.decoder([z, c, phase], training=training)

    def loss_terms(self, clips: tf.Tensor, c: tf.Tensor, seed: tf.Tensor) -> dict[str, tf.Tensor]:
        """Mean reconstruction NLL and KL per clip (nats) for clips (N, 8, 30) in body units."""
        mu, logvar = self.encoder([clips, c])
        z = losses.reparameterize(mu, logvar, seed=seed)
        sq = tf.reduce_sum(tf.square(self.decode(z, c, training=None) - clips), axis=[1, 2])
        n = float(sk.N_FRAMES * N_COORDS)
        nll = sq / (2 * self.sigma**2) + n * (math.log(self.sigma) + 0.5 * math.log(2 * math.pi))
        kl = tf.reduce_sum(losses.kl_standard_normal_per_dim(mu, logvar), axis=-1)
        return {"recon": tf.reduce_mean(nll), "kl": tf.reduce_mean(kl),
                "rmse": tf.sqrt(tf.reduce_mean(sq) / n)}

    def encode_means(self, joints: np.ndarray, action: np.ndarray, direction: np.ndarray,
                     size: int = 64) -> np.ndarray:
        """Posterior means (N, latent_dim) of pixel clips (N, 8, 15, 2) with their conditions."""
        clips = to_body_units(joints, size).reshape(len(joints), sk.N_FRAMES, N_COORDS)
        mu, _ = self.encoder([clips, motion_conditions(action, direction)], training=False)
        return np.asarray(mu)

    def fit_latent_prior(self, joints: np.ndarray, action: np.ndarray, direction: np.ndarray,
                         size: int = 64, n_components: int = 8, seed: int = 0) -> dict:
        """Fit an ex-post Gaussian mixture (:mod:`charlib.models.latent_prior`) to the posterior means
        of training clips, one per (action, direction) with at least ``n_components`` clips;
        ``sample`` then draws z from it instead of N(0, I), where a short run's codes do not fill."""
        from charlib.models.latent_prior import fit_gaussian_mixture

        mu = self.encode_means(joints, action, direction, size)
        acts, dirs = np.asarray(action), np.asarray(direction)
        self.latent_prior = {}
        for a in np.unique(acts):
            for d in np.unique(dirs):
                codes = mu[(acts == a) & (dirs == d)]
                if len(codes) >= n_components:
                    self.latent_prior[(int(a), int(d))] = fit_gaussian_mixture(
                        codes, n_components=n_components, seed=seed)
        return self.latent_prior

    def sample(self, n: int, action: int | np.ndarray, direction: int | np.ndarray, size: int = 64,
               seed: int = 0, temperature: float = 1.0) -> np.ndarray:
        """``n`` new clips, pixel joints (n, 8, 15, 2), for indices ``action`` and ``direction`` (one,
        or (n,)): z from the condition's ex-post mixture if fitted, else N(0, I); ``temperature``
        scales its spread."""
        acts = np.broadcast_to(np.asarray(action), (n,))
        dirs = np.broadcast_to(np.asarray(direction), (n,))
        z = temperature * np.random.default_rng(seed).standard_normal((n, self.latent_dim))
        for i, key in enumerate(zip(acts.tolist(), dirs.tolist(), strict=True)):
            if key in self.latent_prior:
                z[i] = self.latent_prior[key].sample(1, seed=seed * 100_003 + i, temperature=temperature)[0]
        c = motion_conditions(acts, dirs)
        return _to_pixels(self.decode(tf.constant(z, tf.float32), tf.constant(c)), size)

    def reconstruct(self, joints: np.ndarray, action: np.ndarray, direction: np.ndarray,
                    size: int = 64) -> np.ndarray:
        """Encode pixel clips (N, 8, 15, 2) and decode their posterior means: same shape."""
        mu = tf.constant(self.encode_means(joints, action, direction, size))
        return _to_pixels(self.decode(mu, tf.constant(motion_conditions(action, direction))), size)
