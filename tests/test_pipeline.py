"""The tf.data pipeline: scaling to [-1, 1] and back, batching, seeded shuffling, label-aware flips."""

from __future__ import annotations

import numpy as np
import pytest

from charlib.data import skeleton as sk
from charlib.data import sprites as sp
from charlib.data.pipeline import make_dataset, to_float, to_uint8
from charlib.errors import ShapeError


def test_to_float_maps_pixel_range_onto_tanh_range_and_back():
    pixels = np.array([[[[0, 127, 255]]]], dtype=np.uint8)
    x = to_float(pixels).numpy()
    np.testing.assert_allclose(x, [[[[-1.0, 127 / 127.5 - 1, 1.0]]]], atol=1e-6)
    np.testing.assert_array_equal(to_uint8(x), pixels)
    all_values = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1).repeat(3, axis=-1)
    np.testing.assert_array_equal(to_uint8(to_float(all_values)), all_values)


def test_to_uint8_clips_out_of_range_and_refuses_nan():
    np.testing.assert_array_equal(to_uint8(np.array([-3.0, 3.0])), [0, 255])
    with pytest.raises(ShapeError, match="NaN"):
        to_uint8(np.array([0.0, np.nan]))


def test_batches_have_fixed_shape_dtype_and_range():
    s = sp.sample_sprites(40, size=32, seed=0)
    ds = make_dataset(s.images, batch_size=16, shuffle=False)
    batches = list(ds)
    assert len(batches) == 2  # the remainder of 8 is dropped
    assert batches[0].shape == (16, 32, 32, 3) and batches[0].dtype.name == "float32"
    assert float(np.min(batches[0])) >= -1.0 and float(np.max(batches[0])) <= 1.0


def test_shuffle_is_repeatable_for_a_seed():
    s = sp.sample_sprites(64, size=16, seed=0)
    labels = {"mode": s.labels.mode}
    order = [np.concatenate([y["mode"].numpy() for _, y in make_dataset(s.images, labels,
                                                                         batch_size=8, seed=3)])
             for _ in range(2)]
    np.testing.assert_array_equal(order[0], order[1])
    assert sorted(order[0]) == sorted(s.labels.mode)
    assert not np.array_equal(order[0], s.labels.mode)


def test_flips_turn_left_into_right_with_labels_and_skeletons_mirrored():
    size = 32
    s = sp.sample_sprites(200, size=size, seed=5)
    labels = {"direction": s.labels.direction, "skeleton": s.labels.skeleton,
              "mode": s.labels.mode, "action": s.labels.action, "frame": s.labels.frame}
    ds = make_dataset(s.images, labels, batch_size=200, shuffle=False, flip=True, seed=1)
    images, out = next(iter(ds))
    images = to_uint8(images.numpy())
    direction = out["direction"].numpy()
    front = sk.DIRECTIONS.index("front")
    # front-facing sprites are never flipped; some side views are
    np.testing.assert_array_equal(direction == front, s.labels.direction == front)
    flipped = direction != s.labels.direction
    assert 0 < flipped.sum() < (s.labels.direction != front).sum()
    # every output is exactly the sprite its (possibly changed) labels describe
    expected = sp.render(sp.attributes_of(out["mode"].numpy()), out["action"].numpy(), direction,
                         out["frame"].numpy(), size)
    np.testing.assert_array_equal(images, expected)
    expected_skeleton = sk.canonical_poses(size)[out["action"].numpy(), direction,
                                                 out["frame"].numpy()]
    np.testing.assert_allclose(out["skeleton"].numpy(), expected_skeleton, atol=1e-4)


def test_flip_without_labels_flips_about_half():
    s = sp.sample_sprites(100, size=16, seed=2, directions=("left",))
    ds = make_dataset(s.images, batch_size=100, shuffle=False, flip=True, seed=0)
    out = to_uint8(next(iter(ds)).numpy())
    same = np.all(out == s.images, axis=(1, 2, 3))
    mirrored = np.all(out == s.images[:, :, ::-1], axis=(1, 2, 3))
    assert np.all(same | mirrored) and 20 < mirrored.sum() < 80


@pytest.mark.parametrize(
    "images, message",
    [
        (np.zeros((4, 8, 8), np.uint8), "shape"),
        (np.zeros((4, 8, 8, 3), np.float32), "uint8"),
        (np.zeros((0, 8, 8, 3), np.uint8), "empty"),
        (np.zeros((3, 8, 8, 3), np.uint8), "batch_size"),
    ],
)
def test_bad_inputs_raise_clear_errors(images, message):
    with pytest.raises(ShapeError, match=message):
        make_dataset(images, batch_size=4)


def test_label_length_mismatch_is_refused():
    with pytest.raises(ShapeError, match="rows"):
        make_dataset(np.zeros((8, 8, 8, 3), np.uint8), {"mode": np.zeros(7)}, batch_size=4)
