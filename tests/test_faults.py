"""Faults in a run folder: a damaged config.json, a failed export, two runs in one folder, weights
that turn non-finite, unreadable checkpoints. Each gives one clear line and loses nothing."""

from __future__ import annotations

import json

import pytest

from charlib.cli import main
from charlib.training.gan import load_generator
from charlib.training.run import RunFolderError

DAMAGES = {
    "invalid JSON": lambda text: text[: len(text) // 2],
    "not an object": lambda text: "[1, 2, 3]",
    "missing key": lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "image_size"}),
    "wrong type": lambda text: json.dumps({**json.loads(text), "latent_dim": "eight"}),
    "unknown kind": lambda text: json.dumps({**json.loads(text), "model": "gann"}),
    "no kind": lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "model"}),
    "value refused": lambda text: json.dumps({**json.loads(text), "pack": 3}),
}


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_config_json_is_one_clear_error_naming_the_file(tiny_gan_copy, capsys, damage):
    path = tiny_gan_copy / "config.json"
    path.write_text(damage(path.read_text()))
    damaged = path.read_text()
    with pytest.raises(RunFolderError, match="config.json") as info:
        load_generator(tiny_gan_copy)
    assert "Fix the file by hand" in str(info.value) and "\n" not in str(info.value)
    for command in (["sample", "--checkpoint", str(tiny_gan_copy), "--out", str(tiny_gan_copy / "s.png")],
                    ["diagnose", "--checkpoint", str(tiny_gan_copy), "--n", "16"],
                    ["train", "gan", "--out", str(tiny_gan_copy), "--resume", "--steps", "12", "--quiet"]):
        capsys.readouterr()
        assert main(command) == 2, command
        err = capsys.readouterr().err
        assert err.startswith("error: ") and str(path) in err and len(err.strip().splitlines()) == 1
    assert path.read_text() == damaged and not (tiny_gan_copy / "s.png").exists()
    assert sorted(p.name for p in (tiny_gan_copy / "ckpt").glob("*.index")) == ["ckpt-10.index",
                                                                               "ckpt-5.index"]


def test_a_failed_export_leaves_the_previous_one_and_no_temporary_file(tiny_gan_copy, monkeypatch):
    import keras

    from charlib.training.trainer import export_model

    export = tiny_gan_copy / "generator.keras"
    before = export.read_bytes()
    generator, _ = load_generator(tiny_gan_copy)

    def save_then_fail(self, path, *args, **kwargs):
        with open(path, "wb") as fh:  # half a file, as a full disk or a kill would leave it
            fh.write(before[: len(before) // 2])
        raise OSError("No space left on device")

    monkeypatch.setattr(keras.Model, "save", save_then_fail)
    with pytest.raises(OSError, match="No space"):
        export_model(generator, export)
    assert export.read_bytes() == before
    files = sorted(p.name for p in tiny_gan_copy.iterdir() if p.is_file())
    assert files == ["config.json", "generator.keras", "history.csv"]
