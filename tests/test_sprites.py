"""The procedural sprite set: attributes and modes, rendering, determinism and skeletons."""

from __future__ import annotations

import numpy as np
import pytest

from charlib.data import skeleton as sk
from charlib.data import sprites as sp
from charlib.errors import ShapeError


def test_mode_count_is_product_of_attribute_sizes_and_in_range():
    assert sp.N_MODES == 6 * 6 * 6 * 6 == 1296
    assert 500 <= sp.N_MODES <= 2000
    assert [a.name for a in sp.ATTRIBUTES] == ["skin", "hair", "top", "bottom"]


def test_attributes_to_mode_round_trip_covers_every_mode_once():
    modes = np.arange(sp.N_MODES)
    attrs = sp.attributes_of(modes)
    assert attrs.shape == (sp.N_MODES, 4)
    np.testing.assert_array_equal(sp.mode_id(attrs), modes)
    assert len({tuple(a) for a in attrs}) == sp.N_MODES


def test_mode_id_rejects_out_of_range_and_wrong_shape():
    with pytest.raises(ShapeError):
        sp.mode_id(np.array([0, 0, 0, 6]))
    with pytest.raises(ShapeError):
        sp.mode_id(np.array([0, 0, 0]))
    with pytest.raises(ShapeError):
        sp.attributes_of(1296)


def test_identity_split_is_fixed_disjoint_and_covers_every_value():
    train, test = sp.identity_split()
    assert len(train) == 1000 and len(test) == 296
    assert not set(train) & set(test)
    assert set(train) | set(test) == set(range(sp.N_MODES))
    for split in (train, test):
        attrs = sp.attributes_of(split)
        for k, size in enumerate(sp.ATTRIBUTE_SIZES):
            assert set(attrs[:, k]) == set(range(size))


def test_render_shapes_dtype_and_sizes():
    attrs = sp.attributes_of(np.array([0, 5, 1295]))
    for size in (32, 64):
        images = sp.render(attrs, "walk", "left", 3, size)
        assert images.shape == (3, size, size, 3) and images.dtype == np.uint8


def test_sampling_is_deterministic_for_a_seed_and_differs_across_seeds():
    a = sp.sample_sprites(50, size=32, seed=7)
    b = sp.sample_sprites(50, size=32, seed=7)
    c = sp.sample_sprites(50, size=32, seed=8)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.labels.mode, b.labels.mode)
    assert not np.array_equal(a.images, c.images)


def test_every_mode_renders_to_a_distinct_image_at_32_pixels():
    images = sp.all_characters(size=32)
    flat = images.reshape(len(images), -1)
    assert len(np.unique(flat, axis=0)) == sp.N_MODES


def test_every_mode_is_reachable_by_sampling():
    s = sp.sample_sprites(20_000, size=16, seed=0)
    assert set(s.labels.mode) == set(range(sp.N_MODES))


def test_each_attribute_value_changes_the_picture():
    base = np.array([0, 0, 0, 0])
    for k, size in enumerate(sp.ATTRIBUTE_SIZES):
        variants = np.repeat(base[None], size, axis=0)
        variants[:, k] = np.arange(size)
        images = sp.render(variants, "walk", "front", 0, 32).reshape(size, -1)
        assert len(np.unique(images, axis=0)) == size, sp.ATTRIBUTES[k].name


def test_split_sampling_draws_only_from_that_split():
    train, test = sp.identity_split()
    s = sp.sample_sprites(500, size=16, seed=1, split="test")
    assert set(s.labels.mode) <= set(test)
    with pytest.raises(ValueError, match="split"):
        sp.sample_sprites(5, split="validation")


def test_labels_match_requested_actions_and_directions():
    s = sp.sample_sprites(200, size=32, seed=3, actions=("jump",), directions=("left", "right"))
    assert set(s.labels.action) == {sk.ACTIONS.index("jump")}
    assert set(s.labels.direction) == {1, 2}
    np.testing.assert_array_equal(s.labels.mode, sp.mode_id(s.labels.attributes))
    assert s.labels.skeleton.shape == (200, 15, 2) and s.labels.skeleton.dtype == np.float32


def test_sequences_have_time_axis_and_one_identity_per_sequence():
    s = sp.sample_sequences(4, size=32, seed=2)
    assert s.images.shape == (4, 8, 32, 32, 3)
    assert s.labels.skeleton.shape == (4, 8, 15, 2)
    np.testing.assert_array_equal(s.labels.frame, np.tile(np.arange(8), (4, 1)))
    assert np.all(s.labels.mode == s.labels.mode[:, :1])
    # frames of a cycle differ (the character moves)
    assert len(np.unique(s.images[0].reshape(8, -1), axis=0)) > 1


def test_right_view_is_the_mirror_of_the_left_view():
    attrs = sp.attributes_of(np.arange(0, sp.N_MODES, 37))
    for action in sk.ACTIONS:
        for frame in range(sk.N_FRAMES):
            left = sp.render(attrs, action, "left", frame, 32)
            right = sp.render(attrs, action, "right", frame, 32)
            np.testing.assert_array_equal(left[:, :, ::-1], right)


