"""Skeletons: the "motion capture" behind every sprite frame.

A character's pose is 15 joints in 2-D pixel coordinates (x to the right, y down, like an image).
The actions (walk, wave, jump) are small 3-D motions of those joints, one cycle of 8 frames each,
seen by a camera from three directions (front, left, right). Every sprite frame is drawn *from* its
skeleton (see :mod:`charlib.data.sprites`), so later notebooks can treat the joint tracks as motion
data, learn new motion from them, and draw generated skeletons back into frames.

Conventions: in body units standing height is about 1.0, x is the character's left, y up, z
forward. ``front`` looks at the face; the ``right`` view is the exact mirror image of the ``left``
one with left and right joints swapped, so a horizontal flip turns one into the other. Pixel
coordinates scale with the image size.

Motion as data: the course's 72 poses are one fixed performance. :class:`MotionStyle` varies how an
action is performed (stride, swing, jump height, phase, proportions, ...), :func:`sample_styles`
draws styles with a seed and :func:`motion_cycles` turns them into joint tracks (N, 8, 15, 2). The
default style is the canonical performance, exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

ACTIONS: tuple[str, ...] = ("walk", "wave", "jump")
DIRECTIONS: tuple[str, ...] = ("front", "left", "right")
N_FRAMES: int = 8

JOINTS: tuple[str, ...] = (
    "head", "neck", "pelvis",
    "l_shoulder", "l_elbow", "l_hand",
    "r_shoulder", "r_elbow", "r_hand",
    "l_hip", "l_knee", "l_ankle",
    "r_hip", "r_knee", "r_ankle",
)  # fmt: skip
JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(JOINTS)}

#: Bones as (parent, child) joint indices: the edges to draw when plotting a skeleton.
BONES: tuple[tuple[int, int], ...] = tuple(
    (JOINT_INDEX[a], JOINT_INDEX[b])
    for a, b in [
        ("neck", "head"), ("neck", "pelvis"),
        ("neck", "l_shoulder"), ("l_shoulder", "l_elbow"), ("l_elbow", "l_hand"),
        ("neck", "r_shoulder"), ("r_shoulder", "r_elbow"), ("r_elbow", "r_hand"),
        ("pelvis", "l_hip"), ("l_hip", "l_knee"), ("l_knee", "l_ankle"),
        ("pelvis", "r_hip"), ("r_hip", "r_knee"), ("r_knee", "r_ankle"),
    ]
)  # fmt: skip

#: Index permutation that swaps every left joint with its right twin (used by horizontal flips).
MIRROR_PERMUTATION: np.ndarray = np.array(
    [JOINT_INDEX[n.replace("l_", "#").replace("r_", "l_").replace("#", "r_")] for n in JOINTS]
)

# Body proportions in body units (a sprite-like figure with a large head, readable at 32 px).
HEAD_RADIUS = 0.15
UPPER_ARM, FOREARM = 0.14, 0.13
THIGH, SHIN = 0.19, 0.19
ANKLE_HEIGHT = 0.03
TORSO = 0.27  # pelvis to neck
SHOULDER_HALF, HIP_HALF = 0.12, 0.06

# Where body units land in the picture: the ground line and the pixels per body unit, as fractions
# of the image size.
GROUND_Y = 0.92
UNIT_SCALE = 0.69


@dataclass(frozen=True)
class MotionStyle:
    """How one performance of an action varies from the canonical one (the defaults); each field but
    ``phase`` scales what its comment says."""

    stride: float = 1.0  # the walk's leg swing
    knee_lift: float = 1.0  # the walk's knee bend as the leg swings forward
    arm_swing: float = 1.0  # the walk's arm swing
    wave: float = 1.0  # the size of the wave
    jump_height: float = 1.0  # the jump's height above the ground
    crouch: float = 1.0  # how deep the jump's crouch and tuck go
    phase: float = 0.0  # where the clip starts in the cycle, in frames (8 is a full cycle)
    limbs: float = 1.0  # arm and leg lengths
    torso: float = 1.0  # the torso length
    shoulders: float = 1.0  # the shoulder and hip widths


CANONICAL_STYLE = MotionStyle()

#: The range each style field is drawn from by :func:`sample_styles` (uniform, low to high), in field order.
STYLE_RANGES: dict[str, tuple[float, float]] = {
    "stride": (0.6, 1.3), "knee_lift": (0.6, 1.3), "arm_swing": (0.4, 1.5), "wave": (0.6, 1.3),
    "jump_height": (0.5, 1.5), "crouch": (0.6, 1.15), "phase": (0.0, float(N_FRAMES)),
    "limbs": (0.9, 1.1), "torso": (0.88, 1.12), "shoulders": (0.85, 1.15),
}  # fmt: skip


def sample_styles(n: int, seed: int = 0) -> list[MotionStyle]:
    """``n`` random performances, each field uniform in :data:`STYLE_RANGES`; repeatable for a seed."""
    lows, highs = np.array(list(STYLE_RANGES.values())).T
    values = np.random.default_rng(seed).uniform(lows, highs, size=(n, len(STYLE_RANGES)))
    return [MotionStyle(**dict(zip(STYLE_RANGES, map(float, row), strict=True))) for row in values]


def _periodic(table: tuple[float, ...], t: float) -> float:
    """Linear interpolation of a per-frame table at a real frame position t, wrapping around."""
    i, w = int(np.floor(t)) % len(table), t - np.floor(t)
    return (1.0 - w) * table[i] + w * table[(i + 1) % len(table)]


def _swing(sagittal: float, abduction: float = 0.0, side: float = 1.0) -> np.ndarray:
    """Unit vector of a limb hanging down, swung forward by ``sagittal`` and outward by ``abduction``
    (radians); ``side`` is +1 for the left limb and -1 for the right one (x is the left)."""
    return np.array([side * np.sin(abduction), -np.cos(abduction) * np.cos(sagittal),
                     np.cos(abduction) * np.sin(sagittal)])


def _unit(v: tuple[float, float, float]) -> np.ndarray:
    a = np.asarray(v, dtype=float)
    return a / np.linalg.norm(a)


def _leg(thigh_angle: float, knee_bend: float) -> tuple[np.ndarray, np.ndarray]:
    """Thigh and shin directions for a thigh swung forward and a knee bent backward (radians)."""
    return _swing(thigh_angle), _swing(thigh_angle - knee_bend)


def _limb_directions(action: str, frame: int,
                     style: MotionStyle = CANONICAL_STYLE) -> tuple[dict[str, np.ndarray], float]:
    """Directions of the 8 limb segments for one frame, and the extra lift off the ground."""
    t = frame + style.phase
    phase = 2 * np.pi * t / N_FRAMES
    lift = 0.0
    d: dict[str, np.ndarray] = {}
    if action == "walk":
        for side, name, shift in ((1.0, "l", np.pi), (-1.0, "r", 0.0)):
            p = phase + shift
            swing_leg = 0.42 * style.stride * np.sin(p)
            # the knee bends while the leg swings forward
            knee = 0.12 + 0.75 * style.knee_lift * max(0.0, np.cos(p))
            d[f"{name}_thigh"], d[f"{name}_shin"] = _leg(swing_leg, knee)
            arm = -0.45 * style.arm_swing * np.sin(p)
            d[f"{name}_upper_arm"] = _swing(arm, 0.12, side)
            d[f"{name}_forearm"] = _swing(arm + 0.35, 0.12, side)
    elif action == "wave":
        wobble = style.wave * np.sin(phase)
        for name in ("l", "r"):
            d[f"{name}_thigh"], d[f"{name}_shin"] = _leg(0.0, 0.05)
        # The right arm rests and the left one waves: in the left-facing view the waving arm is
        # the one nearer the camera (the right-facing view mirrors it).
        d["r_upper_arm"] = _swing(0.05, 0.12, -1.0)
        d["r_forearm"] = _swing(0.15, 0.10, -1.0)
        d["l_upper_arm"] = _unit((0.45, 0.2, 0.9))
        swing = style.wave * np.cos(phase)  # with the wobble, every frame of the cycle differs
        d["l_forearm"] = _unit((0.1 + 0.5 * wobble, 1.0 + 0.3 * swing, 0.7 + 0.5 * wobble - 0.4 * swing))
        lift = 0.004 * np.cos(2 * phase)
    elif action == "jump":
        # crouch 0..1, height in body units, arms: 0 hanging .. 1 thrown up
        crouch = style.crouch * _periodic((0.0, 0.55, 0.25, 0.0, 0.0, 0.0, 0.6, 0.25), t)
        height = style.jump_height * _periodic((0.0, 0.0, 0.04, 0.12, 0.16, 0.11, 0.0, 0.0), t)
        arms_up = _periodic((0.0, -0.3, 0.5, 1.0, 1.0, 0.8, -0.3, 0.0), t)
        tuck = style.crouch * _periodic((0.0, 0.0, 0.2, 0.5, 0.3, 0.2, 0.0, 0.0), t)
        for side, name in ((1.0, "l"), (-1.0, "r")):
            thigh = 0.95 * crouch + 0.6 * tuck
            d[f"{name}_thigh"], d[f"{name}_shin"] = _leg(thigh, 1.9 * crouch + 1.0 * tuck)
            if arms_up >= 0:  # thrown forward and up, and a little outward
                d[f"{name}_upper_arm"] = _swing(2.3 * arms_up, 0.15 + 0.55 * arms_up, side)
                d[f"{name}_forearm"] = _swing(2.5 * arms_up, 0.2 + 0.6 * arms_up, side)
            else:
                d[f"{name}_upper_arm"] = _swing(arms_up * 1.6, 0.15, side)
                d[f"{name}_forearm"] = _swing(arms_up * 1.6 + 0.2, 0.15, side)
        lift = height
    else:
        raise ValueError(f"unknown action {action!r}; choose from {ACTIONS}")
    return d, lift


def pose_3d(action: str, frame: int, style: MotionStyle = CANONICAL_STYLE) -> np.ndarray:
    """The 15 joints of one frame in body units, (15, 3): (x left, y up, z forward), as ``style`` does it."""
    if not 0 <= frame < N_FRAMES:
        raise ValueError(f"frame must be in [0, {N_FRAMES}), got {frame}")
    d, lift = _limb_directions(action, frame, style)
    thigh, shin = THIGH * style.limbs, SHIN * style.limbs
    upper_arm, forearm = UPPER_ARM * style.limbs, FOREARM * style.limbs
    # Legs hang from the pelvis; the pelvis height puts the lower ankle on the ground.
    reach = max(-(thigh * d[f"{s}_thigh"][1] + shin * d[f"{s}_shin"][1]) for s in ("l", "r"))
    pelvis = np.array([0.0, ANKLE_HEIGHT + reach + lift, 0.0])
    neck = pelvis + [0.0, TORSO * style.torso, 0.0]
    j = {"pelvis": pelvis, "neck": neck, "head": neck + [0.0, HEAD_RADIUS + 0.01, 0.0]}
    for s, side in (("l", 1.0), ("r", -1.0)):
        j[f"{s}_hip"] = pelvis + [side * HIP_HALF * style.shoulders, 0.0, 0.0]
        j[f"{s}_knee"] = j[f"{s}_hip"] + thigh * d[f"{s}_thigh"]
        j[f"{s}_ankle"] = j[f"{s}_knee"] + shin * d[f"{s}_shin"]
        j[f"{s}_shoulder"] = neck + [side * SHOULDER_HALF * style.shoulders, -0.02, 0.0]
        j[f"{s}_elbow"] = j[f"{s}_shoulder"] + upper_arm * d[f"{s}_upper_arm"]
        j[f"{s}_hand"] = j[f"{s}_elbow"] + forearm * d[f"{s}_forearm"]
    return np.stack([j[name] for name in JOINTS])


def motion_cycles(styles: list[MotionStyle], action: str, direction: str,
                  size: int = 64) -> np.ndarray:
    """Joint tracks of one action seen from one direction, one cycle per style: (N, 8, 15, 2) pixels."""
    _lookup(ACTIONS, action, "action")
    _lookup(DIRECTIONS, direction, "direction")
    out = np.zeros((len(styles), N_FRAMES, len(JOINTS), 2), np.float32)
    for i, style in enumerate(styles):
        out[i] = project(np.stack([pose_3d(action, f, style) for f in range(N_FRAMES)]), direction, size)
    return out


def sample_motion(n: int, size: int = 64, seed: int = 0, actions: tuple[str, ...] | None = None,
                  directions: tuple[str, ...] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` varied motion clips, the course's "motion capture" data set, repeatable for a seed: joints
    (n, 8, 15, 2) float32 pixels, action (n,) and direction (n,) int64, drawn uniformly from the options."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = np.random.default_rng(seed)
    a, d = _choose(rng, ACTIONS, actions, n, "action"), _choose(rng, DIRECTIONS, directions, n, "direction")
    styles = sample_styles(n, seed=int(rng.integers(2**31)))
    joints = np.zeros((n, N_FRAMES, len(JOINTS), 2), np.float32)
    for i in range(n):
        joints[i] = motion_cycles([styles[i]], ACTIONS[a[i]], DIRECTIONS[d[i]], size)[0]
    return joints, a.astype(np.int64), d.astype(np.int64)


def project(joints_3d: np.ndarray, direction: str, size: int) -> np.ndarray:
    """Camera: body-unit joints (..., 15, 3) to pixel coordinates (..., 15, 2) seen from ``direction``."""
    scale = UNIT_SCALE * size
    x, y, z = joints_3d[..., 0], joints_3d[..., 1], joints_3d[..., 2]
    if direction == "front":
        horizontal = x  # the character's left appears on the picture's right
    elif direction == "left":
        horizontal = -z  # walking towards the picture's left
    elif direction == "right":
        return mirror_joints(project(joints_3d, "left", size), size)
    else:
        raise ValueError(f"unknown direction {direction!r}; choose from {DIRECTIONS}")
    px = size / 2 + horizontal * scale
    py = GROUND_Y * size - y * scale
    return np.stack([px, py], axis=-1).astype(np.float32)


def mirror_joints(joints: np.ndarray, size: int) -> np.ndarray:
    """Flip pixel-space joints (..., 15, 2) left-right in a ``size``-wide image, swapping l/r names."""
    out = np.array(joints, dtype=np.float32, copy=True)[..., MIRROR_PERMUTATION, :]
    out[..., 0] = size - out[..., 0]
    return out


@lru_cache(maxsize=8)
def canonical_poses(size: int) -> np.ndarray:
    """Every course pose in pixels, (n_actions, n_directions, n_frames, 15, 2) float32; cached, read-only."""
    out = np.stack([np.concatenate([motion_cycles([CANONICAL_STYLE], a, d, size) for d in DIRECTIONS])
                    for a in ACTIONS])
    out.setflags(write=False)
    return out


def skeleton(action: str, direction: str, frame: int, size: int = 64) -> np.ndarray:
    """Joint positions of one course pose in pixels, shape (15, 2): columns (x, y), y pointing down."""
    return project(pose_3d(action, frame), direction, size)


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    """Length of every bone in :data:`BONES` for joints (..., 15, 2 or 3); returns (..., 14)."""
    parents, children = np.array(BONES).T
    return np.linalg.norm(joints[..., children, :] - joints[..., parents, :], axis=-1)


def _lookup(options: tuple[str, ...], value: str, what: str) -> int:
    try:
        return options.index(value)
    except ValueError:
        raise ValueError(f"unknown {what} {value!r}; choose from {options}") from None


def _choose(rng: np.random.Generator, options: tuple[str, ...], chosen: tuple[str, ...] | None, n: int,
            what: str = "value") -> np.ndarray:
    """``n`` indices into ``options``, uniform over the ``chosen`` names (all of them when None)."""
    return rng.choice(np.array([_lookup(options, c, what) for c in (chosen or options)]), size=n)
