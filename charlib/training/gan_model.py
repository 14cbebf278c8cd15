"""The GAN as a ``keras.Model``: a generator and a discriminator with the ``train_step`` that trains them.

:class:`GAN`'s ``train_step`` is the whole algorithm in a dozen lines: draw noise, make fakes,
score reals and fakes, and update both networks from one forward pass (the discriminator to tell
them apart, the generator to fool it). Noise is drawn from a stateless generator keyed by
(seed, step), so a run resumed from a checkpoint continues exactly as if it had never stopped. An
optional exponential moving average (EMA) of the generator's weights gives smoother samples; its
decay ramps up as (1 + t) / (10 + t) towards ``ema_decay``, so early samples are not an average
with the random initial weights. :mod:`charlib.training.gan` builds it from a ``GanConfig`` and
trains it in a run folder; :class:`charlib.training.r3gan.R3GAN` subclasses it.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from charlib import losses
from charlib.augment import diff_augment, parse_policy
from charlib.errors import CharlibError
from charlib.models import clusters
from charlib.training import hardware


class GAN(keras.Model):
    """A generator and a discriminator trained against each other.

    Args:
        generator: z (N, latent_dim) -> images (N, H, W, 3) in [-1, 1].
        discriminator: images -> logits (N, 1).
        latent_dim: size of z.
        loss: a name in :data:`charlib.losses.GAN_LOSSES`.
        ema_decay: keep an exponential moving average of the generator's weights (None: off).
        seed: keys the noise of every step.
        augment: a DiffAugment policy (see :mod:`charlib.augment`) applied to every image D sees.
        instance_noise: standard deviation of the Gaussian noise added to every image D sees.
        r1: γ of the R1 penalty on D's gradient at real images (0: off).
        cluster_reader: for cluster conditioning (:mod:`charlib.models.clusters`; the generator then
            has a ``cluster_code`` layer): images -> cluster logits (N, K), trained on real images
            labelled by their nearest colour-histogram cluster; G pays ``cluster_weight`` times its
            cross-entropy on the fakes, against the cluster each fake was drawn for.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, latent_dim: int,
                 loss: str = "nonsaturating", ema_decay: float | None = None, seed: int = 0,
                 augment: str = "", instance_noise: float = 0.0, r1: float = 0.0,
                 cluster_reader: keras.Model | None = None, cluster_weight: float = 1.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.gan_loss = losses.get_gan_loss(loss)
        self.seed = seed
        self.ema_decay = ema_decay
        self.augment = parse_policy(augment)
        self.instance_noise = float(instance_noise)
        self.r1 = float(r1)
        self.cluster_reader = cluster_reader
        self.cluster_weight = float(cluster_weight)
        if cluster_reader is not None:
            k = generator.get_layer("cluster_code").clusters
            self.labeller = clusters.ClusterLabeller(k, name="cluster_labeller")
        self.ema_generator = None
        if ema_decay is not None:
            self.ema_generator = keras.models.clone_model(generator)
            self.ema_generator.set_weights(generator.get_weights())
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step",
                                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)

    def compile(self, g_optimizer: keras.optimizers.Optimizer,
                d_optimizer: keras.optimizers.Optimizer,
                reader_optimizer: keras.optimizers.Optimizer | None = None, **kwargs: Any) -> None:
        super().compile(**kwargs)
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        g_optimizer.build(self.generator.trainable_variables)
        d_optimizer.build(self.discriminator.trainable_variables)
        if self.cluster_reader is not None:
            if reader_optimizer is None:
                raise CharlibError("a GAN with a cluster reader needs a reader_optimizer")
            self.reader_optimizer = reader_optimizer
            reader_optimizer.build(self.cluster_reader.trainable_variables)

    def fit_clusters(self, images: np.ndarray) -> clusters.Clusters:
        """k-means the uint8 training images (N, H, W, 3) into the generator's K clusters: the
        labeller gets the centroids, the generator (and its EMA copy) the clusters' frequencies."""
        code = self.generator.get_layer("cluster_code")
        fitted = clusters.fit_clusters(images, code.clusters, seed=self.seed)
        self.labeller.set_centroids(fitted.centroids)
        for g in (self.generator, self.ema_generator):
            if g is not None:
                g.get_layer("cluster_code").set_frequencies(fitted.frequencies)
        return fitted

    def noise(self, n: int, step: tf.Tensor) -> tf.Tensor:
        """Latent vectors (n, latent_dim) for a given step: the same step always gives the same z."""
        seed = tf.stack([tf.cast(self.seed, tf.int64), hardware.replica_key(step)])
        return tf.random.stateless_normal((n, self.latent_dim), seed=seed)

    def step_seed(self, salt: int) -> tf.Tensor:
        """A stateless seed for one of this step's draws: (seed, step) folded with ``salt``."""
        base = tf.stack([tf.cast(self.seed, tf.int64), tf.cast(self.step, tf.int64)])
        return tf.random.experimental.stateless_fold_in(base, salt)

    def augment_pair(self, real: tf.Tensor, fake: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """DiffAugment real and fake images (N, H, W, 3), each with its own draw keyed by (seed, step)."""
        return (diff_augment(real, self.augment, seed=self.step_seed(101)),
                diff_augment(fake, self.augment, seed=self.step_seed(202)))

    def noisy_pair(self, real: tf.Tensor, fake: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Real and fake images (N, H, W, 3) plus noise N(0, instance_noise^2), keyed by (seed, step)."""
        def noise(x: tf.Tensor, salt: int) -> tf.Tensor:
            return tf.random.stateless_normal(tf.shape(x), seed=self.step_seed(salt), dtype=x.dtype)

        return real + self.instance_noise * noise(real, 303), fake + self.instance_noise * noise(fake, 404)

    def train_step(self, real: tf.Tensor) -> dict[str, tf.Tensor]:
        """One update of both networks on a batch of real images (N, H, W, 3) in [-1, 1]."""
        if isinstance(real, tuple):  # (images, labels) from a labelled dataset
            real = real[0]
        n = tf.shape(real)[0]
        z = self.noise(n, self.step)
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape, tf.GradientTape() as r_tape:
            fake = self.generator(z, training=True)
            if self.cluster_reader is not None:  # on the images themselves, before D's augmentation
                reader_loss, cluster_loss = self.cluster_losses(z, real, fake)
            if self.augment:  # DiffAugment: reals and fakes alike, before every look D takes
                real, fake = self.augment_pair(real, fake)
            if self.instance_noise:  # blur both distributions alike, so they overlap
                real, fake = self.noisy_pair(real, fake)
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = self.gan_loss.d_loss(real_logits, fake_logits)
            if self.gan_loss.gradient_penalty_weight:
                gp_seed = tf.stack([tf.cast(self.seed + 1, tf.int64), hardware.replica_key(self.step)])
                gp = losses.gradient_penalty(self.discriminator, real, fake, seed=gp_seed)
                d_loss += self.gan_loss.gradient_penalty_weight * gp
            if self.r1:  # keep D smooth around the data: no sharp edges to push fakes off
                d_loss += 0.5 * self.r1 * losses.r1_penalty(self.discriminator, real)
            g_loss = self.gan_loss.g_loss(fake_logits)
            if self.cluster_reader is not None:
                g_loss += self.cluster_weight * cluster_loss
        d_vars = self.discriminator.trainable_variables
        g_vars = self.generator.trainable_variables
        # both gradients from the same D, before either network changes (loss-scaled, replica-averaged)
        d_grads = hardware.gradients(d_tape, d_loss, d_vars, self.d_optimizer)
        g_grads = hardware.gradients(g_tape, g_loss, g_vars, self.g_optimizer)
        self.d_optimizer.apply_gradients(zip(d_grads, d_vars, strict=True))
        self.g_optimizer.apply_gradients(zip(g_grads, g_vars, strict=True))
        metrics = {}
        if self.cluster_reader is not None:
            r_vars = self.cluster_reader.trainable_variables
            r_grads = hardware.gradients(r_tape, reader_loss, r_vars, self.reader_optimizer)
            self.reader_optimizer.apply_gradients(zip(r_grads, r_vars, strict=True))
            metrics = {"cluster_loss": cluster_loss, "reader_loss": reader_loss}
        self.update_ema()
        self.step.assign_add(1)
        return {
            "d_loss": d_loss,
            "g_loss": g_loss,
            "d_real": tf.reduce_mean(tf.sigmoid(real_logits)),
            "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits)),
            **metrics,
        }

    def update_ema(self) -> None:
        """Move the EMA generator's weights towards the generator's (if there is an EMA copy)."""
        if self.ema_generator is not None:
            # warm-up: early on the average would be dominated by the random initial weights
            t = tf.cast(self.step, tf.float32)
            decay = tf.minimum(self.ema_decay, (1.0 + t) / (10.0 + t))
            for ema_w, w in zip(self.ema_generator.weights, self.generator.weights, strict=True):
                ema_w.assign(decay * ema_w + (1.0 - decay) * w)

    def cluster_losses(self, z: tf.Tensor, real: tf.Tensor, fake: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """The cluster reader's cross-entropy on real images (N, H, W, 3), against their nearest
        cluster, and on the fakes, against the cluster their z drew: (reader loss, G's cluster loss)."""
        def cross_entropy(labels: tf.Tensor, images: tf.Tensor) -> tf.Tensor:
            logits = tf.cast(self.cluster_reader(images, training=True), tf.float32)
            return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))

        real_clusters = tf.stop_gradient(self.labeller(real))
        fake_clusters = self.generator.get_layer("cluster_code").cluster(z)
        return cross_entropy(real_clusters, real), cross_entropy(fake_clusters, fake)

    @property
    def sampler(self) -> keras.Model:
        """The generator used for pictures: the EMA copy when there is one."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    def checkpoint_objects(self) -> dict[str, object]:
        objects: dict[str, object] = {
            "generator": self.generator, "discriminator": self.discriminator,
            "g_optimizer": self.g_optimizer, "d_optimizer": self.d_optimizer, "step": self.step,
        }  # fmt: skip
        if self.ema_generator is not None:
            objects["ema_generator"] = self.ema_generator
        if self.cluster_reader is not None:
            objects.update(cluster_reader=self.cluster_reader, reader_optimizer=self.reader_optimizer,
                           cluster_labeller=self.labeller)
        return objects
