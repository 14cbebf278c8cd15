"""Procedural character sprites: the course's data set, drawn in code, with labels and skeletons.

A character has four appearance attributes (skin, hair, top, bottom) with six values each, so there
are 6**4 = 1296 *appearance modes*, the same shape as the LPC "Sprites" set used in animation
research; every value is told apart at 32x32. A character can walk, wave or jump, facing front, left
or right, in cycles of 8 frames drawn from the skeletons of :mod:`charlib.data.skeleton`.

A pose is rasterised once into a *part map*, an (H, W) array whose pixels say "hair", "torso", "far
forearm", and so on; colouring it is a table look-up with the character's palette, so thousands of
sprites cost one numpy gather. The 72 course poses are rasterised once per size and cached; any
other skeleton (a generated one) goes through the same rasteriser with :func:`render_skeleton`.

Identities are split once and for all into 1000 training and 296 test characters
(:func:`identity_split`), like LPC's split, so held-out characters stay held out in every notebook.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from charlib.data import skeleton as sk
from charlib.errors import ShapeError

# --------------------------------------------------------------------------------------------------
# Attributes and modes


@dataclass(frozen=True)
class Attribute:
    """One appearance attribute: its value names, their RGB colours and (for some) a shape style."""

    name: str
    values: tuple[str, ...]
    colours: tuple[tuple[int, int, int], ...]
    styles: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.values)


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute(
        "skin",
        ("pale", "tan", "brown", "dark", "green", "lilac"),
        ((255, 222, 196), (228, 172, 122), (172, 112, 70), (104, 66, 44), (116, 186, 86),
         (168, 150, 228)),
    ),
    Attribute(
        "hair",
        ("black short", "blonde long", "red bun", "brown spiky", "white bob", "blue mohawk"),
        ((28, 26, 34), (240, 206, 96), (200, 62, 30), (112, 64, 30), (238, 238, 242),
         (44, 110, 236)),
        ("short", "long", "bun", "spiky", "bob", "mohawk"),
    ),
    Attribute(
        "top",
        ("red long-sleeve", "blue t-shirt", "green long-sleeve", "yellow t-shirt",
         "purple long-sleeve", "orange t-shirt"),
        ((206, 36, 44), (40, 86, 214), (34, 150, 64), (246, 214, 40), (128, 52, 176),
         (250, 134, 24)),
        ("long", "short", "long", "short", "long", "short"),
    ),
    Attribute(
        "bottom",
        ("navy trousers", "brown trousers", "grey shorts", "olive shorts", "maroon skirt",
         "teal skirt"),
        ((34, 42, 100), (126, 78, 40), (136, 136, 140), (112, 124, 36), (128, 24, 64),
         (20, 150, 150)),
        ("trousers", "trousers", "shorts", "shorts", "skirt", "skirt"),
    ),
)  # fmt: skip

ATTRIBUTE_NAMES: tuple[str, ...] = tuple(a.name for a in ATTRIBUTES)
ATTRIBUTE_SIZES: tuple[int, ...] = tuple(len(a) for a in ATTRIBUTES)
N_MODES: int = int(np.prod(ATTRIBUTE_SIZES))
N_TRAIN_IDENTITIES, N_TEST_IDENTITIES = 1000, N_MODES - 1000

BACKGROUND = (226, 232, 240)
OUTLINE = (36, 30, 44)
EYE = (20, 18, 28)
SHOE = (74, 46, 34)
FAR_SHADE = 0.7  # limbs on the far side of the body are drawn darker


def mode_id(attributes: np.ndarray) -> np.ndarray:
    """Appearance attributes (..., 4) of value indices to mode ids (...,) in [0, 1296).

    Mixed radix, skin most significant: ``mode = ((skin*6 + hair)*6 + top)*6 + bottom``.
    """
    a = np.asarray(attributes)
    if a.shape[-1:] != (len(ATTRIBUTES),):
        raise ShapeError(f"attributes must have shape (..., {len(ATTRIBUTES)}), got {a.shape}")
    if a.size and (a.min() < 0 or np.any(a >= np.array(ATTRIBUTE_SIZES))):
        raise ShapeError(f"attribute values out of range; sizes are {ATTRIBUTE_SIZES}")
    return np.ravel_multi_index(tuple(np.moveaxis(a, -1, 0)), ATTRIBUTE_SIZES).astype(np.int64)


def attributes_of(mode: np.ndarray | int) -> np.ndarray:
    """Mode ids (...,) back to attribute value indices (..., 4); the inverse of :func:`mode_id`."""
    m = np.asarray(mode)
    if m.size and (m.min() < 0 or m.max() >= N_MODES):
        raise ShapeError(f"mode ids must be in [0, {N_MODES}), got range [{m.min()}, {m.max()}]")
    return np.stack(np.unravel_index(m, ATTRIBUTE_SIZES), axis=-1).astype(np.int64)


def describe(attributes: np.ndarray) -> str:
    """A readable name for one character, e.g. ``"tan skin, red bun hair, blue t-shirt, teal skirt"``."""
    a = np.asarray(attributes).reshape(-1)
    suffix = {"skin": " skin", "hair": " hair"}
    return ", ".join(at.values[v] + suffix.get(at.name, "") for at, v in zip(ATTRIBUTES, a, strict=True))


@lru_cache(maxsize=1)
def identity_split() -> tuple[np.ndarray, np.ndarray]:
    """The fixed split of the 1296 identities: (train mode ids (1000,), test mode ids (296,)).

    A mode goes to the test set when ``(mode * 577) % 1296 < 296``. 577 is coprime with 1296, so the
    rule picks exactly 296 modes, spreads them over every attribute value, and never depends on a
    random number generator's version.
    """
    modes = np.arange(N_MODES)
    is_test = (modes * 577) % N_MODES < N_TEST_IDENTITIES
    train, test = modes[~is_test], modes[is_test]
    train.setflags(write=False)
    test.setflags(write=False)
    return train, test


def split_modes(split: str = "all") -> np.ndarray:
    """The appearance modes of a split, sorted: ``"all"`` (1296), ``"train"`` (1000), ``"test"`` (296)."""
    train, test = identity_split()
    table = {"all": np.arange(N_MODES), "train": train, "test": test}
    if split not in table:
        raise ShapeError(f"split must be 'all', 'train' or 'test', got {split!r}")
    return table[split]


# --------------------------------------------------------------------------------------------------
# Part maps

PARTS: tuple[str, ...] = (
    "background", "outline", "eye", "face", "hair", "torso", "hips", "skirt",
    "upper_arm", "forearm", "hand", "thigh", "shin", "shoe",
    "upper_arm_far", "forearm_far", "hand_far", "thigh_far", "shin_far", "shoe_far",
)  # fmt: skip
P = {name: i for i, name in enumerate(PARTS)}


class _Canvas:
    """A part map being painted: later shapes cover earlier ones."""

    def __init__(self, size: int) -> None:
        centres = np.arange(size, dtype=np.float32) + 0.5
        self.y, self.x = np.meshgrid(centres, centres, indexing="ij")
        self.parts = np.zeros((size, size), np.uint8)

    def paint(self, mask: np.ndarray, part: str) -> None:
        self.parts[mask] = P[part]

    def disk(self, c: np.ndarray, r: float) -> np.ndarray:
        return (self.x - c[0]) ** 2 + (self.y - c[1]) ** 2 <= r * r

    def capsule(self, a: np.ndarray, b: np.ndarray, r: float) -> np.ndarray:
        ab = b - a
        denom = float(ab @ ab) or 1e-9
        t = np.clip(((self.x - a[0]) * ab[0] + (self.y - a[1]) * ab[1]) / denom, 0.0, 1.0)
        return (self.x - a[0] - t * ab[0]) ** 2 + (self.y - a[1] - t * ab[1]) ** 2 <= r * r

    def polygon(self, pts: np.ndarray) -> np.ndarray:
        """Inside a convex polygon given in either winding order."""
        s = np.stack([(q[0] - p[0]) * (self.y - p[1]) - (q[1] - p[1]) * (self.x - p[0])
                      for p, q in zip(pts, np.roll(pts, -1, axis=0), strict=True)])
        return np.all(s >= 0, axis=0) | np.all(s <= 0, axis=0)

    def outline(self) -> None:
        """Background pixels that touch the body (4-neighbourhood) become the outline."""
        body = self.parts != P["background"]
        b = np.pad(body, 1)
        edge = b[:-2, 1:-1] | b[2:, 1:-1] | b[1:-1, :-2] | b[1:-1, 2:]  # touches the body
        self.parts[edge & ~body] = P["outline"]


def _hair(cv: _Canvas, head: np.ndarray, r: float, style: str, facing: float, back: bool) -> None:
    """Paint hair around a head of radius ``r`` at ``head``; ``back`` paints the part behind it."""
    x, y = cv.x - head[0], cv.y - head[1]  # head-centred coordinates, y down
    if back:
        if style == "long":
            half = 1.15 * r
            if facing:
                mask = (x * facing < 0.1 * r) & (x * facing > -half) & (y > 0) & (y < 1.9 * r)
            else:
                mask = (np.abs(x) < half) & (y > 0) & (y < 1.7 * r)
            cv.paint(mask, "hair")
        return
    cap = cv.disk(head, 1.08 * r)
    if style == "mohawk":
        ridge = np.abs(x) < 0.26 * r if not facing else y < -0.2 * r
        cv.paint(cv.disk(head, 1.38 * r) & ridge & (y < -0.35 * r), "hair")
        return
    mask = cap & (y < -0.3 * r)
    if facing:  # side on, the hair covers the back of the head
        mask |= cap & (x * facing < -0.15 * r) & (y < 0.45 * r)
    if style == "long":
        mask |= cap & (np.abs(x) > 0.62 * r) & (y < 0.5 * r) & ~(x * facing > 0.3 * r)
    elif style == "bob":
        bob = cv.disk(head, 1.2 * r) & (y < 0.8 * r)
        face = (np.abs(x) < 0.66 * r) & (y > -0.3 * r) if not facing else (x * facing > 0.1 * r)
        mask |= bob & ~(face & (y > -0.3 * r))
    elif style == "bun":
        mask |= cv.disk(head + np.array([-0.55 * r * facing, -1.05 * r]), 0.48 * r)
    elif style == "spiky":
        spread = np.array([0.4 * r, 0.0])
        for dx in (-0.7, 0.0, 0.7):
            base = head + np.array([dx * r, -0.75 * r])
            tip = head + np.array([dx * 1.45 * r - 0.35 * r * facing, -1.55 * r])
            mask |= cv.polygon(np.stack([base - spread, base + spread, tip]))
    cv.paint(mask, "hair")


_LIMBS = {"arm": (("shoulder", "elbow", "hand"), ("upper_arm", "forearm")),
          "leg": (("hip", "knee", "ankle"), ("thigh", "shin"))}


def _limb(cv: _Canvas, j: np.ndarray, side: str, limb: str, far: bool, radii: dict[str, float],
          facing: float) -> None:
    """Paint one arm or leg: two capsules (the second 10% thinner), then a hand or a shoe."""
    joints, (upper, lower) = _LIMBS[limb]
    root, mid, end = (j[sk.JOINT_INDEX[f"{side}_{n}"]] for n in joints)
    suffix, r = "_far" if far else "", radii[limb]
    cv.paint(cv.capsule(root, mid, r), upper + suffix)
    cv.paint(cv.capsule(mid, end, r * 0.9), lower + suffix)
    if limb == "arm":
        cv.paint(cv.disk(end, radii["hand"]), "hand" + suffix)
    else:
        toe = end + np.array([radii["foot"] * facing, r * 0.55])
        cv.paint(cv.capsule(end + [0.0, r * 0.4], toe, r * 0.85), "shoe" + suffix)


def _torso_quad(top: np.ndarray, bottom: np.ndarray, w_top: float, w_bottom: float) -> np.ndarray:
    axis = bottom - top
    n = np.array([-axis[1], axis[0]]) / (np.linalg.norm(axis) or 1e-9)
    return np.stack([top - n * w_top, top + n * w_top, bottom + n * w_bottom, bottom - n * w_bottom])


# direction -> (facing: x sign of the nose, near side, far side or None when both sides face the camera)
_VIEWS = {"front": (0.0, "l", None), "left": (-1.0, "l", "r"), "right": (1.0, "r", "l")}


def rasterise(joints: np.ndarray, direction: str, hair_style: str, skirt: bool,
              size: int) -> np.ndarray:
    """Draw one skeleton (15, 2) in pixels into a part map (size, size) of :data:`PARTS` indices; widths
    come from the joints and the size, the draw order (far limbs, body, near limbs) from ``direction``."""
    j = np.asarray(joints, dtype=np.float32)
    if j.shape != (len(sk.JOINTS), 2):
        raise ShapeError(f"joints must have shape ({len(sk.JOINTS)}, 2), got {j.shape}")
    unit = sk.UNIT_SCALE * size
    radii = {"arm": 0.038 * unit, "hand": 0.045 * unit, "leg": 0.05 * unit, "foot": 0.07 * unit}
    head_r = sk.HEAD_RADIUS * unit
    cv = _Canvas(size)
    facing, near, far = _VIEWS[direction]
    idx = sk.JOINT_INDEX
    head, neck, pelvis = j[idx["head"]], j[idx["neck"]], j[idx["pelvis"]]

    if far is not None:
        _limb(cv, j, far, "arm", True, radii, facing)
        _limb(cv, j, far, "leg", True, radii, facing)
    _hair(cv, head, head_r, hair_style, facing, back=True)
    for side in ("l", "r") if far is None else (near,):
        _limb(cv, j, side, "leg", False, radii, facing)

    shoulder_half = 0.5 * np.linalg.norm(j[idx["l_shoulder"]] - j[idx["r_shoulder"]])
    hip_half = 0.5 * np.linalg.norm(j[idx["l_hip"]] - j[idx["r_hip"]])
    w_top = max(shoulder_half + 0.3 * radii["arm"], 0.085 * unit)
    w_hip = max(hip_half + radii["leg"], 0.08 * unit)
    waist = neck + 0.72 * (pelvis - neck)
    below = pelvis + 0.12 * (pelvis - neck)
    cv.paint(cv.polygon(_torso_quad(waist, below, w_hip, w_hip)), "hips")
    if skirt:
        knees = 0.5 * (j[idx["l_knee"]] + j[idx["r_knee"]])
        hem = waist + 1.05 * (knees - waist)
        cv.paint(cv.polygon(_torso_quad(waist, hem, w_hip, w_hip * 1.55 + 0.03 * unit)), "skirt")
    cv.paint(cv.capsule(neck, head, 0.05 * unit), "face")  # the neck
    cv.paint(cv.polygon(_torso_quad(neck, waist, w_top, w_hip * 0.95)), "torso")
    if far is None:
        for side in ("l", "r"):
            _limb(cv, j, side, "arm", False, radii, facing)
    cv.paint(cv.disk(head, head_r), "face")
    _hair(cv, head, head_r, hair_style, facing, back=False)
    for dx in [0.36, -0.36] if far is None else [0.55 * facing]:
        eye = np.array([head[0] + dx * head_r, head[1] + 0.12 * head_r])
        cv.paint(cv.disk(eye, max(0.55, 0.11 * head_r)), "eye")
    if far is not None:
        _limb(cv, j, near, "arm", False, radii, facing)
    cv.outline()
    return cv.parts


@lru_cache(maxsize=4)
def canonical_part_maps(size: int) -> np.ndarray:
    """Part maps of every course pose and shape variant, cached per size: uint8 (n_actions,
    n_directions, n_frames, n_hair_styles, 2, size, size); the 2 is "wears a skirt"."""
    poses = sk.canonical_poses(size)
    styles = ATTRIBUTES[1].styles
    maps = np.zeros(poses.shape[:3] + (len(styles), 2, size, size), np.uint8)
    for a, d, f, h, skirt in np.ndindex(maps.shape[:5]):
        maps[a, d, f, h, skirt] = rasterise(poses[a, d, f], sk.DIRECTIONS[d], styles[h], skirt > 0, size)
    maps.setflags(write=False)
    return maps


# --------------------------------------------------------------------------------------------------
# Palettes and rendering


@lru_cache(maxsize=1)
def palettes() -> np.ndarray:
    """Colour of every part for every mode: uint8 array (1296, len(PARTS), 3)."""
    out = np.zeros((N_MODES, len(PARTS), 3))
    for m, values in enumerate(attributes_of(np.arange(N_MODES))):
        skin, hair, top, bottom = (at.colours[v] for at, v in zip(ATTRIBUTES, values, strict=True))
        top_style, bottom_style = ATTRIBUTES[2].styles[values[2]], ATTRIBUTES[3].styles[values[3]]
        near = {
            "background": BACKGROUND, "outline": OUTLINE, "eye": EYE, "face": skin,
            "hair": hair, "torso": top, "hips": bottom, "skirt": bottom, "upper_arm": top,
            "forearm": top if top_style == "long" else skin, "hand": skin,
            "thigh": skin if bottom_style == "skirt" else bottom,
            "shin": bottom if bottom_style == "trousers" else skin, "shoe": SHOE,
        }  # fmt: skip
        out[m, [P[name] for name in near]] = list(near.values())
    far = [name for name in PARTS if name.endswith("_far")]
    out[:, [P[name] for name in far]] = np.clip(out[:, [P[name[:-4]] for name in far]] * FAR_SHADE, 0, 255)
    table = np.round(out).astype(np.uint8)
    table.setflags(write=False)
    return table


def colourise(part_maps: np.ndarray, modes: np.ndarray) -> np.ndarray:
    """Colour part maps (N, H, W) with the palettes of ``modes`` (N,): uint8 images (N, H, W, 3)."""
    return palettes()[np.asarray(modes)[:, None, None], part_maps]


def _as_index(values: np.ndarray | str | int, options: tuple[str, ...], n: int) -> np.ndarray:
    """Names or indices, scalar or array, to an int array of length n."""
    arr = np.asarray(values)
    if arr.dtype.kind in "UO":
        arr = np.vectorize(lambda v: sk._lookup(options, str(v), "value"), otypes=[np.int64])(arr)
    arr = np.broadcast_to(arr.astype(np.int64), (n,))
    if arr.size and (arr.min() < 0 or arr.max() >= len(options)):
        raise ShapeError(f"index out of range for {options}")
    return arr


_SKIRT = np.array([style == "skirt" for style in ATTRIBUTES[3].styles], np.int64)  # 1: the bottom is a skirt


def render(attributes: np.ndarray, action: np.ndarray | str | int = "walk",
           direction: np.ndarray | str | int = "front", frame: np.ndarray | int = 0,
           size: int = 64) -> np.ndarray:
    """Render course sprites of ``attributes`` (N, 4) or (4,): uint8 images (N, size, size, 3).

    ``action``, ``direction`` (names or indices) and ``frame`` (in [0, 8)) are one for all or one per
    sprite; ``size`` is at least 16.
    """
    if size < 16:
        raise ShapeError(f"size must be at least 16 pixels, got {size}")
    attrs = np.atleast_2d(np.asarray(attributes))
    modes = mode_id(attrs)
    n = len(modes)
    a = _as_index(action, sk.ACTIONS, n)
    d = _as_index(direction, sk.DIRECTIONS, n)
    f = _as_index(frame, tuple(str(i) for i in range(sk.N_FRAMES)), n)
    maps = canonical_part_maps(size)[a, d, f, attrs[:, 1], _SKIRT[attrs[:, 3]]]
    return colourise(maps, modes)


def render_skeleton(joints: np.ndarray, attributes: np.ndarray, direction: str = "front",
                    size: int = 64) -> np.ndarray:
    """Render arbitrary skeletons (N, 15, 2) in pixels (e.g. generated motion): (N, size, size, 3);
    ``attributes`` is (4,) for one character throughout or (N, 4) per frame."""
    j = np.asarray(joints, dtype=np.float32)
    if j.ndim == 2:
        j = j[None]
    if j.ndim != 3 or j.shape[1:] != (len(sk.JOINTS), 2):
        raise ShapeError(f"joints must have shape (N, {len(sk.JOINTS)}, 2), got {j.shape}")
    if not np.all(np.isfinite(j)):
        raise ShapeError("joints contain NaN or infinite values")
    attrs = np.broadcast_to(np.atleast_2d(attributes), (len(j), len(ATTRIBUTES)))
    maps = np.stack([rasterise(jj, direction, ATTRIBUTES[1].styles[a[1]], _SKIRT[a[3]] > 0, size)
                     for jj, a in zip(j, attrs, strict=True)])
    return colourise(maps, mode_id(attrs))


# --------------------------------------------------------------------------------------------------
# Sampling data sets


@dataclass
class SpriteLabels:
    """Labels of N sprites (or N sequences of T frames: every field gains a T axis after N).

    attributes: (N, 4) int64 value indices; mode: (N,) int64; action, direction, frame: (N,) int64
    indices into ACTIONS, DIRECTIONS and range(8); skeleton: (N, 15, 2) float32 pixels (x, y).
    """

    attributes: np.ndarray
    mode: np.ndarray
    action: np.ndarray
    direction: np.ndarray
    frame: np.ndarray
    skeleton: np.ndarray

    def __len__(self) -> int:
        return len(self.mode)

    def rows(self) -> list[dict[str, object]]:
        """One dict per sprite (names, not indices), e.g. for a CSV file; stills only."""
        return [{"index": i, "mode": int(self.mode[i]),
                 **{at.name: at.values[v] for at, v in zip(ATTRIBUTES, self.attributes[i], strict=True)},
                 "action": sk.ACTIONS[self.action[i]], "direction": sk.DIRECTIONS[self.direction[i]],
                 "frame": int(self.frame[i])} for i in range(len(self))]


@dataclass
class Sprites:
    """Images (N, H, W, 3) uint8, or sequences (N, T, H, W, 3), with their :class:`SpriteLabels`."""

    images: np.ndarray
    labels: SpriteLabels

    def __len__(self) -> int:
        return len(self.images)


def _draw(n: int, seed: int, split: str, actions: tuple[str, ...] | None,
          directions: tuple[str, ...] | None) -> tuple[np.random.Generator, np.ndarray, ...]:
    """(rng, modes, actions, directions) of ``n`` random sprites, in the order a seed fixes them."""
    if n < 0:
        raise ShapeError(f"n must be >= 0, got {n}")
    rng = np.random.default_rng(seed)
    modes = rng.choice(split_modes(split), size=n)
    return rng, modes, sk._choose(rng, sk.ACTIONS, actions, n), sk._choose(rng, sk.DIRECTIONS, directions, n)


def sample_sprites(n: int, size: int = 64, seed: int = 0, split: str = "all",
                   actions: tuple[str, ...] | None = None,
                   directions: tuple[str, ...] | None = None) -> Sprites:
    """Draw ``n`` random sprites (n, size, size, 3) uint8 with labels and skeletons, repeatably for a
    seed: identities uniform over the split, poses uniform over the options."""
    rng, modes, a, d = _draw(n, seed, split, actions, directions)
    attrs, f = attributes_of(modes), rng.integers(0, sk.N_FRAMES, size=n)
    labels = SpriteLabels(attrs, modes, a, d, f, sk.canonical_poses(size)[a, d, f])
    return Sprites(render(attrs, a, d, f, size), labels)


def sample_sequences(n: int, size: int = 64, seed: int = 0, split: str = "all",
                     actions: tuple[str, ...] | None = None,
                     directions: tuple[str, ...] | None = None) -> Sprites:
    """Draw ``n`` whole animation cycles (n, 8, size, size, 3), each one character doing one action in
    one direction, frames 0..7 in order; every label gains a T=8 axis."""
    _, modes, a, d = _draw(n, seed, split, actions, directions)
    t, rep = sk.N_FRAMES, np.repeat
    flat = render(attributes_of(rep(modes, t)), rep(a, t), rep(d, t), np.tile(np.arange(t), n), size)
    labels = SpriteLabels(*(rep(v[:, None], t, axis=1) for v in (attributes_of(modes), modes, a, d)),
                          frame=np.tile(np.arange(t), (n, 1)), skeleton=sk.canonical_poses(size)[a, d])
    return Sprites(flat.reshape(n, t, size, size, 3), labels)


def cycle(attributes: np.ndarray, action: str = "walk", direction: str = "front",
          size: int = 64) -> np.ndarray:
    """One character's whole animation cycle: uint8 frames (8, size, size, 3)."""
    attrs = np.broadcast_to(np.asarray(attributes).reshape(1, -1), (sk.N_FRAMES, len(ATTRIBUTES)))
    return render(attrs, action, direction, np.arange(sk.N_FRAMES), size)


def all_characters(action: str = "walk", direction: str = "front", frame: int = 0,
                   size: int = 64) -> np.ndarray:
    """Every one of the 1296 characters in one pose, in mode order: (1296, size, size, 3)."""
    return render(attributes_of(np.arange(N_MODES)), action, direction, frame, size)
