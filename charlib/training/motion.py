"""Training the motion VAE (:class:`charlib.models.motion.MotionVAE`) on clips, through the one loop."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from charlib.data import skeleton as sk
from charlib.errors import ShapeError
from charlib.models.motion import N_COORDS, MotionVAE, motion_conditions, to_body_units
from charlib.training.loop import fit_steps


def train_motion(model: MotionVAE, joints: np.ndarray, action: np.ndarray, direction: np.ndarray,
                 size: int, *, steps: int = 2000, batch_size: int = 64, lr: float = 2e-3, seed: int = 0,
                 kl_warmup_steps: int = 300, log_every: int = 100,
                 progress: bool = True) -> list[dict[str, float]]:
    """Train ``model`` on pixel clips (N, 8, 15, 2) of ``size`` images with their action and direction (N,).

    Batches are drawn with replacement, seeded with ``seed``; the KL weight grows from 0 to
    ``model.beta`` over ``kl_warmup_steps``. Returns the {step, loss, recon, kl, rmse} rows logged
    every ``log_every`` steps (rmse in body units).
    """
    j = np.asarray(joints)
    if j.ndim != 4 or j.shape[1:] != (sk.N_FRAMES, len(sk.JOINTS), 2):
        raise ShapeError(f"joints must have shape (N, {sk.N_FRAMES}, {len(sk.JOINTS)}, 2), got {j.shape}")
    if len(j) < batch_size:
        raise ShapeError(f"{len(j)} clips are fewer than one batch of {batch_size}")
    clips = to_body_units(j, size).reshape(len(j), sk.N_FRAMES, N_COORDS)
    conds = motion_conditions(action, direction)
    optimizer = keras.optimizers.Adam(lr)
    variables = model.encoder.trainable_variables + model.decoder.trainable_variables
    optimizer.build(variables)
    warm = float(max(kl_warmup_steps, 1))

    @tf.function
    def train_step(x: tf.Tensor, c: tf.Tensor, step: tf.Tensor) -> dict[str, tf.Tensor]:
        beta = model.beta * tf.minimum(1.0, tf.cast(step, tf.float32) / warm)
        with tf.GradientTape() as tape:
            t = model.loss_terms(x, c, tf.stack([tf.cast(seed, tf.int64), step]))
            loss = t["recon"] + beta * t["kl"]
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        model.step.assign_add(1)
        return {"loss": loss, **t}

    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)

    def batches():
        for step in range(steps):
            idx = rng.integers(0, len(clips), size=batch_size)
            yield tf.constant(clips[idx]), tf.constant(conds[idx]), tf.constant(step, tf.int64)

    return fit_steps(lambda batch: train_step(*batch), batches(), steps=steps, log_every=log_every,
                     progress=progress, description="motion VAE")
