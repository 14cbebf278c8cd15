"""Cluster conditioning: let the data's own clusters tell the generator how often to draw what.

A plain GAN learns *what* characters look like far better than *how often* each one appears: its
mode histogram stays uneven (``benchmarks/results/remedies_sprites.md``) even when every mode is
covered. Cluster conditioning fixes the "how often" part without labels, in three steps:

1. **Cluster the training images** (:func:`fit_clusters`): k-means on a cheap, pose-blind image
   statistic, the colour histogram (:func:`colour_histograms`). No labels are used; the clusters
   and their frequencies come from the pixels alone.
2. **Condition the generator on a cluster** (:class:`ClusterCode`): the last dimension of the
   Gaussian latent z is turned into a cluster c by the inverse CDF of the clusters' frequencies,
   so c ~ the data's own cluster distribution, and the generator sees z[:-1] and a learnt
   embedding of c.
   The generator still takes plain Gaussian z (N, latent_dim), so sampling, grids, diagnostics and
   the exported ``generator.keras`` work as for any GAN.
3. **Hold it to its cluster** (:func:`make_cluster_reader`): a small classifier learns to tell the
   cluster of *real* images (their labels come from :class:`ClusterLabeller`, the fitted k-means
   as a layer), and the generator pays its cross-entropy on its own samples (the AC-GAN /
   InfoGAN auxiliary loss), so a sample drawn for cluster c must look like cluster c.

Since the generator must draw every cluster as often as the data holds it, the coarse shape of
the mode histogram is right by construction; what is left to the adversarial game is the spread
*within* each cluster. It works on the sprites because a character's identity is its colours, which
a colour histogram sees whatever the pose; on other data choose features that separate what should
be balanced (Liu et al. 2020 cluster the discriminator's own features instead).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from charlib.errors import CharlibError, ShapeError

__all__ = ["HIST_BINS", "ClusterCode", "ClusterLabeller", "Clusters", "colour_histograms",
           "CLUSTER_EMBEDDING", "fit_clusters", "kmeans", "make_cluster_generator", "make_cluster_reader"]

HIST_BINS = 6  # levels per RGB channel: 6**3 = 216 colour cells
CLUSTER_EMBEDDING = 32  # the generator sees a cluster as a learnt vector of this size


def _cells(levels, bins: int):
    """RGB levels 0..255 (..., 3) -> colour-cell index (...) in [0, bins**3)."""
    q = (levels * bins) // 256
    return (q[..., 0] * bins + q[..., 1]) * bins + q[..., 2]


def colour_histograms(images: np.ndarray, bins: int = HIST_BINS, batch_size: int = 2048) -> np.ndarray:
    """uint8 images (N, H, W, 3) -> (N, bins**3) float32: the square root of each colour cell's share
    of the pixels, so every row has unit length and small regions (a face, a hand) still count.
    Blind to where colours are, so a character gives nearly the same row in every pose."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ShapeError(f"expected uint8 images (N, H, W, 3), got shape {images.shape}")
    n_cells = bins**3
    out = np.empty((len(images), n_cells), np.float32)
    for start in range(0, len(images), batch_size):
        chunk = images[start : start + batch_size].astype(np.int64)
        cells = _cells(chunk, bins).reshape(len(chunk), -1)
        counts = np.stack([np.bincount(row, minlength=n_cells) for row in cells])
        out[start : start + len(cells)] = np.sqrt(counts / cells.shape[1])
    return out


