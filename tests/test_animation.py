"""Latent walks (lerp, slerp, loops) and animation files (GIF, MP4) and inline players."""

from __future__ import annotations

import base64
import re
import sys

import imageio.v3 as iio
import numpy as np
import pytest

from charlib import animation as an
from charlib.data import sprites
from charlib.errors import CharlibError, ShapeError


def _frames(size: int = 32) -> np.ndarray:
    return sprites.cycle([1, 2, 1, 5], "walk", "left", size=size)


def test_lerp_hits_both_ends_and_the_midpoint():
    a, b = np.array([0.0, 2.0]), np.array([4.0, -2.0])
    path = an.lerp(a, b, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(path, [[0, 2], [2, 0], [4, -2]])
    np.testing.assert_allclose(an.lerp(a, b, 0.25), [1.0, 1.0])


def test_slerp_keeps_the_norm_on_a_great_circle():
    a, b = np.array([3.0, 0.0, 0.0]), np.array([0.0, 3.0, 0.0])
    path = an.slerp(a, b, np.linspace(0, 1, 9))
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 3.0, rtol=1e-9)
    np.testing.assert_allclose(path[0], a, atol=1e-12)
    np.testing.assert_allclose(path[-1], b, atol=1e-12)
    np.testing.assert_allclose(path[4], 3.0 * np.array([1, 1, 0]) / np.sqrt(2), atol=1e-12)


def test_slerp_angle_steps_are_equal():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(16), rng.standard_normal(16)
    path = an.slerp(a, b, np.linspace(0, 1, 6))
    unit = path / np.linalg.norm(path, axis=1, keepdims=True)
    angles = np.arccos(np.clip(np.sum(unit[1:] * unit[:-1], axis=1), -1, 1))
    np.testing.assert_allclose(angles, angles[0], rtol=1e-6)


def test_lerp_of_prior_samples_shrinks_the_norm_but_slerp_does_not():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(128), rng.standard_normal(128)
    mid_lerp, mid_slerp = an.lerp(a, b, 0.5), an.slerp(a, b, 0.5)
    shell = np.sqrt(128)
    assert np.linalg.norm(mid_lerp) < 0.8 * shell
    assert abs(np.linalg.norm(mid_slerp) - 0.5 * (np.linalg.norm(a) + np.linalg.norm(b))) < 1e-9


@pytest.mark.parametrize("b_factor", [1.0, 2.0, 1.0 + 1e-12])
def test_slerp_of_parallel_codes_is_finite_and_matches_lerp(b_factor):
    a = np.array([1.0, 2.0, 3.0])
    path = an.slerp(a, b_factor * a, np.linspace(0, 1, 5))
    assert np.all(np.isfinite(path))
    np.testing.assert_allclose(path, an.lerp(a, b_factor * a, np.linspace(0, 1, 5)))


