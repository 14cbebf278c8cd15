"""Motion as data: varied skeleton performances, the sequence VAE over joints, and motion statistics."""

from __future__ import annotations

import numpy as np
import pytest

from charlib.data import skeleton as sk
from charlib.data import sprites as sp
from charlib.diagnostics import motion as dm
from charlib.errors import ShapeError
from charlib.models.motion import MotionVAE, from_body_units, motion_conditions, to_body_units
from charlib.training.motion import train_motion


def test_the_default_style_is_the_canonical_performance():
    for action in sk.ACTIONS:
        for frame in range(sk.N_FRAMES):
            np.testing.assert_array_equal(sk.pose_3d(action, frame, sk.MotionStyle()),
                                          sk.pose_3d(action, frame))
    walk = sk.motion_cycles([sk.CANONICAL_STYLE], "walk", "left", 64)[0]
    np.testing.assert_allclose(walk, sk.canonical_poses(64)[0, 1], atol=1e-5)


def test_sampled_motions_vary_and_repeat_for_a_seed():
    a, acts, dirs = sk.sample_motion(40, size=64, seed=3)
    b, _, _ = sk.sample_motion(40, size=64, seed=3)
    c, _, _ = sk.sample_motion(40, size=64, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    walks = a[acts == sk.ACTIONS.index("walk")]
    assert len(walks) >= 2 and len(np.unique(walks.round(3).reshape(len(walks), -1), axis=0)) == len(walks)
    assert set(acts) <= {0, 1, 2} and set(dirs) <= {0, 1, 2}


def test_style_fields_change_what_they_name():
    base = sk.pose_3d("jump", 4)
    high = sk.pose_3d("jump", 4, sk.MotionStyle(jump_height=1.5))
    assert high[sk.JOINT_INDEX["pelvis"], 1] > base[sk.JOINT_INDEX["pelvis"], 1] + 0.05
    long_legs = sk.pose_3d("walk", 0, sk.MotionStyle(limbs=1.1))
    np.testing.assert_allclose(sk.bone_lengths(long_legs)[10], 1.1 * sk.bone_lengths(base)[10])
    # a phase of one frame is the next canonical frame
    np.testing.assert_allclose(sk.pose_3d("walk", 2, sk.MotionStyle(phase=1.0)), sk.pose_3d("walk", 3),
                               atol=1e-12)


def test_varied_walks_keep_feet_on_the_ground_and_render():
    joints, acts, _ = sk.sample_motion(30, size=64, seed=0, actions=("walk",))
    assert dm.ground_contact_error(joints, 64) < 0.2
    frames = sp.render_skeleton(joints[0], np.array([0, 1, 2, 3]), "front", 64)
    assert frames.shape == (8, 64, 64, 3) and len(np.unique(frames.reshape(8, -1), axis=0)) > 4


def test_body_units_round_trip():
    joints = sk.canonical_poses(32)[1, 2]
    units = to_body_units(joints, 32)
    assert 0.0 < units[:, sk.JOINT_INDEX["head"], 1].min() < 1.2
    np.testing.assert_allclose(from_body_units(units, 32), joints, atol=1e-4)


def test_motion_conditions_are_one_hot_and_checked():
    c = motion_conditions(np.array([0, 2]), 1)
    np.testing.assert_array_equal(c, [[1, 0, 0, 0, 1, 0], [0, 0, 1, 0, 1, 0]])
    with pytest.raises(ShapeError):
        motion_conditions(3, 0)


def test_motion_statistics_tell_real_from_broken_motion():
    joints, acts, _ = sk.sample_motion(60, size=64, seed=1)
    real = dm.motion_statistics(joints, acts, 64)
    assert real["bone_length_variation"] < 0.05 and real["ground_contact_px"] < 0.2
    assert 0.5 < real["loop_closure"] < 1.5
    noisy = joints + np.random.default_rng(0).normal(0, 2.0, joints.shape)
    broken = dm.motion_statistics(noisy, acts, 64)
    assert broken["bone_length_variation"] > 3 * real["bone_length_variation"]
    assert broken["ground_contact_px"] > 1.0
    frozen = np.repeat(joints[:, :1], sk.N_FRAMES, axis=1)
    assert dm.joint_speed(frozen) == 0.0
    assert dm.nearest_clip_rmse(joints[:5], joints).max() < 1e-3


def test_motion_statistics_reject_bad_shapes():
    with pytest.raises(ShapeError):
        dm.joint_speed(np.zeros((4, 8, 14, 2)))


def test_motion_vae_learns_to_reconstruct_and_samples_new_clips():
    joints, acts, dirs = sk.sample_motion(256, size=64, seed=0, actions=("walk",), directions=("left",))
    model = MotionVAE(latent_dim=4, units=32)
    before = np.sqrt(np.mean((model.reconstruct(joints[:32], acts[:32], dirs[:32]) - joints[:32]) ** 2))
    history = train_motion(model, joints, acts, dirs, 64, steps=150, batch_size=32, log_every=50, seed=0,
                           progress=False)
    assert [row["step"] for row in history] == [50.0, 100.0, 150.0]
    after = np.sqrt(np.mean((model.reconstruct(joints[:32], acts[:32], dirs[:32]) - joints[:32]) ** 2))
    assert after < 0.5 * before
    new = model.sample(6, 0, 1, size=64, seed=1)
    assert new.shape == (6, 8, 15, 2) and np.all(np.isfinite(new))
    np.testing.assert_array_equal(new, model.sample(6, 0, 1, size=64, seed=1))
    assert not np.allclose(new[0], new[1])


def test_motion_vae_refuses_clips_of_the_wrong_shape():
    with pytest.raises(ShapeError):
        train_motion(MotionVAE(latent_dim=2, units=8), np.zeros((64, 8, 15)), np.zeros(64, int),
                     np.zeros(64, int), 64, steps=1)


def test_an_ex_post_latent_prior_samples_like_the_training_codes():
    joints, acts, dirs = sk.sample_motion(128, size=64, seed=0, actions=("walk",), directions=("left",))
    model = MotionVAE(latent_dim=4, units=16)
    train_motion(model, joints, acts, dirs, 64, steps=20, batch_size=32, log_every=20, seed=0, progress=False)
    priors = model.fit_latent_prior(joints, acts, dirs, 64, n_components=2)
    assert set(priors) == {(0, 1)}
    codes = model.encode_means(joints, acts, dirs, 64)
    z = priors[(0, 1)].sample(2000, seed=0)
    np.testing.assert_allclose(z.mean(0), codes.mean(0), atol=0.15 * codes.std(0).max() + 0.05)
    clips = model.sample(5, 0, 1, 64, seed=2)
    assert clips.shape == (5, 8, 15, 2) and np.all(np.isfinite(clips))
    np.testing.assert_array_equal(clips, model.sample(5, 0, 1, 64, seed=2))
    # a condition without a fitted mixture falls back to N(0, I)
    assert np.all(np.isfinite(model.sample(2, 2, 0, 64, seed=0)))
