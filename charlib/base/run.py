"""The run folder: everything a training run leaves behind, written so that nothing is lost.

```
OUT/config.json      what is needed to rebuild the run: model kind and sizes, loss, data, seed, versions
OUT/ckpt/            tf.train checkpoints (models, optimisers, step), the last few kept
OUT/samples/         fixed-noise sample grids over training (PNG) and samples.gif
OUT/logs/            TensorBoard events
OUT/history.csv      losses every few steps
OUT/generator.keras  the final generator (or decoder), loadable with safe_mode on
OUT/run.lock         while a run trains: which process (PID and host) is training there
```

A new run refuses a folder that already has files in it; ``resume=True`` continues the run found
there. A run refuses a folder where another process is training (``run.lock`` says which); a lock
left by a killed run (its process ended, or it was written on another machine or before a restart)
is recognised, reported and taken over. Files are written atomically and TensorFlow's checkpoint
manager only points at complete checkpoints, so a run killed at any moment resumes from its last
complete checkpoint; what the kill left half written is removed on resume, and a line says so.
:func:`config_of` and :func:`read_run_config` read config.json back as its config class, checked
entry by entry, with an error naming the file when it is damaged.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import time
import types
import typing
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from charlib.base.io import atomic_write_bytes
from charlib.errors import CharlibError


class RunFolderError(CharlibError):
    """A run folder cannot be used as asked (not empty for a new run, nothing to resume, ...)."""


class RemovedOptionError(RunFolderError):
    """A run's config.json switches on an option that this version of charlib no longer has."""


KINDS = ("gan", "vae", "conditional")  # the ``model`` entry of every config.json
# what to do about a damaged config.json; every error about one ends with it
DAMAGED = ("Fix the file by hand (it is plain JSON, written by the run), or train a new run in another "
           "folder: the checkpoints cannot be read without it.")
C = TypeVar("C")  # a run's config class: a dataclass with ``kind`` and ``from_dict``


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings in a run's config.json, checked to be a JSON object with a known ``model`` kind."""
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


def is_temporary(name: str) -> bool:
    """Whether a file name in a run folder is a write in progress: :func:`atomic_write_bytes`'s
    ``.NAME.XXXX.tmp`` or an export's ``.generator.tmp.keras``, never a file a run keeps."""
    return name.startswith(".") and (name.endswith(".tmp") or ".tmp." in name)


LOCK_NAME = "run.lock"


class RunLocked(RunFolderError):
    """Another process is training in this run folder."""


def _boot_id() -> str | None:
    """This boot of the machine (Linux), so that a lock written before a restart counts as stale."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def _alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (True when that cannot be told)."""
    if os.name == "nt":  # os.kill would end the process there
        try:
            import psutil
        except ImportError:
            return True
        return psutil.pid_exists(pid)
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