def test_slerp_with_a_zero_code_is_finite():
    path = an.slerp(np.zeros(3), np.ones(3), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(path, [[0, 0, 0], [0.5, 0.5, 0.5], [1, 1, 1]])


def test_interpolating_codes_of_different_shapes_is_refused():
    with pytest.raises(ShapeError):
        an.slerp(np.ones(3), np.ones(4), 0.5)
    with pytest.raises(ShapeError):
        an.lerp(np.ones((2, 3)), np.ones((2, 3)), 0.5)


@pytest.mark.parametrize("method", ["lerp", "slerp"])
def test_latent_loop_passes_every_keyframe_and_closes_smoothly(method):
    keys = np.random.default_rng(2).standard_normal((3, 8))
    loop = an.latent_loop(keys, steps_between=5, method=method)
    assert loop.shape == (15, 8) and loop.dtype == np.float32
    np.testing.assert_allclose(loop[[0, 5, 10]], keys, atol=1e-6)
    # the last frame is one regular step before the first one: the loop closes without a jump
    interpolate = an.lerp if method == "lerp" else an.slerp
    np.testing.assert_allclose(loop[-1], interpolate(keys[2], keys[0], 0.8), atol=1e-6)


def test_latent_loop_rejects_bad_arguments():
    with pytest.raises(ShapeError):
        an.latent_loop(np.ones((1, 4)))
    with pytest.raises(ShapeError):
        an.latent_loop(np.ones((3, 4)), steps_between=0)
    with pytest.raises(CharlibError, match="interpolation"):
        an.latent_loop(np.ones((3, 4)), method="cubic")


def test_random_latent_loop_is_repeatable_for_a_seed():
    a = an.random_latent_loop(16, n_keyframes=3, steps_between=4, seed=7)
    b = an.random_latent_loop(16, n_keyframes=3, steps_between=4, seed=7)
    c = an.random_latent_loop(16, n_keyframes=3, steps_between=4, seed=8)
    assert a.shape == (12, 16)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_gif_round_trips_every_frame(tmp_path):
    frames = _frames()
    path = an.save_gif(frames, tmp_path / "walk.gif", scale=2)
    back = iio.imread(path, index=None)
    assert back.shape[:3] == (8, 64, 64)
    np.testing.assert_array_equal(back[3, ::2, ::2, :3], frames[3])


def test_mp4_holds_the_frames_at_even_size(tmp_path):
    frames = _frames()[:, :31, :31]  # odd sizes are padded for H.264
    path = an.save_mp4(frames, tmp_path / "walk.mp4", scale=3, loops=2)
    assert path.read_bytes()[4:8] == b"ftyp"
    video = iio.imread(path, plugin="FFMPEG")
    assert video.shape == (16, 94, 94, 3)
    # lossy, but close to the enlarged frames
    err = np.abs(video[2, :93, :93].astype(int) - np.repeat(np.repeat(frames[2], 3, 0), 3, 1))
    assert err.mean() < 12


def test_mp4_without_imageio_ffmpeg_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    with pytest.raises(CharlibError, match="pip install"):
        an.mp4_bytes(_frames())


def test_players_embed_the_animation_as_base64_with_a_caption():
    gif = an.gif_player(_frames(), caption="a <walk>").data
    data = re.search(r'src="data:image/gif;base64,([^"]+)"', gif).group(1)
    assert base64.b64decode(data)[:3] == b"GIF"
    assert "a &lt;walk&gt;" in gif
    video = an.video_player(_frames(), caption="walk").data
    assert "<video" in video and "loop" in video
    data = re.search(r'src="data:video/mp4;base64,([^"]+)"', video).group(1)
    assert base64.b64decode(data)[4:8] == b"ftyp"


def test_frames_of_the_wrong_shape_are_refused():
    with pytest.raises(ShapeError):
        an.gif_bytes(np.zeros((8, 32, 32), np.uint8))
    with pytest.raises(ShapeError):
        an.mp4_bytes(np.zeros((0, 32, 32, 3), np.uint8))


def test_cycle_player_follows_its_controls():
    calls = []

    def render(seed, action, direction):
        calls.append((seed, action, direction))
        attrs = sprites.attributes_of(seed)
        return sprites.cycle(attrs, action, direction, size=16)

    player = an.CyclePlayer(render, ("walk", "jump"), ("front", "left"), seed=3, scale=2)
    first = player.picture.value
    assert calls == [(3, "walk", "front")]
    player.frame.value = 4
    assert player.picture.value != first and "frame 4" in player.label.value
    np.testing.assert_array_equal(iio.imread(player.picture.value)[::2, ::2, :3],
                                  sprites.cycle(sprites.attributes_of(3), "walk", "front", 16)[4])
    player.action.value = "jump"
    player.direction.value = "left"
    assert calls[-1] == (3, "jump", "left")
    player.new_character.click()
    assert calls[-1] == (4, "jump", "left") and player.seed == 4
    assert player.play.max == player.frame.max == 7
