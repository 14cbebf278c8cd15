"""The charlib command: `charlib sprites` writes images, labels and a sheet; bad input is one line."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
from PIL import Image

from charlib.cli import main
from charlib.data import sprites as sp


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
