"""Tests for charlib.data.outside: the two outside image sets and their mode readers."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from charlib.data import outside
from charlib.data.folders import load_image_folder
from charlib.errors import ShapeError

N = 300  # renders per set: enough for a 99% reading rate to mean something, and fast


@pytest.fixture(scope="module", params=outside.SET_NAMES)
def rendered(request):
    images, modes = outside.render(request.param, N, seed=11)
    return request.param, images, modes


def test_each_reader_reads_its_own_renders(rendered):
    name, images, modes = rendered
    reading = outside.read_modes(name, images)
    assert images.shape == (N, 32, 32, 3) and images.dtype == np.uint8
    assert (reading.modes == modes).mean() >= 0.99
    assert np.mean(reading.modes >= 0) >= 0.99
    assert reading.counts().sum() == (reading.modes >= 0).sum()


def test_mirrored_images_read_as_the_same_modes(rendered):
    """The trainers flip images at random: a flipped training image must keep its mode."""
    name, images, modes = rendered
    reading = outside.read_modes(name, images[:, :, ::-1])
    assert (reading.modes == modes).mean() >= 0.99


def test_swapping_glyph_channels_swaps_the_digits_read():
    images, modes = outside.render("stacked_glyphs", 100, seed=3)
    reading = outside.read_modes("stacked_glyphs", images[..., ::-1])  # R <-> B
    swapped = modes % 10 * 100 + modes // 10 % 10 * 10 + modes // 100
    assert (reading.modes == swapped).mean() >= 0.99
    assert (reading.modes == modes).mean() < 0.2  # it reads the pixels, not a fixed answer


def test_recolouring_a_shape_changes_the_colour_read():
    images, modes = outside.render("shapes", 100, seed=4)
    recoloured = outside.read_modes("shapes", images[..., [1, 2, 0]]).modes  # red -> blue, ...
    pairs = [(outside.describe_shape_mode(new), outside.describe_shape_mode(old))
             for new, old in zip(recoloured, modes, strict=True) if new >= 0]
    assert len(pairs) > 80
    assert all(new[0] == old[0] for new, old in pairs)  # the shape stays...
    assert np.mean([new[1:] == old[1:] for new, old in pairs]) < 0.2  # ...its colours move


@pytest.mark.parametrize("name", outside.SET_NAMES)
def test_blank_grey_and_noise_images_read_as_no_mode(name):
    rng = np.random.default_rng(0)
    wrong = np.concatenate([np.zeros((4, 32, 32, 3), np.uint8), np.full((4, 32, 32, 3), 128, np.uint8),
                            np.full((4, 32, 32, 3), 255, np.uint8),
                            rng.integers(0, 256, (40, 32, 32, 3), dtype=np.uint8)])
    reading = outside.read_modes(name, wrong)
    assert (reading.modes == -1).all()
    assert (reading.confidence == 0).all()


@pytest.mark.parametrize("name", outside.SET_NAMES)
def test_images_of_the_other_set_rarely_read_as_a_mode(name):
    other = next(n for n in outside.SET_NAMES if n != name)
    reading = outside.read_modes(name, outside.render(other, 100, seed=5)[0])
    assert np.mean(reading.modes >= 0) <= 0.1


def test_blends_of_two_glyph_images_read_rarely_and_with_low_confidence(rendered):
    name, images, _ = rendered
    half = N // 2
    blends = ((images[:half].astype(np.int32) + images[half:2 * half]) // 2).astype(np.uint8)
    real, blended = outside.read_modes(name, images), outside.read_modes(name, blends)
    assert np.mean(blended.modes >= 0) <= 0.3
    if (blended.modes >= 0).any():
        assert np.median(blended.confidence[blended.modes >= 0]) < np.median(real.confidence)


def test_shape_modes_are_numbered_one_to_one():
    described = {outside.describe_shape_mode(m) for m in range(outside.n_modes("shapes"))}
    assert len(described) == outside.n_modes("shapes") == 336
    assert all(colour != background for _, colour, background in described)


def test_modes_are_drawn_over_all_of_k():
    _, modes = outside.render("shapes", 3000, seed=0)
    assert modes.min() >= 0 and modes.max() < 336
    assert len(np.unique(modes)) > 330


def test_written_folder_loads_and_its_labels_are_the_modes_read(tmp_path):
    folder = outside.write_folder("shapes", tmp_path / "shapes", n=40, seed=2)
    images, report = load_image_folder(folder, size=32)
    assert images.shape == (40, 32, 32, 3) and not report.skipped
    with open(folder / "labels.csv", newline="") as fh:
        labels = {row["file"]: int(row["mode"]) for row in csv.DictReader(fh)}
    expected = np.array([labels[path.name] for path in report.loaded])
    assert (outside.read_modes("shapes", images).modes == expected).all()


def test_bad_names_and_shapes_are_refused():
    with pytest.raises(ShapeError, match="unknown outside set"):
        outside.render("mnist", 3)
    with pytest.raises(ShapeError, match="32, 32, 3"):
        outside.read_modes("shapes", np.zeros((2, 64, 64, 3), np.uint8))
    with pytest.raises(ShapeError, match="uint8"):
        outside.read_modes("stacked_glyphs", np.zeros((2, 32, 32, 3), np.float32))


@pytest.mark.parametrize("name", outside.SET_NAMES)
def test_no_images_read_as_an_empty_reading(name):
    reading = outside.read_modes(name, np.zeros((0, 32, 32, 3), np.uint8))
    assert len(reading.modes) == 0 and reading.counts().sum() == 0
