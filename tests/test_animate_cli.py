"""``charlib animate`` and ``charlib train conditional``: files of the requested action, clear errors."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest

from charlib.cli import main


def _without_repeats(frames: np.ndarray) -> np.ndarray:
    """Frames with consecutive duplicates dropped: a GIF stores a repeated frame once (a nearly
    untrained model can draw identical frames)."""
    keep = [0] + [i for i in range(1, len(frames)) if not np.array_equal(frames[i], frames[i - 1])]
    return frames[keep]


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory, tiny_conditional_run):
    """This file's copy of the session's tiny conditional run: animating fits its identity prior."""
    import shutil

    return shutil.copytree(tiny_conditional_run, tmp_path_factory.mktemp("runs") / "cvae")


def test_animate_writes_a_gif_of_n_characters_side_by_side(conditional_run, tmp_path, capsys):
    out = tmp_path / "walk.gif"
    code = main(["animate", "--checkpoint", str(conditional_run), "--action", "walk",
                 "--direction", "left", "--n", "3", "--scale", "2", "--refine", "0", "--out", str(out)])
    assert code == 0
    frames = iio.imread(out, index=None)
    assert frames.shape[:3] == (8, 32, 2 * (3 * 16 + 2))  # 8 frames, 3 sprites with 1-px gaps, 2x
    assert "3 new characters (walk, facing left)" in capsys.readouterr().out
    assert (conditional_run / "identity_prior.npz").is_file()


def test_animate_frames_are_the_models_cycles(conditional_run, tmp_path):
    from charlib.training.conditional import (
        generate_cycles,
        identity_prior,
        load_conditional,
        refine_identities,
        sample_identities,
    )

    out = tmp_path / "jump.gif"
    assert main(["animate", "--checkpoint", str(conditional_run), "--action", "jump", "--n", "1",
                 "--seed", "5", "--scale", "1", "--refine", "0", "--out", str(out)]) == 0
    model, config = load_conditional(conditional_run)
    z = sample_identities(1, config.latent_dim, seed=5, prior=identity_prior(conditional_run, model, config))
    expected = generate_cycles(model, z, "jump", "front")[0]
    np.testing.assert_array_equal(iio.imread(out, index=None)[..., :3], _without_repeats(expected))
    # the default refines the sampled codes first
    refined = tmp_path / "refined.gif"
    assert main(["animate", "--checkpoint", str(conditional_run), "--action", "jump", "--n", "1",
                 "--seed", "5", "--scale", "1", "--out", str(refined)]) == 0
    expected = generate_cycles(model, refine_identities(model, z, steps=3), "jump", "front")[0]
    np.testing.assert_array_equal(iio.imread(refined, index=None)[..., :3], _without_repeats(expected))


def test_animate_writes_mp4_by_flag_or_extension(conditional_run, tmp_path):
    assert main(["animate", "--checkpoint", str(conditional_run), "--out", str(tmp_path / "a.mp4")]) == 0
    assert (tmp_path / "a.mp4").read_bytes()[4:8] == b"ftyp"
    assert main(["animate", "--checkpoint", str(conditional_run), "--mp4", "--out", str(tmp_path / "b")]) == 0
    assert (tmp_path / "b.mp4").read_bytes()[4:8] == b"ftyp"


@pytest.mark.parametrize("argv, message", [
    (["--out", "x.avi"], "name it .gif or .mp4"),
    (["--out", "x.gif", "--mp4"], "name it .mp4"),
])  # fmt: skip
def test_animate_refuses_unknown_formats_before_writing(conditional_run, tmp_path, capsys, argv, message):
    argv = [a if not a.startswith("x.") else str(tmp_path / a) for a in argv]
    assert main(["animate", "--checkpoint", str(conditional_run), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and message in err and len(err.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


def test_animate_with_a_missing_run_is_a_one_line_error(tmp_path, capsys):
    assert main(["animate", "--checkpoint", str(tmp_path / "nope"), "--out", str(tmp_path / "a.gif")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "not a run folder" in err and len(err.strip().splitlines()) == 1


def test_animate_rejects_an_unknown_action(conditional_run, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["animate", "--checkpoint", str(conditional_run), "--action", "dance",
              "--out", str(tmp_path / "a.gif")])
    assert stop.value.code == 2
    assert "invalid choice: 'dance'" in capsys.readouterr().err


def test_animate_a_vae_run_makes_a_latent_walk_but_refuses_poses(tmp_path, capsys, tiny_vae_copy):
    out = tmp_path / "walk.gif"  # the tiny VAE: 16 px
    assert main(["animate", "--checkpoint", str(tiny_vae_copy), "--n", "2", "--scale", "1",
                 "--out", str(out)]) == 0
    assert iio.imread(out, index=None).shape[:3] == (32, 16, 33)  # 4 keyframes x 8 steps
    assert main(["animate", "--checkpoint", str(tiny_vae_copy), "--action", "wave",
                 "--out", str(tmp_path / "b.gif")]) == 2
    assert "no pose input" in capsys.readouterr().err


def test_train_conditional_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "conditional", "--profile", "smoke", "--out", str(out), "--steps", "2",
                 "--quiet"]) == 0
    assert (out / "generator.keras").is_file()
    assert main(["train", "conditional", "--out", str(tmp_path / "r2"), "--data", str(tmp_path)]) == 2
    assert "pose labels" in capsys.readouterr().err


def test_train_and_animate_attribute_identities_from_the_command_line(tmp_path, capsys):
    import json

    from charlib.training.conditional import generate_cycles, load_conditional, sample_characters

    out = tmp_path / "attr"
    assert main(["train", "conditional", "--profile", "smoke", "--identity", "attributes", "--size", "32",
                 "--out", str(out), "--steps", "2", "--quiet"]) == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["identity"] == "attributes" and saved["latent_dim"] == 0 and saved["palette"] == 0
    gif = tmp_path / "wave.gif"
    assert main(["animate", "--checkpoint", str(out), "--action", "wave", "--n", "1", "--seed", "4",
                 "--scale", "1", "--out", str(gif)]) == 0
    model, config = load_conditional(out)
    codes = sample_characters(config, 1, seed=4)
    expected = _without_repeats(generate_cycles(model, codes, "wave", "front")[0])
    written = iio.imread(gif, index=None)[..., :3].astype(int)
    assert written.shape == expected.shape  # (a GIF keeps 256 colours: the plain decoder's are many)
    assert np.abs(written - expected).mean() < 2
    assert not (out / "identity_prior.npz").exists()  # attribute codes need no fitted mixture
    assert main(["train", "gan", "--identity", "attributes", "--out", str(tmp_path / "g")]) == 2
    assert "--identity is for the conditional VAE" in capsys.readouterr().err
