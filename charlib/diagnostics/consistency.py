"""Identity consistency and pose accuracy: is a generated cycle one character, in the asked poses?

A conditional generator animates a character by drawing it under 8 frame conditions from one
identity code. Two things can go wrong, and the attribute classifier
(:mod:`charlib.diagnostics.classifier`) measures both:

* **identity drift**: the frames of one cycle show different characters. For each cycle we read the
  four appearance attributes (skin, hair, top, bottom) on every frame. *Cycle consistency* is the
  fraction of cycles in which all four attributes have one value on all frames (strict: one
  flicker in one frame fails the whole cycle). *Frame agreement* is the fraction of frames whose
  four attributes all equal the cycle's majority values (lenient: one odd frame costs 1/8 of a
  cycle).
* **wrong pose**: the frame does not show the requested action, direction or frame. *Pose
  accuracy* is the fraction of frames where the classifier reads the requested value, per pose
  label, and for action and frame together.

Both are only as good as the classifier, so the benchmark scores real cycles the same way: their
figures are the ceiling a generator can reach with this ruler.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from charlib.data import skeleton as sk
from charlib.data import sprites as sp
from charlib.errors import ShapeError

APPEARANCE = sp.ATTRIBUTE_NAMES

__all__ = ["identity_consistency", "pose_accuracy", "score_cycles"]


def _majority(values: np.ndarray) -> np.ndarray:
    """Most frequent value along the last axis (ties: the smallest value): (N, T) -> (N,)."""
    counts = np.apply_along_axis(np.bincount, 1, values, minlength=int(values.max()) + 1)
    return counts.argmax(axis=1)


def identity_consistency(appearance: Mapping[str, np.ndarray]) -> dict[str, float]:
    """How consistently each cycle's frames show one character.

    Args:
        appearance: predicted attribute values per frame, ``{"skin": (N, T) int, "hair": ...,
            "top": ..., "bottom": ...}`` for N cycles of T frames.

    Returns:
        ``cycle_consistency`` (fraction of cycles with all 4 attributes constant over all T
        frames), ``frame_agreement`` (fraction of frames whose 4 attributes all equal the cycle's
        majority), and ``<attribute>_agreement`` per attribute.
    """
    missing = [k for k in APPEARANCE if k not in appearance]
    if missing:
        raise ShapeError(f"appearance predictions lack {missing}")
    arrays = {k: np.asarray(appearance[k]) for k in APPEARANCE}
    shape = arrays[APPEARANCE[0]].shape
    if len(shape) != 2 or shape[0] == 0 or any(a.shape != shape for a in arrays.values()):
        raise ShapeError(f"appearance predictions must all be (N > 0, T), got "
                         f"{ {k: a.shape for k, a in arrays.items()} }")
    constant = np.ones(shape[0], bool)
    agrees = np.ones(shape, bool)
    out: dict[str, float] = {}
    for name, values in arrays.items():
        constant &= np.all(values == values[:, :1], axis=1)
        matches = values == _majority(values)[:, None]
        agrees &= matches
        out[f"{name}_agreement"] = float(matches.mean())
    return {"cycle_consistency": float(constant.mean()), "frame_agreement": float(agrees.mean()), **out}


def pose_accuracy(predicted: Mapping[str, np.ndarray], action: np.ndarray, direction: np.ndarray,
                  frame: np.ndarray) -> dict[str, float]:
    """Fraction of frames whose predicted pose is the requested one.

    Args:
        predicted: ``{"action": (N, T), "direction": (N, T), "frame": (N, T)}`` int predictions.
        action, direction, frame: the requested indices, broadcastable to (N, T) (for cycles:
            action and direction (N, 1), frame (T,)).

    Returns:
        ``action_accuracy``, ``direction_accuracy``, ``frame_accuracy``,
        ``action_frame_accuracy`` (both right at once) and ``pose_accuracy`` (all three right).
    """
    pa, pd, pf = (np.asarray(predicted[k]) for k in ("action", "direction", "frame"))
    a, d, f = (np.broadcast_to(np.asarray(v), pa.shape) for v in (action, direction, frame))
    hit_a, hit_d, hit_f = pa == a, pd == d, pf == f
    return {"action_accuracy": float(hit_a.mean()), "direction_accuracy": float(hit_d.mean()),
            "frame_accuracy": float(hit_f.mean()), "action_frame_accuracy": float((hit_a & hit_f).mean()),
            "pose_accuracy": float((hit_a & hit_d & hit_f).mean())}


def score_cycles(classifier, cycles: np.ndarray, action: np.ndarray,
                 direction: np.ndarray) -> dict[str, float]:
    """Identity consistency and pose accuracy of cycles (N, 8, S, S, 3) uint8 asked to show
    ``action`` and ``direction`` (indices, (N,) or scalars) in frames 0..7.

    ``classifier`` is an :class:`~charlib.diagnostics.classifier.AttributeClassifier` (anything
    with ``predict(images) -> dict of (M,) int arrays``).
    """
    arr = np.asarray(cycles)
    if arr.ndim != 5 or arr.shape[1] != sk.N_FRAMES:
        raise ShapeError(f"cycles must have shape (N, {sk.N_FRAMES}, S, S, 3), got {arr.shape}")
    n, t = arr.shape[:2]
    flat = classifier.predict(arr.reshape(n * t, *arr.shape[2:]))
    per_frame = {k: np.asarray(v).reshape(n, t) for k, v in flat.items()}
    a = np.broadcast_to(np.asarray(action), (n,))[:, None]
    d = np.broadcast_to(np.asarray(direction), (n,))[:, None]
    return {"n_cycles": n, **identity_consistency(per_frame),
            **pose_accuracy(per_frame, a, d, np.arange(t)[None, :])}
