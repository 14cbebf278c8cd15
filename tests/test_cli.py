"""The charlib command: `charlib sprites` writes images, labels and a sheet, `charlib sample` a grid, a
folder or an array, `charlib train` has a flag for each field of the model's config; bad input is one line."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from charlib import cli
from charlib.cli import main
from charlib.config import profile
from charlib.data import sprites as sp
from charlib.errors import CharlibError


def test_sprites_command_writes_pngs_labels_and_sheet(tmp_path):
    out = tmp_path / "sprites"
    assert main(["sprites", "--n", "64", "--size", "32", "--seed", "3", "--out", str(out)]) == 0
    pngs = sorted(out.glob("sprite_*.png"))
    assert len(pngs) == 64
    assert (out / "sheet.png").is_file()
    with open(out / "labels.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 64
    expected = sp.sample_sprites(64, size=32, seed=3)
    first = np.asarray(Image.open(out / rows[0]["file"]).convert("RGB"))
    np.testing.assert_array_equal(first, expected.images[0])
    assert int(rows[5]["mode"]) == expected.labels.mode[5]
    assert float(rows[5]["head_x"]) == round(float(expected.labels.skeleton[5, 0, 0]), 2)


def test_sprites_command_refuses_a_non_empty_folder_without_overwrite(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("precious")
    assert main(["sprites", "--n", "2", "--out", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
    assert main(["sprites", "--n", "2", "--out", str(tmp_path), "--overwrite"]) == 0
    assert (tmp_path / "keep.txt").read_text() == "precious"


def test_sprites_command_rejects_bad_numbers_without_traceback(tmp_path, capsys):
    assert main(["sprites", "--n", "2", "--size", "8", "--out", str(tmp_path / "x")]) == 2
    assert "size" in capsys.readouterr().err


def test_python_dash_m_charlib_runs(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "charlib", "sprites", "--n", "3", "--size", "32", "--out",
         str(tmp_path / "o"), "--directions", "left"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Wrote 3 sprites" in result.stdout


def _sample(run, out, *extra: str) -> int:
    return main(["sample", "--checkpoint", str(run), "--n", "6", "--seed", "4", "--out", str(out), *extra])


def test_sample_refuses_an_unknown_extension_in_one_line_before_loading_anything(tmp_path, capsys):
    # the run folder does not exist: the format is checked first, so that is not what is reported
    assert _sample(tmp_path / "no_run", tmp_path / "samples.jpg") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "samples.jpg" in err and ".png" in err and ".npz" in err and "folder" in err
    assert list(tmp_path.iterdir()) == []


def test_sample_refuses_a_folder_that_is_not_empty(tmp_path, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.png").write_bytes(b"precious")
    assert _sample(tmp_path / "no_run", tmp_path / "out") == 2
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.png"]


def test_sample_writes_the_same_images_as_a_grid_a_folder_and_an_array(tiny_gan_run, tmp_path):
    from charlib.viz import image_grid

    assert _sample(tiny_gan_run, tmp_path / "s.npz") == 0
    with np.load(tmp_path / "s.npz") as saved:
        images, seed = saved["images"], int(saved["seed"])
    assert images.shape == (6, 16, 16, 3) and images.dtype == np.uint8 and seed == 4
    assert _sample(tiny_gan_run, tmp_path / "grid.png", "--scale", "1") == 0
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "grid.png").convert("RGB")),
                                  image_grid(images))
    for folder in (f"{tmp_path / 'pngs'}/", str(tmp_path / "pngs_no_slash")):
        assert _sample(tiny_gan_run, folder) == 0
        files = sorted(Path(folder).iterdir())
        assert [p.name for p in files] == [f"sample_{i:04d}.png" for i in range(6)]
        np.testing.assert_array_equal(np.stack([np.asarray(Image.open(p).convert("RGB")) for p in files]),
                                      images)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.png", "pngs", "pngs_no_slash", "s.npz"]


def test_sample_into_a_folder_that_fails_midway_leaves_nothing_behind(tiny_gan_run, tmp_path, monkeypatch,
                                                                      capsys):
    from charlib.base.images import png_bytes as real

    calls = []

    def failing(image, scale=1):
        calls.append(1)
        if len(calls) == 3:
            raise CharlibError("disk full")
        return real(image, scale)

    monkeypatch.setattr("charlib.base.images.png_bytes", failing)
    (tmp_path / "out").mkdir()
    assert _sample(tiny_gan_run, tmp_path / "out") == 2
    assert "disk full" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["out"] and not any((tmp_path / "out").iterdir())


# ------------------------------------------------ charlib train: flags made from the config dataclasses

MODELS = ("gan", "vae", "conditional")


def _parse_train(model: str):
    return lambda flags: cli.build_parser().parse_args(["train", model, "--out", "run", *flags])


def _fields_without_a_flag(parse, config_cls) -> list[str]:
    """The fields of ``config_cls`` that ``parse`` cannot set through ``--field-name`` to the learner
    profile's value (``--name``/``--no-name`` for a bool, ``none`` for None)."""
    expected, missing = config_cls.from_profile(profile("learner")), []
    for field in dataclasses.fields(config_cls):
        value, flag = getattr(expected, field.name), "--" + field.name.replace("_", "-")
        if isinstance(value, bool):
            argv = [flag if value else "--no-" + flag[2:]]
        else:
            argv = [flag, "none" if value is None else str(value)]
        try:
            parsed = parse(argv)
        except (SystemExit, CharlibError):
            parsed = None
        if getattr(parsed, field.name, missing) != value:
            missing.append(field.name)
    return missing