def _sq_distances(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    return (x**2).sum(1)[:, None] - 2.0 * x @ centroids.T + (centroids**2).sum(1)[None]


def kmeans(features: np.ndarray, k: int, iters: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means on rows of ``features`` (N, D): returns labels (N,) int64 and centroids (k, D).

    Starts from k distinct rows chosen with ``seed``; a cluster left empty is re-seeded with the row
    farthest from its centroid, so all k clusters end up used when there are k distinct rows.
    """
    features = np.asarray(features, np.float32)
    if not 2 <= k <= len(features):
        raise CharlibError(f"k-means needs 2 <= k <= the number of rows ({len(features)}), got k={k}")
    rng = np.random.default_rng(seed)
    centroids = features[rng.choice(len(features), k, replace=False)].copy()
    for _ in range(iters):
        dist = _sq_distances(features, centroids)
        labels = dist.argmin(1)
        counts = np.bincount(labels, minlength=k)
        sums = np.zeros_like(centroids)
        np.add.at(sums, labels, features)
        used = counts > 0
        centroids[used] = sums[used] / counts[used, None]
        if not used.all():
            centroids[~used] = features[np.argsort(-dist.min(1))[: int((~used).sum())]]
    return _sq_distances(features, centroids).argmin(1), centroids


@dataclass(frozen=True)
class Clusters:
    """Fitted clusters: ``centroids`` (K, bins**3) of colour histograms, ``frequencies`` (K,) summing to 1."""

    centroids: np.ndarray
    frequencies: np.ndarray
    bins: int = HIST_BINS

    def assign(self, images: np.ndarray) -> np.ndarray:
        """The cluster (N,) int64 of uint8 images (N, H, W, 3): the nearest centroid."""
        return _sq_distances(colour_histograms(images, self.bins), self.centroids).argmin(1)


def fit_clusters(images: np.ndarray, k: int, seed: int = 0, bins: int = HIST_BINS) -> Clusters:
    """k-means on the colour histograms of uint8 training images (N, H, W, 3), and how often each
    cluster occurs among them. A few seconds for 20,000 sprites and k = 1000."""
    if not 2 <= k <= len(images):
        raise CharlibError(f"clusters={k} needs at least {k} training images (and k >= 2); "
                           f"got {len(images)} images")
    labels, centroids = kmeans(colour_histograms(images, bins), k, seed=seed)
    frequencies = np.bincount(labels, minlength=k) / len(labels)
    return Clusters(centroids.astype(np.float32), frequencies.astype(np.float32), bins)


@keras.saving.register_keras_serializable(package="charlib")
class ClusterCode(layers.Layer):
    """Gaussian z (N, D) -> (z[:, :-1], onehot(c)): (N, D - 1) and (N, K), c drawn by the last coordinate.

    c is the cluster whose slot of the cumulative frequencies holds Φ(z[:, -1]) (Φ the standard
    normal CDF), so for z ~ N(0, I), c follows the fitted frequencies. The cumulative frequencies are
    a (non-trainable) weight: they are saved with the model and restored with a checkpoint.
    """

    def __init__(self, clusters: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.clusters = int(clusters)
        self.cdf = self.add_weight(shape=(self.clusters,), initializer=keras.initializers.Constant(0.0),
                                   trainable=False, name="cdf")
        # uniform until fitted
        self.cdf.assign(np.arange(1, self.clusters + 1, dtype=np.float32) / self.clusters)

    def set_frequencies(self, frequencies: np.ndarray) -> None:
        freq = np.asarray(frequencies, np.float64)
        if freq.shape != (self.clusters,) or not np.all(freq >= 0) or freq.sum() <= 0:
            raise ShapeError(f"need {self.clusters} non-negative frequencies, got shape {freq.shape}")
        cdf = np.cumsum(freq / freq.sum())
        cdf[-1] = 1.0
        self.cdf.assign(cdf.astype(np.float32))

    def cluster(self, z):
        """The cluster (N,) int32 that z (N, D) draws."""
        u = 0.5 * (1.0 + tf.math.erf(tf.cast(z[:, -1], tf.float32) / np.sqrt(2.0)))
        c = tf.searchsorted(tf.convert_to_tensor(self.cdf), u, side="right")
        return tf.minimum(tf.cast(c, tf.int32), self.clusters - 1)

    def call(self, z):
        return z[:, :-1], tf.one_hot(self.cluster(z), self.clusters, dtype=z.dtype)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1] - 1), (input_shape[0], self.clusters)

    def get_config(self) -> dict:
        return {**super().get_config(), "clusters": self.clusters}


@keras.saving.register_keras_serializable(package="charlib")
class ClusterLabeller(layers.Layer):
    """The fitted k-means as a layer: images (N, H, W, 3) in [-1, 1] -> nearest cluster (N,) int32.

    Computes the same colour histogram as :func:`colour_histograms` (pixels rounded back to 0..255),
    so it labels real training images exactly as :meth:`Clusters.assign` does. The centroids are a
    non-trainable weight, restored with a checkpoint.
    """

    def __init__(self, clusters: int, bins: int = HIST_BINS, **kwargs) -> None:
        super().__init__(**kwargs)
        self.clusters, self.bins = int(clusters), int(bins)
        self.centroids = self.add_weight(shape=(self.clusters, self.bins**3), initializer="zeros",
                                         trainable=False, name="centroids")

    def set_centroids(self, centroids: np.ndarray) -> None:
        if centroids.shape != (self.clusters, self.bins**3):
            raise ShapeError(f"need centroids {(self.clusters, self.bins**3)}, got {centroids.shape}")
        self.centroids.assign(np.asarray(centroids, np.float32))

    def call(self, images):
        levels = tf.cast(tf.round((tf.cast(images, tf.float32) + 1.0) * 127.5), tf.int32)
        cells = tf.reshape(_cells(tf.clip_by_value(levels, 0, 255), self.bins), (tf.shape(images)[0], -1))
        n_cells = self.bins**3  # a count per row, not an (N, pixels, cells) one-hot: this runs every step
        counts = tf.math.bincount(cells, minlength=n_cells, maxlength=n_cells, axis=-1)
        hist = tf.sqrt(tf.cast(counts, tf.float32) / tf.cast(tf.shape(cells)[1], tf.float32))  # (N, cells)
        c = tf.convert_to_tensor(self.centroids)
        dist = tf.reduce_sum(c**2, 1)[None] - 2.0 * hist @ tf.transpose(c)
        return tf.cast(tf.argmin(dist, axis=1), tf.int32)

    def get_config(self) -> dict:
        return {**super().get_config(), "clusters": self.clusters, "bins": self.bins}


def make_cluster_generator(base: keras.Model, latent_dim: int, clusters: int,
                           name: str = "generator") -> keras.Model:
    """Gaussian z (N, latent_dim) -> ``base``'s images: the continuous part of z and a learnt
    :data:`CLUSTER_EMBEDDING`-dimensional vector of the drawn cluster (a Dense layer on its one-hot),
    joined, are ``base``'s input, (N, latent_dim - 1 + CLUSTER_EMBEDDING).
    """
    if base.input_shape[-1] != latent_dim - 1 + CLUSTER_EMBEDDING:
        raise ShapeError(f"the base generator takes {base.input_shape[-1]} inputs; it needs "
                         f"latent_dim - 1 + CLUSTER_EMBEDDING = {latent_dim - 1 + CLUSTER_EMBEDDING}")
    z = keras.Input((latent_dim,), name="z")
    rest, onehot = ClusterCode(clusters, name="cluster_code")(z)
    embedded = layers.Dense(CLUSTER_EMBEDDING, use_bias=False, name="cluster_embedding")(onehot)
    return keras.Model(z, base(layers.Concatenate()([rest, embedded])), name=name)


def make_cluster_reader(image_size: int, width: int, clusters: int) -> keras.Model:
    """The auxiliary classifier: images (N, S, S, 3) in [-1, 1] -> cluster logits (N, clusters).

    The DCGAN discriminator's layout (strided 4x4 convolutions down to 4x4, LayerNorm, LeakyReLU)
    with a ``clusters``-way Dense head instead of the real/fake logit.
    """
    from charlib.models.dcgan import make_discriminator

    trunk = make_discriminator(image_size, width, norm="layer", name="cluster_trunk")
    features = trunk.get_layer(index=-2).output  # the flattened 4x4 map, before the real/fake logit
    logits = layers.Dense(clusters, dtype="float32", name="cluster_logits")(features)
    return keras.Model(trunk.input, logits, name="cluster_reader")
