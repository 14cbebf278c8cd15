"""DiffAugment ops: shapes, value ranges, what each op does to the pixels, determinism, gradients."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from charlib import augment
from charlib.augment import AugmentError, diff_augment, parse_policy

SEED = tf.constant([3, 7], tf.int64)


@pytest.fixture
def images():
    return tf.random.stateless_uniform((6, 16, 16, 3), seed=[1, 2], minval=-1.0, maxval=1.0)


@pytest.mark.parametrize("op", [augment.brightness, augment.saturation, augment.contrast,
                                augment.translation, augment.cutout])
def test_each_op_keeps_the_shape_and_changes_the_images(op, images):
    out = op(images, SEED)
    assert out.shape == images.shape and out.dtype == images.dtype
    assert not np.allclose(out, images)


def test_brightness_adds_one_offset_per_image_within_half(images):
    delta = (augment.brightness(images, SEED) - images).numpy()
    per_image = delta.reshape(len(delta), -1)
    np.testing.assert_allclose(per_image, per_image[:, :1].repeat(per_image.shape[1], axis=1), atol=1e-6)
    assert np.all(np.abs(per_image) <= 0.5)
    assert np.unique(per_image[:, 0].round(5)).size == len(delta)  # each image its own offset


def test_saturation_keeps_grey_values_and_contrast_keeps_the_mean(images):
    grey = tf.reduce_mean(images, axis=3)
    np.testing.assert_allclose(tf.reduce_mean(augment.saturation(images, SEED), axis=3), grey, atol=1e-5)
    means = tf.reduce_mean(images, axis=[1, 2, 3])
    np.testing.assert_allclose(tf.reduce_mean(augment.contrast(images, SEED), axis=[1, 2, 3]), means,
                               atol=1e-5)


def test_colour_of_a_grey_image_stays_grey():
    grey = tf.fill((4, 8, 8, 3), 0.25)
    out = diff_augment(grey, "color", SEED).numpy()
    np.testing.assert_allclose(out[..., 0], out[..., 1], atol=1e-6)
    np.testing.assert_allclose(out[..., 1], out[..., 2], atol=1e-6)


def test_translation_shifts_content_by_whole_pixels_and_fills_with_zero():
    x = np.zeros((8, 16, 16, 1), np.float32)
    x[:, 7, 9, 0] = 1.0  # one bright pixel, at the same place in every image
    out = augment.translation(tf.constant(x), SEED).numpy()
    shifts = set()
    for img in out:
        (r,), (c,) = np.nonzero(img[..., 0] == 1.0)
        assert abs(r - 7) <= 2 and abs(c - 9) <= 2  # 1/8 of 16 pixels
        assert np.count_nonzero(img) == 1  # moved, not copied; the rest stays 0
        shifts.add((r - 7, c - 9))
    assert len(shifts) > 1


def test_translation_of_a_full_image_leaves_a_zero_border_on_the_side_it_moved_from():
    x = tf.ones((16, 16, 16, 3))
    out = augment.translation(x, tf.constant([0, 1], tf.int64)).numpy()
    counts = (out[..., 0] == 0).sum(axis=(1, 2))
    assert counts.max() > 0 and np.all(counts <= 16 * 16 - 14 * 14)


def test_cutout_zeroes_one_square_of_half_the_side_clipped_at_the_border():
    x = tf.ones((32, 16, 16, 3))
    out = augment.cutout(x, SEED).numpy()
    for img in out:
        rows, cols = np.nonzero(img[..., 0] == 0)
        assert rows.size > 0 and np.all(img[..., 0][img[..., 0] != 0] == 1.0)
        h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert h <= 8 and w <= 8 and rows.size == h * w  # a filled rectangle, at most 8x8
        assert np.all(img[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1] == 0)
    assert any((img[..., 0] == 0).sum() == 64 for img in out)  # away from the border: the full square


def test_same_seed_same_augmentation_other_seed_other(images):
    a = diff_augment(images, "color,translation,cutout", SEED)
    b = diff_augment(images, "color,translation,cutout", SEED)
    c = diff_augment(images, "color,translation,cutout", tf.constant([3, 8], tf.int64))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_gradients_flow_through_every_op(images):
    x = tf.Variable(images)
    with tf.GradientTape() as tape:
        y = diff_augment(x, "color,translation,cutout", SEED)
        loss = tf.reduce_sum(y * tf.random.stateless_normal(y.shape, seed=[0, 0]))
    grad = tape.gradient(loss, x)
    assert grad is not None and np.all(np.isfinite(grad))
    assert np.count_nonzero(grad.numpy()) > 0.3 * grad.numpy().size


def test_works_inside_tf_function_with_an_unknown_batch_size(images):
    fn = tf.function(lambda x, s: diff_augment(x, "translation,cutout", s),
                     input_signature=[tf.TensorSpec((None, 16, 16, 3)), tf.TensorSpec((2,), tf.int64)])
    np.testing.assert_allclose(fn(images, SEED), diff_augment(images, "translation,cutout", SEED))


def test_policy_parsing_accepts_spaces_and_empty_and_names_unknown_parts():
    assert parse_policy(" color , cutout ") == ("color", "cutout")
    assert parse_policy("") == ()
    with pytest.raises(AugmentError, match="'colour'"):
        parse_policy("colour,translation")


def test_empty_policy_is_the_identity(images):
    np.testing.assert_array_equal(diff_augment(images, "", SEED), images)
