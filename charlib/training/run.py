"""The run folder: everything a training run leaves behind, written so that nothing is lost.

```
OUT/config.json      what is needed to rebuild the run: model kind and sizes, loss, data, seed, versions
OUT/ckpt/            tf.train checkpoints (models, optimisers, step), the last few kept
OUT/samples/         fixed-noise sample grids over training (PNG) and samples.gif
OUT/logs/            TensorBoard events
OUT/history.csv      losses every few steps
OUT/generator.keras  the final generator (or decoder), loadable with safe_mode on
```

A new run refuses a folder that already has files in it (nothing is overwritten); ``resume=True``
continues the run found there. Files are written atomically (to a temporary name, then renamed), and
TensorFlow's checkpoint manager only points at a checkpoint once it is completely written, so a run
killed at any moment resumes from its last complete checkpoint.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from charlib.errors import CharlibError


class RunFolderError(CharlibError):
    """A run folder cannot be used as asked (not empty for a new run, nothing to resume, ...)."""


KINDS = ("gan", "vae", "conditional")
"""The kinds of run charlib trains: the ``model`` entry of every config.json."""

DAMAGED = ("Fix the file by hand (it is plain JSON, written by the run), or train a new run in another "
           "folder: the checkpoints cannot be read without it.")
"""What to do about a damaged config.json; every error about one ends with it."""


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings in a run's config.json, checked to be a JSON object with a known ``model`` kind;
    anything else raises :class:`RunFolderError` naming the file."""
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RunFolderError(f"{path} is not valid JSON ({err}). {DAMAGED}") from None
    if not isinstance(config, dict):
        raise RunFolderError(f"{path} holds a JSON {type(config).__name__}, not an object of settings. "
                             f"{DAMAGED}")
    if config.get("model") not in KINDS:
        said = f"says model {config['model']!r}" if "model" in config else "has no 'model' entry"
        raise RunFolderError(f"{path} {said}: a run is one of {', '.join(KINDS)}. {DAMAGED}")
    return config


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class RunFolder:
    """A training run's folder. ``RunFolder(path, config)`` starts one; ``RunFolder.resume(path)``."""

    def __init__(self, path: str | Path, config: Mapping[str, Any] | None = None, *,
                 resume: bool = False) -> None:
        self.path = Path(path)
        if resume:
            if not self.config_path.is_file():
                raise RunFolderError(
                    f"Nothing to resume in {self.path}: no config.json there. Start a new run "
                    "without --resume, or give the folder of an earlier run."
                )
            self.config = read_config_file(self.config_path)
        else:
            if config is None:
                raise RunFolderError("a new run needs a config")
            if self.path.exists() and not self.path.is_dir():
                raise RunFolderError(f"{self.path} exists and is not a folder")
            if self.path.is_dir() and any(self.path.iterdir()):
                raise RunFolderError(
                    f"{self.path} is not empty. Pass --resume (resume=True) to continue the run in "
                    "it, or choose a new folder. Nothing was overwritten."
                )
            self.config = dict(config)
            self.write_json("config.json", self.config)
        for sub in (self.ckpt_dir, self.samples_dir, self.logs_dir):
            sub.mkdir(parents=True, exist_ok=True)

    @classmethod
    def open(cls, path: str | Path) -> RunFolder:
        """Open an existing run folder (for sampling or resuming)."""
        return cls(path, resume=True)

    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def ckpt_dir(self) -> Path:
        return self.path / "ckpt"

    @property
    def samples_dir(self) -> Path:
        return self.path / "samples"

    @property
    def logs_dir(self) -> Path:
        return self.path / "logs"

    @property
    def history_path(self) -> Path:
        return self.path / "history.csv"

    @property
    def export_path(self) -> Path:
        return self.path / "generator.keras"

    def write_json(self, name: str, obj: Any) -> Path:
        path = self.path / name
        atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())
        return path

    def update_config(self, **changes: Any) -> None:
        """Change config entries (e.g. a longer ``steps`` on resume) and rewrite config.json."""
        self.config.update(changes)
        self.write_json("config.json", self.config)

    def read_history(self) -> list[dict[str, float]]:
        """Rows of history.csv as dicts of floats (empty if none yet)."""
        if not self.history_path.is_file():
            return []
        with open(self.history_path, newline="") as fh:
            return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(fh)]

    def write_history(self, rows: list[dict[str, float]]) -> None:
        if not rows:
            return
        lines = [",".join(rows[0].keys())]
        lines += [",".join(f"{row[k]:.6g}" for k in rows[0]) for row in rows]
        atomic_write_bytes(self.history_path, ("\n".join(lines) + "\n").encode())
