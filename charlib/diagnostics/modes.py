"""Mode counting on sprites: how many of the 1296 characters a generator draws, and how evenly.

The sprite version of the Stacked-MNIST protocol (VEEGAN, PacGAN): draw N images (10,000 by
default), let a classifier trained on real data name each one's appearance mode, and histogram
the modes. **Modes covered** counts the modes of the reference set S (all 1296 characters, or the
1000 training identities) that received a sample. The **reverse KL** ``KL(q ‖ p) = Σ_{k∈S} q_k
log(q_k / p_k)`` compares the generated histogram q over S (samples outside S are left out and
reported as ``outside_fraction``) with the uniform ``p_k = 1/|S|``; empty bins add nothing, so it is
finite: 0 for an even histogram, ``log |S|`` when every sample is one character. The forward
``KL(p ‖ q)`` would be infinite as soon as one mode is missed.

A finite sample is never perfectly even: 10,000 uniform draws over 1296 modes give a KL of about
0.06 and miss a mode now and then (:func:`uniform_floor`; :func:`charlib.diagnostics.report.real_floor`
measures it with real sprites through the same classifier). Per-attribute marginals and the most
over- and under-produced modes (:func:`plot_mode_rows`) tell *which* characters a generator
favours or forgets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from charlib.base.images import check_images
from charlib.data import sprites as sp
from charlib.data.sprites import split_modes
from charlib.errors import ShapeError

__all__ = [
    "ModeReport", "count_modes", "mode_report", "plot_mode_rows", "reverse_kl", "split_modes",
    "uniform_floor"
]


def reverse_kl(counts: np.ndarray) -> float:
    """``KL(q ‖ uniform)`` (nats) of ``q = counts / counts.sum()``; empty bins add 0, no count gives NaN."""
    c = np.asarray(counts, dtype=np.float64)
    total = c.sum()
    if c.ndim != 1 or len(c) == 0 or (c < 0).any():
        raise ShapeError(f"counts must be a non-negative (K,) histogram, got shape {c.shape}")
    if total == 0:
        return float("nan")
    q = c[c > 0] / total
    return float(np.sum(q * np.log(len(c) * q)))


@dataclass(eq=False)
class ModeReport:
    """The mode histogram of N classified images: ``modes`` (N,), ``counts`` (1296,) over all modes,
    and the sorted reference modes S, ``support`` (e.g. ``split_modes("train")``), named by ``split``."""

    modes: np.ndarray
    counts: np.ndarray
    support: np.ndarray
    split: str

    @property
    def n(self) -> int:
        return int(len(self.modes))

    @property
    def n_modes(self) -> int:
        """|S|, the number of modes a perfect generator would cover."""
        return int(len(self.support))

    @property
    def support_counts(self) -> np.ndarray:
        return self.counts[self.support]

    @property
    def modes_covered(self) -> int:
        return int((self.support_counts > 0).sum())

    @property
    def coverage(self) -> float:
        return self.modes_covered / self.n_modes

    @property
    def kl(self) -> float:
        """Reverse KL of the histogram over S against uniform on S (nats); see the module docstring."""
        return reverse_kl(self.support_counts)

    @property
    def outside_fraction(self) -> float:
        """Share of images classified into a mode outside S (0 when S is all 1296 modes)."""
        return 1.0 - float(self.support_counts.sum()) / self.n if self.n else 0.0

    def marginals(self) -> dict[str, np.ndarray]:
        """Per attribute, the share of images with each value: {name: (6,) float}."""
        attrs = sp.attributes_of(self.modes) if self.n else np.zeros((0, len(sp.ATTRIBUTES)), int)
        return {a.name: np.bincount(attrs[:, i], minlength=len(a)) / max(self.n, 1)
                for i, a in enumerate(sp.ATTRIBUTES)}

    def expected_count(self) -> float:
        """Images per mode a perfectly even generator would give: N / |S|."""
        return self.n / self.n_modes

    def over_produced(self, k: int = 8) -> list[tuple[int, int]]:
        """Up to k modes of S with images, as (mode, count), the most first (ties: lower id)."""
        c = self.support_counts
        order = np.lexsort((self.support, -c))[:k]
        return [(int(self.support[i]), int(c[i])) for i in order if c[i] > 0]

    def under_produced(self, k: int = 8) -> list[tuple[int, int]]:
        """The k modes of S with the fewest images (missed ones first), as (mode, count).

        Ties (often many modes with 0 images) are broken by a fixed shuffle of the mode ids,
        ``(mode * 1291) % 1296``: 1291 is the inverse of 259 = 1 + 6 + 36 + 216 modulo 1296, so
        consecutive entries step every attribute by one and the list shows varied characters,
        not neighbours in id order that differ only in their bottoms.
        """
        c = self.support_counts
        order = np.lexsort(((self.support * 1291) % sp.N_MODES, c))[:k]
        return [(int(self.support[i]), int(c[i])) for i in order]

    def summary(self) -> dict[str, object]:
        """JSON-ready numbers: n, modes covered of |S|, coverage, KL, outside fraction, marginals,
        and the 8 most over- and under-produced modes with readable names."""

        def named(pairs: list[tuple[int, int]]) -> list[dict[str, object]]:
            return [{"mode": m, "count": c, "character": sp.describe(sp.attributes_of(m))}
                    for m, c in pairs]

        return {
            "n": self.n, "split": self.split, "modes_covered": self.modes_covered,
            "n_modes": self.n_modes, "mode_coverage": round(self.coverage, 6),
            "kl": round(self.kl, 6), "outside_fraction": round(self.outside_fraction, 6),
            "expected_count": round(self.expected_count(), 3),
            "marginals": {k: [round(float(v), 6) for v in vals] for k, vals in self.marginals().items()},
            "over_produced": named(self.over_produced()),
            "under_produced": named(self.under_produced()),
        }  # fmt: skip


def mode_report(modes: np.ndarray, split: str = "all") -> ModeReport:
    """A :class:`ModeReport` from mode ids (N,) in [0, 1296), against the modes of ``split``."""
    m = np.asarray(modes, dtype=np.int64).reshape(-1)
    if m.size and (m.min() < 0 or m.max() >= sp.N_MODES):
        raise ShapeError(f"mode ids must be in [0, {sp.N_MODES}), got range [{m.min()}, {m.max()}]")
    return ModeReport(m, np.bincount(m, minlength=sp.N_MODES).astype(np.int64), split_modes(split), split)


def count_modes(images: np.ndarray, classifier, split: str = "all", batch_size: int = 512) -> ModeReport:
    """Histogram the appearance modes an ``AttributeClassifier`` reads in uint8 sprites (N, H, W, 3)."""
    return mode_report(classifier.mode_ids(check_images(images), batch_size=batch_size), split)


def uniform_floor(n: int = 10_000, n_modes: int = sp.N_MODES, trials: int = 20,
                  seed: int = 0) -> dict[str, float]:
    """What a *perfect* generator scores with ``n`` samples: the mean and std over ``trials`` uniform
    multinomial draws of the reverse KL (for 10,000 over 1296 modes about 0.06, close to ``(K - 1) /
    (2n)``) and of the modes covered."""
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, np.full(n_modes, 1.0 / n_modes), size=trials)
    kls = np.array([reverse_kl(c) for c in counts])
    covered = (counts > 0).sum(axis=1)
    return {"kl_mean": float(kls.mean()), "kl_std": float(kls.std()),
            "modes_covered_mean": float(covered.mean()), "modes_covered_std": float(covered.std()),
            "n": n, "n_modes": n_modes}


def plot_mode_rows(report: ModeReport, images: np.ndarray, k: int = 8, title: str | None = None):
    """Two rows of pictures: the k most over-produced modes (a generated example of each) and the
    k most under-produced ones (rendered at the images' size, walking, facing front), with their counts
    against the even share N/|S|. ``images`` are the ones ``report`` counted, in the same order.
    """
    import matplotlib.pyplot as plt

    arr = check_images(images)
    if len(arr) != report.n:
        raise ShapeError(f"got {len(arr)} images for a report of {report.n}")
    over, under = report.over_produced(k), report.under_produced(k)
    over_imgs = [arr[np.flatnonzero(report.modes == m)[0]] for m, _ in over]
    under_imgs = sp.render(sp.attributes_of(np.array([m for m, _ in under])), size=arr.shape[1])
    fig, axes = plt.subplots(2, k, figsize=(1.35 * k, 3.6), squeeze=False)
    expected = report.expected_count()
    for row, (pairs, pics, label) in enumerate(((over, over_imgs, "over-produced"),
                                                 (under, under_imgs, "under-produced"))):
        for col in range(k):
            ax = axes[row, col]
            ax.set_xticks([])
            ax.set_yticks([])
            if col >= len(pairs):
                ax.axis("off")
                continue
            ax.imshow(pics[col], interpolation="nearest")
            ax.set_title(f"{pairs[col][1]} (vs {expected:.1f})", fontsize=8)
        axes[row, 0].set_ylabel(label, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
