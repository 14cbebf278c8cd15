"""Is generated motion like real motion? Simple physical statistics of joint tracks.

A clip is 8 frames of 15 joints in pixels, (8, 15, 2). Generated clips can look plausible frame by
frame and still be wrong as motion, so real and generated clips are compared on statistics a
person sees as "wrong" at once: **bone-length variation** (a limb cannot stretch; the 2-D
projection foreshortens some bones a little even in real motion, so compare with the real figure,
not with 0), **ground contact** (in walk and wave clips the lower ankle rests on the ground line),
**joint speed** (pixels per frame, the loop's step from the last frame back to the first included),
**loop closure** (that last step over the clip's mean step: about 1 for a smooth loop) and the
**nearest real clip** (RMSE in pixels: far from every real clip is implausible, much closer than
held-out real clips is a copy).
"""

from __future__ import annotations

import numpy as np

from charlib.data import skeleton as sk
from charlib.errors import ShapeError

__all__ = ["bone_length_variation", "ground_contact_error", "joint_speed", "loop_closure",
           "motion_statistics", "nearest_clip_rmse"]


def _check(joints: np.ndarray) -> np.ndarray:
    j = np.asarray(joints, dtype=np.float64)
    if j.ndim != 4 or j.shape[2:] != (len(sk.JOINTS), 2) or len(j) == 0:
        raise ShapeError(f"clips must have shape (N > 0, T, {len(sk.JOINTS)}, 2), got {j.shape}")
    return j


def bone_length_variation(joints: np.ndarray) -> float:
    """Mean over clips and bones of std/mean of the bone's length over the frames; clips (N, T, 15, 2)."""
    lengths = sk.bone_lengths(_check(joints))  # (N, T, 14)
    return float(np.mean(lengths.std(axis=1) / np.maximum(lengths.mean(axis=1), 1e-9)))


def ground_contact_error(joints: np.ndarray, size: int) -> float:
    """Mean |lower ankle - ground line| in pixels over all frames of clips (N, T, 15, 2) at ``size``."""
    j = _check(joints)
    ankles = j[..., [sk.JOINT_INDEX["l_ankle"], sk.JOINT_INDEX["r_ankle"]], 1]  # y grows downward
    ground = (sk.GROUND_Y - sk.ANKLE_HEIGHT * sk.UNIT_SCALE) * size
    return float(np.mean(np.abs(ankles.max(axis=-1) - ground)))


def _steps(j: np.ndarray) -> np.ndarray:
    """Per-joint displacement between consecutive frames, wrapping around: (N, T, 15)."""
    return np.linalg.norm(np.roll(j, -1, axis=1) - j, axis=-1)


def joint_speed(joints: np.ndarray) -> float:
    """Mean joint speed in pixels per frame (the loop's wrap-around step included)."""
    return float(_steps(_check(joints)).mean())


def loop_closure(joints: np.ndarray) -> float:
    """Mean over clips of (last -> first step) / (mean step of the clip); about 1 for smooth loops."""
    steps = _steps(_check(joints)).mean(axis=-1)  # (N, T): mean joint step from frame t to t+1
    return float(np.mean(steps[:, -1] / np.maximum(steps.mean(axis=1), 1e-9)))


def nearest_clip_rmse(clips: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """For each clip (N, T, 15, 2), the RMSE in pixels to its nearest reference clip (M, T, 15, 2): (N,)."""
    a = _check(clips).reshape(len(clips), -1)
    b = _check(reference).reshape(len(reference), -1)
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(d2.min(axis=1), 0.0) / a.shape[1] * 2)  # per joint: x and y together


def motion_statistics(joints: np.ndarray, actions: np.ndarray, size: int) -> dict[str, float]:
    """All the statistics above for clips (N, T, 15, 2) with their action indices (N,); ground contact
    over the walk and wave clips only (jumps leave the ground)."""
    j = _check(joints)
    acts = np.broadcast_to(np.asarray(actions), (len(j),))
    grounded = np.isin(acts, [sk.ACTIONS.index("walk"), sk.ACTIONS.index("wave")])
    out = {"bone_length_variation": bone_length_variation(j), "joint_speed_px": joint_speed(j),
           "loop_closure": loop_closure(j)}
    out["ground_contact_px"] = ground_contact_error(j[grounded], size) if grounded.any() else float("nan")
    return out
