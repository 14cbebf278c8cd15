"""Identity consistency and pose accuracy: is a generated cycle one character, in the asked poses?

A conditional generator animates a character by drawing it under 8 frame conditions from one
identity code, and the attribute classifier (:mod:`charlib.diagnostics.classifier`) checks two
things that can go wrong. **Identity drift**: reading the four appearance attributes on every frame,
*cycle consistency* is the fraction of cycles in which all four keep one value on all frames
(strict: one flicker fails the cycle), and *frame agreement* the fraction of frames whose four
attributes all equal the cycle's majority (lenient: one odd frame costs 1/8 of a cycle). **Wrong
pose**: *pose accuracy* is the fraction of frames where the classifier reads the requested action,
direction or frame, per label and for action and frame together. Both are only as good as the
classifier, so the benchmark scores real cycles the same way: the ceiling with this ruler.
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
    """``cycle_consistency``, ``frame_agreement`` and ``<attribute>_agreement`` per attribute, from the
    predicted attributes per frame, ``{"skin": (N, T) int, "hair": ..., "top": ..., "bottom": ...}``."""
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
    """Fraction of frames whose predicted pose (``{"action", "direction", "frame"}``: (N, T) ints) is the
    requested one, broadcast to (N, T): ``<label>_accuracy``, ``action_frame_accuracy`` (both right)
    and ``pose_accuracy`` (all three right)."""
    pa, pd, pf = (np.asarray(predicted[k]) for k in ("action", "direction", "frame"))
    a, d, f = (np.broadcast_to(np.asarray(v), pa.shape) for v in (action, direction, frame))
    hit_a, hit_d, hit_f = pa == a, pd == d, pf == f
    return {"action_accuracy": float(hit_a.mean()), "direction_accuracy": float(hit_d.mean()),
            "frame_accuracy": float(hit_f.mean()), "action_frame_accuracy": float((hit_a & hit_f).mean()),
            "pose_accuracy": float((hit_a & hit_d & hit_f).mean())}


def score_cycles(classifier, cycles: np.ndarray, action: np.ndarray,
                 direction: np.ndarray) -> dict[str, float]:
    """Identity consistency and pose accuracy of cycles (N, 8, S, S, 3) uint8 asked to show
    ``action`` and ``direction`` (indices, (N,) or scalars) in frames 0..7; ``classifier``: anything
    with ``predict(images) -> dict of (M,) int arrays``, such as an ``AttributeClassifier``."""
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
