"""The memorisation check: a copying "generator" is caught, random images and new real images are not."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from charlib.data.sprites import sample_sprites
from charlib.diagnostics.memorisation import (
    mean_pairwise_distance,
    memorisation_check,
    memorisation_report,
    nearest_neighbours,
    pixel_features,
    plot_nearest,
    split_holdout,
)
from charlib.errors import ShapeError

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def sprites():
    images = sample_sprites(240, size=16, seed=0).images
    return images[:120], images[120:]  # train, held-out: same source, different images


def test_nearest_neighbours_match_brute_force():
    rng = np.random.default_rng(0)
    q, r = rng.standard_normal((17, 5)), rng.standard_normal((40, 5))
    nb = nearest_neighbours(q, r, k=3, batch_size=4)
    brute = np.linalg.norm(q[:, None] - r[None], axis=-1)
    np.testing.assert_array_equal(nb.indices, np.argsort(brute, axis=1)[:, :3])
    np.testing.assert_allclose(nb.distances, np.sort(brute, axis=1)[:, :3], rtol=1e-4, atol=1e-5)


def test_k_equal_to_the_reference_size_sorts_all():
    r = np.arange(4, dtype=np.float32)[:, None]
    nb = nearest_neighbours(np.array([[2.2]], np.float32), r, k=4)
    assert nb.indices.tolist() == [[2, 3, 1, 0]]


def test_pixel_distance_is_rms_difference_of_unit_intensities():
    black = np.zeros((1, 4, 4, 3), np.uint8)
    white = np.full((1, 4, 4, 3), 255, np.uint8)
    d = np.linalg.norm(pixel_features(black) - pixel_features(white))
    assert d == pytest.approx(1.0)


def test_a_copying_generator_is_flagged(sprites):
    train, heldout = sprites
    copies = train[np.random.default_rng(1).integers(0, len(train), 64)]
    report = memorisation_report(copies, train, heldout)
    assert np.all(report.sample_nn < 1e-6)
    assert report.nn_ratio < 0.01 and report.copy_fraction == 1.0


def test_new_real_images_are_not_flagged(sprites):
    train, heldout = sprites
    fresh = sample_sprites(64, size=16, seed=5).images
    report = memorisation_report(fresh, train, heldout)
    assert 0.6 < report.nn_ratio < 1.6
    assert report.copy_fraction < 0.25


def test_random_noise_is_far_from_the_training_set(sprites):
    train, heldout = sprites
    noise = np.random.default_rng(2).integers(0, 256, (64, 16, 16, 3), dtype=np.uint8)
    report = memorisation_report(noise, train, heldout)
    assert report.nn_ratio > 2 and report.copy_fraction == 0.0


def test_slightly_changed_copies_sit_closer_than_new_images(sprites):
    train, heldout = sprites
    noisy = np.clip(train[:64].astype(int) + np.random.default_rng(3).integers(-8, 9, train[:64].shape),
                    0, 255).astype(np.uint8)
    report = memorisation_report(noisy, train, heldout)
    assert report.nn_ratio < 0.5
    assert np.all(report.neighbours.indices[:, 0] == np.arange(64))


def test_feature_space_uses_the_given_function(sprites):
    train, heldout = sprites
    calls = []

    def mean_colour(images):
        calls.append(len(images))
        return images.reshape(len(images), -1, 3).mean(axis=1)

    reports = memorisation_check(train[:10], train, heldout, features=mean_colour)
    assert set(reports) == {"pixel", "features"}
    assert reports["features"].space == "features" and sorted(calls) == [10, 120, 120]
    assert np.all(reports["features"].sample_nn < 1e-5)


def test_without_heldout_there_is_no_ratio(sprites):
    train, _ = sprites
    report = memorisation_report(train[:5], train)
    assert report.nn_ratio is None and report.copy_fraction is None
    assert "held-out" not in report.summary()


def test_bad_shapes_are_clear_errors(sprites):
    train, _ = sprites
    with pytest.raises(ShapeError, match="uint8"):
        memorisation_report(train.astype(np.float32), train)
    with pytest.raises(ShapeError, match="differ in size"):
        memorisation_report(sample_sprites(4, size=32, seed=0).images, train)
    with pytest.raises(ShapeError, match="k must be"):
        nearest_neighbours(np.zeros((2, 3)), np.zeros((2, 3)), k=3)


def test_split_holdout_is_disjoint_and_repeatable(sprites):
    train, _ = sprites
    a, b = split_holdout(train, 0.25, seed=0)
    a2, _ = split_holdout(train, 0.25, seed=0)
    assert len(a) == 90 and len(b) == 30
    np.testing.assert_array_equal(a, a2)
    with pytest.raises(ShapeError):
        split_holdout(train[:1], 0.5)


def test_plot_shows_each_sample_with_its_neighbours(sprites):
    train, heldout = sprites
    report = memorisation_report(train[:4], train, heldout, k=3)
    fig = plot_nearest(train[:4], train, report, n=4, caption="copies")
    assert len(fig.axes) == 4 * 4
    assert fig.axes[1].get_title() == "d=0.000"


def test_diversity_of_copies_of_one_image_is_zero_and_of_sprites_is_not(sprites):
    train, _ = sprites
    assert mean_pairwise_distance(pixel_features(np.repeat(train[:1], 10, axis=0))) == 0.0
    assert mean_pairwise_distance(pixel_features(train)) > 0.05
