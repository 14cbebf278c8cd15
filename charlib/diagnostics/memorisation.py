"""Does the model copy its training images? Nearest neighbours of samples in the training set.

A model trained on a small folder can reach good-looking samples by memorising, and the samples
alone cannot tell. So we look at each sample next to its nearest training images, in pixel space
(the same picture) and in a feature space (the same character, perhaps shifted or recoloured). Let
$d(x) = \\min_{t \\in T} \\lVert f(x) - f(t) \\rVert$ be the distance from an image to its nearest
training image. Real images the model never saw (a held-out set $H$) give the distances a *new*
image has; a model that generalises draws samples at similar distances, one that copies much closer:

$$\\text{NN ratio} = \\frac{\\operatorname{median}_{x \\in \\text{samples}} d(x)}
{\\operatorname{median}_{h \\in H} d(h)},$$

well below 1 for a copying model and about 1 (or above) otherwise; the *copy fraction* is the share
of samples closer to the training set than 95% of held-out images are. Pixel distances are RMS
differences of [0, 1] intensities (0: an exact copy); feature distances use any function
``images -> (N, D)``, such as ``course_classifier(size).features``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from charlib.base.images import check_images
from charlib.errors import ShapeError

FeatureFn = Callable[[np.ndarray], np.ndarray]
"""uint8 images (N, H, W, 3) -> features (N, D)."""

__all__ = ["FeatureFn", "MemorisationReport", "Neighbours", "mean_pairwise_distance", "memorisation_check",
           "memorisation_report", "nearest_neighbours", "pixel_features", "plot_nearest", "split_holdout"]


def _check_images(images: np.ndarray, name: str) -> np.ndarray:
    arr = check_images(images, name)
    if len(arr) == 0:
        raise ShapeError(f"{name} is empty")
    return arr


def pixel_features(images: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W, 3) to (N, H*W*3) float32: [0, 1] pixels scaled by 1/sqrt(D), so that Euclidean
    distance is the RMS pixel difference."""
    arr = _check_images(images, "images")
    flat = arr.reshape(len(arr), -1).astype(np.float32) / 255.0
    return flat / np.sqrt(flat.shape[1], dtype=np.float32)


@dataclass(frozen=True)
class Neighbours:
    """The ``k`` nearest reference items of each query: ``distances`` and ``indices``, both (N, k)."""

    distances: np.ndarray
    indices: np.ndarray


def nearest_neighbours(queries: np.ndarray, reference: np.ndarray, k: int = 1,
                       batch_size: int = 512) -> Neighbours:
    """Exact Euclidean k-nearest neighbours, nearest first, of feature rows (N, D) among rows (M, D)."""
    q = np.asarray(queries, np.float32)
    r = np.asarray(reference, np.float32)
    if q.ndim != 2 or r.ndim != 2 or q.shape[1] != r.shape[1]:
        raise ShapeError(f"features must be (N, D) and (M, D) with the same D, got {q.shape} and {r.shape}")
    if not 1 <= k <= len(r):
        raise ShapeError(f"k must be in 1..{len(r)} (the reference size), got {k}")
    r_sq = np.einsum("md,md->m", r, r)
    dists, idx = [], []
    for i in range(0, len(q), batch_size):
        qb = q[i : i + batch_size]
        d2 = np.einsum("nd,nd->n", qb, qb)[:, None] + r_sq[None, :] - 2.0 * qb @ r.T
        if k < len(r):
            part = np.argpartition(d2, k - 1, axis=1)[:, :k]
        else:
            part = np.tile(np.arange(len(r)), (len(qb), 1))
        # the expansion above cancels badly for near-copies: measure the chosen k exactly
        dk = np.linalg.norm(qb[:, None, :] - r[part], axis=-1)
        order = np.argsort(dk, axis=1, kind="stable")
        idx.append(np.take_along_axis(part, order, axis=1))
        dists.append(np.take_along_axis(dk, order, axis=1))
    return Neighbours(np.concatenate(dists), np.concatenate(idx))


@dataclass(frozen=True)
class MemorisationReport:
    """Nearest-training-image distances of samples (``sample_nn``) and of held-out real images
    (``heldout_nn``, None without a held-out set) in one ``space``; ``nn_ratio`` is the ratio of their
    medians and ``copy_fraction`` the share of samples closer than the 5th percentile of ``heldout_nn``."""

    space: str
    sample_nn: np.ndarray
    heldout_nn: np.ndarray | None
    nn_ratio: float | None
    copy_fraction: float | None
    neighbours: Neighbours

    def summary(self) -> str:
        line = (f"{self.space}: samples' median distance to the nearest training image "
                f"{np.median(self.sample_nn):.4f}")
        if self.heldout_nn is None:
            return line
        return (f"{line}, held-out real images' {np.median(self.heldout_nn):.4f}; NN ratio "
                f"{self.nn_ratio:.3f}, copy fraction {self.copy_fraction:.3f}")

    def __str__(self) -> str:
        return self.summary()