@pytest.mark.parametrize("model", MODELS)
def test_each_config_field_of_each_model_is_a_train_flag(model, capsys):
    assert _fields_without_a_flag(_parse_train(model), cli.config_class(model)) == []


def test_a_hand_written_flag_table_missing_fields_fails_the_field_check(capsys):
    from charlib.training.gan import GanConfig

    twin = argparse.ArgumentParser()  # flags listed by hand, as the CLI once did: fields go missing
    for flag, kind in (("--image-size", int), ("--batch-size", int), ("--steps", int), ("--seed", int),
                       ("--loss", str), ("--pack", int), ("--r1", float), ("--nets", str)):
        twin.add_argument(flag, type=kind)
    missing = _fields_without_a_flag(twin.parse_args, GanConfig)
    assert {"lr_g", "lr_d", "g_width", "ema_decay", "max_minutes"} <= set(missing)
    assert not {"image_size", "batch_size", "steps", "pack", "r1"} & set(missing)


def test_a_new_config_field_becomes_a_flag_without_editing_the_cli():
    from charlib.training.vae import VaeConfig

    @dataclasses.dataclass(frozen=True)
    class WarmVaeConfig(VaeConfig):
        warmth: float = 0.5
        tag: str | None = None

    parser = argparse.ArgumentParser()
    flags = cli.add_config_flags(parser, WarmVaeConfig)
    assert flags["--warmth"] == "warmth" and flags["--tag"] == "tag" and flags["--sigma"] == "sigma"
    parsed = parser.parse_args(["--warmth", "0.25", "--tag", "none", "--sigma", "0.2"])
    assert (parsed.warmth, parsed.tag, parsed.sigma) == (0.25, None, 0.2)
    assert not hasattr(parser.parse_args([]), "warmth")  # not given: the profile's value stays


@pytest.mark.parametrize("model", MODELS)
def test_a_flag_of_another_model_is_refused_naming_the_models_that_have_it(model):
    own = {f.name for f in dataclasses.fields(cli.config_class(model))}
    foreign = {f.name: other for other in MODELS if other != model
               for f in dataclasses.fields(cli.config_class(other)) if f.name not in own}
    assert foreign  # every model has fields the others lack
    for name, other in foreign.items():
        flag = "--" + name.replace("_", "-")
        with pytest.raises(CharlibError, match=f"^{flag} is for .*charlib train {other}.*; "
                                               f"charlib train {model} has no such option$"):
            _parse_train(model)([flag, "1"])