class RunLock:
    """``run.lock`` in a run folder: the PID, host and boot of the process training there, created with
    ``O_EXCL`` so that of two processes starting at once exactly one gets it."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_NAME
        self.held = False

    def _stale(self) -> str | None:
        """Why the lock on disk belongs to no live run, or None if its run may still be training."""
        try:
            holder = json.loads(self.path.read_text())
            pid, host = int(holder["pid"]), str(holder["host"])
        except FileNotFoundError:
            return "it was just released"
        except (OSError, ValueError, KeyError, TypeError):  # a half-written lock: give its writer time
            age = time.time() - self.path.stat().st_mtime if self.path.exists() else 0.0
            return "it is unreadable" if age > 10 else None
        if host != socket.gethostname():
            return f"it was written on the host {host}"
        if holder.get("boot") not in (None, _boot_id()):
            return "it was written before this machine restarted"
        return None if _alive(pid) else f"its process {pid} has ended"

    def acquire(self) -> None:
        """Take the lock, taking over a stale one; raise :class:`RunLocked` if a live run holds it."""
        mine = {"pid": os.getpid(), "host": socket.gethostname(), "boot": _boot_id(),
                "started": time.strftime("%Y-%m-%d %H:%M:%S")}
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                why = self._stale()
                if why is None:
                    raise RunLocked(self._refusal()) from None
                print(f"Taking over {self.path}, left by a run that is no longer training ({why}).")
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as fh:
                json.dump(mine, fh)
            self.held = True
            return
        raise RunLocked(self._refusal())

    def _refusal(self) -> str:
        try:
            holder = json.loads(self.path.read_text())
            who = (f"process {holder['pid']} on {holder['host']} has been training there since "
                   f"{holder.get('started', '?')}")
        except (OSError, ValueError, KeyError, TypeError):
            who = "another process is starting a run there"
        return (f"{self.path.parent} is in use: {who} ({self.path}). Wait for that run to finish or stop "
                f"it, then try again; if nothing is training there, delete {self.path}.")

    def release(self) -> None:
        """Remove the lock if this process holds it (a lock taken over by another run stays)."""
        if not self.held:
            return
        self.held = False
        try:
            holder = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return
        if holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname():
            self.path.unlink(missing_ok=True)


class RunFolder:
    """A training run's folder. ``RunFolder(path, config)`` starts one; ``RunFolder.resume(path)``."""

    def __init__(self, path: str | Path, config: Mapping[str, Any] | None = None, *,
                 resume: bool = False, lock: bool = False) -> None:
        """``lock=True`` (a run about to train) takes the folder's :class:`RunLock`; :meth:`release` it
        when training ends, however it ends."""
        self.path = Path(path)
        self.lock = RunLock(self.path)
        if resume:
            if not self.config_path.is_file():
                raise RunFolderError(f"Nothing to resume in {self.path}: no config.json there. Start a new "
                                     "run without --resume, or give the folder of an earlier run.")
        else:
            if config is None:
                raise RunFolderError("a new run needs a config")
            if self.path.exists() and not self.path.is_dir():
                raise RunFolderError(f"{self.path} exists and is not a folder")
        if lock:
            self.path.mkdir(parents=True, exist_ok=True)
            self.lock.acquire()
        try:
            if resume:
                self.config = read_config_file(self.config_path)
            else:
                if self.path.is_dir() and any(p.name != LOCK_NAME for p in self.path.iterdir()):
                    raise RunFolderError(f"{self.path} is not empty. Pass --resume (resume=True) to continue "
                                         "the run in it, or choose a new folder. Nothing was overwritten.")
                self.config = dict(config)
                self.write_json("config.json", self.config)
            for sub in (self.ckpt_dir, self.samples_dir, self.logs_dir):
                sub.mkdir(parents=True, exist_ok=True)
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        self.lock.release()

    def remove_temporary_files(self) -> list[str]:
        """Delete the temporary files a killed run left (see :func:`is_temporary`); returns their names.
        Only the lock's holder may: another process's writes in progress would look like leftovers."""
        if not self.lock.held:
            raise RunFolderError(f"{self.path}: only the run that holds its lock may clean it")
        removed = []
        for path in sorted(self.path.iterdir()):
            if path.is_file() and is_temporary(path.name):
                path.unlink(missing_ok=True)
                removed.append(path.name)
        return removed

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


# entries every config.json has had: a missing one means damage (others fall back to their defaults,
# so that runs saved before a setting existed still load)
REQUIRED = ("image_size", "steps")


def _fits(value: Any, hint: Any) -> bool:
    """Whether a JSON value can be a config field of type ``hint`` (int, float, bool, str, X | None)."""
    if isinstance(hint, types.UnionType):
        return any(_fits(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint) if hint in (bool, str) else True


def config_of(config_cls: type[C], run: RunFolder) -> C:
    """The config saved in ``run``, checked: of kind ``config_cls.kind``, with the :data:`REQUIRED`
    entries, each of its field's type, and values the config accepts."""
    path, saved = run.config_path, run.config
    if saved["model"] != config_cls.kind:
        raise RunFolderError(f"{run.path} holds a {saved['model']!r} run, not a {config_cls.kind!r} run "
                             f"(says {path}); use the {saved['model']} commands for it")
    hints = typing.get_type_hints(config_cls)
    problems = [f"no {name!r}" for name in REQUIRED if name not in saved]
    problems += [f"{f.name}={saved[f.name]!r} is not {getattr(hints[f.name], '__name__', hints[f.name])}"
                 for f in fields(config_cls) if f.name in saved and not _fits(saved[f.name], hints[f.name])]
    if problems:
        raise RunFolderError(f"{path} is damaged: {'; '.join(problems)}. {DAMAGED}")
    try:
        return config_cls.from_dict(saved)
    except RemovedOptionError as err:  # not damaged: made by an older charlib
        raise RemovedOptionError(f"{path} sets {err}") from None
    except CharlibError as err:
        raise RunFolderError(f"{path} holds settings that make no run: {err}. {DAMAGED}") from None


def read_run_config(config_cls: type[C], run_dir: str | Path) -> C:
    """The config of the run in ``run_dir``, checked to be of kind ``config_cls.kind``."""
    return config_of(config_cls, RunFolder.open(run_dir))