def memorisation_report(samples: np.ndarray, train: np.ndarray, heldout: np.ndarray | None = None,
                        features: FeatureFn | None = None, space: str | None = None,
                        k: int = 3) -> MemorisationReport:
    """Compare generated ``samples`` with the ``train`` images they may copy (uint8, (N, H, W, 3)).

    ``heldout`` real images the model never saw give the NN ratio; ``features`` (None: pixels,
    :func:`pixel_features`) sets the space; ``k`` nearest training images are kept per sample for
    :func:`plot_nearest`.
    """
    samples = _check_images(samples, "samples")
    train = _check_images(train, "train")
    if samples.shape[1:] != train.shape[1:]:
        raise ShapeError(f"samples {samples.shape[1:]} and training images {train.shape[1:]} differ in size")
    embed = features or pixel_features
    train_f = np.asarray(embed(train), np.float32)
    nbrs = nearest_neighbours(np.asarray(embed(samples), np.float32), train_f, k=min(k, len(train)))
    sample_nn = nbrs.distances[:, 0]
    heldout_nn = ratio = copy = None
    if heldout is not None:
        heldout = _check_images(heldout, "heldout")
        heldout_nn = nearest_neighbours(np.asarray(embed(heldout), np.float32), train_f).distances[:, 0]
        ratio = float(np.median(sample_nn) / max(float(np.median(heldout_nn)), 1e-12))
        copy = float(np.mean(sample_nn < np.quantile(heldout_nn, 0.05)))
    name = space or ("pixel" if features is None else "features")
    return MemorisationReport(name, sample_nn, heldout_nn, ratio, copy, nbrs)


def memorisation_check(samples: np.ndarray, train: np.ndarray, heldout: np.ndarray | None = None,
                       features: FeatureFn | None = None, k: int = 3) -> dict[str, MemorisationReport]:
    """Reports in pixel space and, when ``features`` is given, in that feature space too."""
    out = {"pixel": memorisation_report(samples, train, heldout, k=k)}
    if features is not None:
        out["features"] = memorisation_report(samples, train, heldout, features=features, k=k)
    return out


def mean_pairwise_distance(features: np.ndarray, n_pairs: int = 2000, seed: int = 0) -> float:
    """Diversity: the mean distance between random pairs of distinct rows of features (N, D).

    A collapsed model's samples are close to one another; compare with the same number for real images.
    """
    f = np.asarray(features, np.float32)
    if f.ndim != 2 or len(f) < 2:
        raise ShapeError(f"need features (N, D) with N >= 2, got {f.shape}")
    rng = np.random.default_rng(seed)
    i = rng.integers(0, len(f), n_pairs)
    j = (i + rng.integers(1, len(f), n_pairs)) % len(f)  # never i itself
    return float(np.mean(np.linalg.norm(f[i] - f[j], axis=1)))


def split_holdout(images: np.ndarray, fraction: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split a folder's images into (train, heldout) at random; keep the held-out part for the check."""
    if not 0.0 < fraction < 1.0:
        raise ShapeError(f"fraction must be between 0 and 1, got {fraction}")
    n_hold = max(1, int(round(len(images) * fraction)))
    if n_hold >= len(images):
        raise ShapeError(f"{len(images)} images are too few to hold {fraction:.0%} out")
    order = np.random.default_rng(seed).permutation(len(images))
    return images[order[n_hold:]], images[order[:n_hold]]


def plot_nearest(samples: np.ndarray, train: np.ndarray, report: MemorisationReport, n: int = 6,
                 caption: str | None = None):
    """A figure: each of the first ``n`` samples (left) next to its k nearest training images.

    Each training image is labelled with its distance; returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt

    from charlib.viz import add_caption

    n = min(n, len(samples))
    k = report.neighbours.indices.shape[1]
    fig, axes = plt.subplots(n, k + 1, figsize=(1.3 * (k + 1), 1.35 * n), squeeze=False)
    for row in range(n):
        axes[row, 0].imshow(samples[row], interpolation="nearest")
        axes[row, 0].set_title("sample" if row == 0 else "", fontsize=8)
        for j in range(k):
            ax = axes[row, j + 1]
            ax.imshow(train[report.neighbours.indices[row, j]], interpolation="nearest")
            ax.set_title(f"d={report.neighbours.distances[row, j]:.3f}", fontsize=7)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"nearest training images ({report.space})", fontsize=9)
    fig.tight_layout()
    if caption:
        add_caption(fig, caption)
    return fig