@pytest.mark.parametrize("size", [32, 64])
def test_every_joint_lies_on_the_drawn_body(size):
    """The skeleton is consistent with the frame: every joint sits on a body pixel."""
    maps = sp.canonical_part_maps(size)
    poses = sk.canonical_poses(size)
    for a in range(len(sk.ACTIONS)):
        for d in range(len(sk.DIRECTIONS)):
            for f in range(sk.N_FRAMES):
                for h in range(6):
                    parts = maps[a, d, f, h, 0]
                    cols = np.clip(poses[a, d, f, :, 0].astype(int), 0, size - 1)
                    rows = np.clip(poses[a, d, f, :, 1].astype(int), 0, size - 1)
                    on = parts[rows, cols]
                    assert np.all(on > sp.P["outline"]), (a, d, f, h, on)
                    head = on[sk.JOINT_INDEX["head"]]
                    assert head in (sp.P["face"], sp.P["hair"], sp.P["eye"], sp.P["hand"],
                                    sp.P["forearm"], sp.P["upper_arm"])


def test_body_stays_inside_the_frame_with_background_border():
    for size in (32, 64):
        maps = sp.canonical_part_maps(size)
        assert np.all(maps[..., 0, :] == sp.P["background"])
        assert np.all(maps[..., :, 0] == sp.P["background"])
        assert np.all(maps[..., -1, :] == sp.P["background"])
        assert np.all(maps[..., :, -1] == sp.P["background"])


def test_bones_keep_their_lengths_in_every_pose():
    lengths = np.array([[sk.bone_lengths(sk.pose_3d(a, f)) for f in range(sk.N_FRAMES)]
                        for a in sk.ACTIONS])
    np.testing.assert_allclose(lengths, np.broadcast_to(lengths[0, 0], lengths.shape), atol=1e-9)


def test_walking_feet_touch_the_ground_and_legs_are_not_foreshortened_side_on():
    size = 64
    walk_left = sk.canonical_poses(size)[sk.ACTIONS.index("walk"), sk.DIRECTIONS.index("left")]
    ankles = [sk.JOINT_INDEX["l_ankle"], sk.JOINT_INDEX["r_ankle"]]
    ground = (sk.GROUND_Y - sk.ANKLE_HEIGHT * sk.UNIT_SCALE) * size
    np.testing.assert_allclose(walk_left[:, ankles, 1].max(axis=1), ground, atol=1e-3)
    thigh = np.linalg.norm(walk_left[:, sk.JOINT_INDEX["l_knee"]] - walk_left[:, sk.JOINT_INDEX["l_hip"]],
                           axis=-1)
    np.testing.assert_allclose(thigh, sk.THIGH * sk.UNIT_SCALE * size, rtol=1e-4)


def test_render_skeleton_reproduces_the_canonical_frame():
    attrs = np.array([2, 3, 4, 5])
    for action, direction, frame in [("walk", "left", 2), ("wave", "front", 5), ("jump", "right", 4)]:
        joints = sk.skeleton(action, direction, frame, 64)
        np.testing.assert_array_equal(
            sp.render_skeleton(joints, attrs, direction, 64)[0],
            sp.render(attrs, action, direction, frame, 64)[0],
        )


def test_render_skeleton_draws_an_edited_pose_differently():
    joints = sk.skeleton("walk", "front", 0, 64)
    raised = joints.copy()
    raised[sk.JOINT_INDEX["r_hand"]] = joints[sk.JOINT_INDEX["head"]] + [-14, -6]
    a = sp.render_skeleton(joints, np.array([0, 0, 0, 0]))
    b = sp.render_skeleton(raised, np.array([0, 0, 0, 0]))
    assert not np.array_equal(a, b)


def test_render_skeleton_rejects_bad_joints():
    with pytest.raises(ShapeError):
        sp.render_skeleton(np.zeros((14, 2)), np.array([0, 0, 0, 0]))
    bad = sk.skeleton("walk", "front", 0, 64)
    bad[0, 0] = np.nan
    with pytest.raises(ShapeError, match="NaN"):
        sp.render_skeleton(bad, np.array([0, 0, 0, 0]))


def test_render_rejects_unknown_names_and_tiny_sizes():
    with pytest.raises(ValueError, match="action"):
        sk.skeleton("dance", "front", 0)
    with pytest.raises(ShapeError):
        sp.render(np.array([0, 0, 0, 0]), size=8)
    with pytest.raises(ValueError, match="frame"):
        sk.pose_3d("walk", 8)


def test_mirror_joints_twice_is_identity():
    j = sk.skeleton("wave", "left", 3, 64)
    np.testing.assert_allclose(sk.mirror_joints(sk.mirror_joints(j, 64), 64), j)


def test_rows_name_the_labels():
    s = sp.sample_sprites(3, size=32, seed=0)
    row = s.labels.rows()[0]
    assert set(row) == {"index", "mode", "skin", "hair", "top", "bottom", "action", "direction",
                        "frame"}
    assert row["skin"] in sp.ATTRIBUTES[0].values


def test_every_pose_of_every_cycle_is_a_distinct_picture():
    attrs = np.array([1, 2, 3, 4])
    for action in sk.ACTIONS:
        for direction in sk.DIRECTIONS:
            frames = sp.cycle(attrs, action, direction, 64).reshape(sk.N_FRAMES, -1)
            assert len(np.unique(frames, axis=0)) == sk.N_FRAMES, (action, direction)


def test_describe_names_a_character():
    assert sp.describe(np.array([1, 2, 1, 5])) == "tan skin, red bun hair, blue t-shirt, teal skirt"
