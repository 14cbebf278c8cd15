"""charlib.viz.latent_sliders: one slider per chosen latent coordinate and a picture that follows them."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from charlib import viz
from charlib.errors import ShapeError


def _decode(z: np.ndarray) -> np.ndarray:
    # A toy decoder: the brightness of each colour channel follows z[0], z[1], z[2].
    z = np.asarray(z, np.float32)
    level = np.clip(128 + 40 * z[:, :3], 0, 255).astype(np.uint8)
    return np.broadcast_to(level[:, None, None, :], (len(z), 4, 4, 3)).copy()


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_png_bytes_round_trips_and_enlarges_without_blur():
    image = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10
    back = _pixels(viz.png_bytes(image, scale=4))
    assert back.shape == (8, 12, 3)
    np.testing.assert_array_equal(back[::4, ::4], image)


def test_png_bytes_rejects_a_batch_or_floats():
    with pytest.raises(ShapeError, match="uint8 of shape"):
        viz.png_bytes(np.zeros((2, 4, 4, 3), np.uint8))
    with pytest.raises(ShapeError, match="uint8 of shape"):
        viz.png_bytes(np.zeros((4, 4, 3), np.float32))


def test_sliders_start_at_the_code_and_moving_one_redraws_the_picture():
    z0 = np.array([0.5, -1.0, 0.0, 2.0], np.float32)
    panel = viz.latent_sliders(_decode, z0, dims=[0, 2], scale=2)
    picture, sliders = panel.children[0], panel.children[1].children
    assert [s.description for s in sliders] == ["z[0]", "z[2]"]
    assert [s.value for s in sliders] == pytest.approx([0.5, 0.0])
    np.testing.assert_array_equal(_pixels(picture.value)[0, 0], _decode(z0[None])[0, 0, 0])
    sliders[1].value = 2.0
    moved = z0.copy()
    moved[2] = 2.0
    np.testing.assert_array_equal(_pixels(picture.value)[0, 0], _decode(moved[None])[0, 0, 0])
    assert z0[2] == 0.0  # the caller's code is not modified


def test_a_code_outside_the_slider_range_is_clipped_so_picture_and_sliders_agree():
    panel = viz.latent_sliders(_decode, np.array([5.0, 0.0, 0.0]), dims=[0], limit=3.0)
    assert panel.children[1].children[0].value == 3.0
    expected = _decode(np.array([[3.0, 0.0, 0.0]]))[0, 0, 0]
    np.testing.assert_array_equal(_pixels(panel.children[0].value)[0, 0], expected)


@pytest.mark.parametrize("z0, dims", [(np.zeros((2, 4)), [0]), (np.zeros(4), [4]), (np.zeros(4), [])])
def test_bad_codes_or_dimensions_raise_a_clear_error(z0, dims):
    with pytest.raises(ShapeError):
        viz.latent_sliders(_decode, z0, dims)
