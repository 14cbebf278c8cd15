"""The charlib command: `charlib sprites` writes images, labels and a sheet, `charlib sample` a grid, a
folder or an array; bad input is one line."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from charlib.cli import main
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
    import charlib.cli as cli

    real, calls = cli._png_bytes, []

    def failing(image, scale=1):
        calls.append(1)
        if len(calls) == 3:
            raise CharlibError("disk full")
        return real(image, scale)

    monkeypatch.setattr(cli, "_png_bytes", failing)
    (tmp_path / "out").mkdir()
    assert _sample(tiny_gan_run, tmp_path / "out") == 2
    assert "disk full" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["out"] and not any((tmp_path / "out").iterdir())
