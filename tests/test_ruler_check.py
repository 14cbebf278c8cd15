"""benchmarks/ruler_check.py: its blur and degraded sets are what its table says they are."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def ruler_check(benchmark_script):
    return benchmark_script("ruler_check")


def test_gaussian_blur_keeps_flat_images_and_spreads_a_dot_by_sigma(ruler_check):
    flat = np.full((2, 9, 9, 3), 0.4)
    np.testing.assert_allclose(ruler_check.gaussian_blur(flat, 0.8), 0.4)
    dot = np.zeros((1, 21, 21, 1))
    dot[0, 10, 10] = 1.0
    out = ruler_check.gaussian_blur(dot, 1.2)[0, :, :, 0]
    assert out.sum() == pytest.approx(1.0)
    rows = np.arange(21) - 10
    assert np.sqrt((out.sum(axis=1) * rows**2).sum()) == pytest.approx(1.2, rel=0.05)  # σ along y


def test_degraded_sets_share_sprites_and_labels_and_stay_uint8(ruler_check):
    sets, labels = ruler_check.degraded_sets(32)
    assert len(sets) == 2 + len(ruler_check.BLURS) + 1 and len(labels.mode) == 32
    for images in sets.values():
        assert images.dtype == np.uint8 and images.shape == sets["clean"].shape
    assert all(not np.array_equal(images, sets["clean"]) for name, images in sets.items() if name != "clean")