def test_a_flag_of_another_model_is_one_error_line_and_no_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "vae", "--out", str(out), "--pack", "2"]) == 2
    err = capsys.readouterr().err
    assert err == "error: --pack is for GANs (charlib train gan); charlib train vae has no such option\n"
    assert main(["train", "gan", "--out", str(out), "--width=16"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: --width is for VAEs and the conditional VAE")
    assert not out.exists()


@pytest.mark.parametrize("flags, message", [
    (["--batch-size", "many"], "argument --batch-size: expected a whole number, got 'many'"),
    (["--lr-g", "-0.1"], "argument --lr-g: must be > 0, got -0.1"),
    (["--size", "48"], "invalid choice: 48"),
    (["--d-norm", "group"], "invalid choice: 'group'"),
    (["--sigma", "0.1"], "--sigma is for VAEs and the conditional VAE"),
    (["--instance-noise", "0.3"], "unrecognized arguments: --instance-noise 0.3"),
])
def test_a_bad_train_flag_is_one_line_without_a_traceback(tmp_path, capsys, flags, message):
    out = tmp_path / "run"
    try:
        status = main(["train", "gan", "--out", str(out), *flags])
    except SystemExit as exit_:
        status = exit_.code
    err = capsys.readouterr().err
    assert status == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("model, flags, field, value", [
    ("gan", ["--size", "64"], "image_size", 64),
    ("vae", ["--image-size", "64"], "image_size", 64),
    ("gan", ["--xla"], "jit_compile", True),
    ("conditional", ["--jit-compile"], "jit_compile", True),
    ("gan", ["--no-ema"], "ema_decay", None),
    ("gan", ["--ema-decay", "none"], "ema_decay", None),
])
def test_an_alias_sets_its_field(model, flags, field, value):
    assert getattr(_parse_train(model)(flags), field) == value


@pytest.mark.parametrize("model, flags, expected", [  # the flags README, docs, notebooks and tests use
    ("gan", ["--profile", "full", "--steps", "8000", "--data", "d", "--batch-size", "32", "--seed", "3"],
     {"profile": "full", "steps": 8000, "data": "d", "batch_size": 32, "seed": 3}),
    ("gan", ["--loss", "hinge", "--augment", "color,translation,cutout", "--pack", "2", "--minibatch-std",
             "--lr-decay", "0.5", "--r1", "0.1"],
     {"loss": "hinge", "augment": "color,translation,cutout", "pack": 2, "minibatch_std": True,
      "lr_decay": 0.5, "r1": 0.1}),
    ("gan", ["--nets", "r3gan", "--r2", "0.2", "--reg-every", "4", "--precision", "mixed_bfloat16",
             "--distribute"],
     {"nets": "r3gan", "r2": 0.2, "reg_every": 4, "precision": "mixed_bfloat16", "distribute": True}),
    ("conditional", ["--identity", "attributes"], {"identity": "attributes"}),
])
def test_the_flags_the_course_uses_still_set_their_fields(model, flags, expected):
    parsed = _parse_train(model)(flags)
    assert {name: getattr(parsed, name) for name in expected} == expected


def test_train_help_lists_each_field_with_each_profiles_default(capsys):
    from charlib.training.gan import GanConfig

    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["train", "gan", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    steps = {name: GanConfig.from_profile(profile(name)).steps for name in ("smoke", "learner", "full")}
    assert "--steps STEPS total training steps" in shown
    assert f"(default: smoke {steps['smoke']}, learner {steps['learner']}, full {steps['full']})" in shown
    assert all("--" + f.name.replace("_", "-") in shown for f in dataclasses.fields(GanConfig))


def _documented_train_commands() -> list[tuple[str, list[str]]]:
    """(model, flags) of each ``charlib train MODEL ...`` line in the README, docs/ and the notebooks."""
    root = Path(__file__).resolve().parents[1]
    texts = [path.read_text() for path in (root / "README.md", *sorted((root / "docs").glob("*.md")))]
    for notebook in sorted((root / "notebooks").glob("*.ipynb")):
        texts += ["".join(cell["source"]) for cell in json.loads(notebook.read_text())["cells"]]
    return [(model, re.findall(r"(?<!\S)--[a-z][\w-]*", rest)) for text in texts
            for model, rest in re.findall(r"charlib train (gan|vae|conditional)([^`#\n]*)",
                                          text.replace("\\\n", " "))]  # a shell line goes on after \\


def test_every_train_flag_the_course_documents_exists_for_its_model():
    commands = _documented_train_commands()
    assert len(commands) >= 10 and any(flags for _, flags in commands)
    known = {model: {*cli.add_config_flags(argparse.ArgumentParser(add_help=False), cli.config_class(model)),
                     "--out", "--resume", "--init-from", "--quiet", "--help"} for model in MODELS}
    unknown = [(model, flag) for model, flags in commands for flag in flags if flag not in known[model]]
    assert unknown == []


def test_reading_a_command_line_other_than_train_imports_no_tensorflow():
    code = ("import sys; from charlib.cli import build_parser; "
            "build_parser().parse_args(['info', '--no-devices']); "
            "build_parser().parse_args(['sprites', '--out', 'x']); print('tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
