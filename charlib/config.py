"""Profiles: how big a run is, chosen one way by every notebook, command and test.

Three profiles (:data:`PROFILES`): ``learner``, the default, gives real results with each notebook
in a few minutes on a 2-core laptop; ``smoke`` (tiny data, a handful of steps, pictures not meant to
be looked at) runs the whole course headless for the tests; ``full`` makes the long runs behind the
benchmarks. :func:`profile` reads the choice: an explicit argument, else ``$CHARLIB_PROFILE``, else
``learner``. :func:`output_dir` says where outputs go: ``$CHARLIB_OUTPUTS``, else ``outputs/`` at
the top of the course repo.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from charlib.errors import CharlibError

ENV_PROFILE = "CHARLIB_PROFILE"
ENV_OUTPUTS = "CHARLIB_OUTPUTS"


@dataclass(frozen=True)
class Profile:
    """Sizes that differ between profiles (each model kind keeps its own table keyed by ``name``)."""

    name: str  # "smoke", "learner" or "full"
    n_sprites: int  # how many sprites a notebook draws for its data set
    image_size: int  # side in pixels of the images models train on
    batch_size: int
    n_preview: int  # how many images grids and sheets show
    purpose: str = ""  # what the profile is for, printed by describe()


DEFAULT_PROFILE = "learner"
PROFILES: dict[str, Profile] = {
    "smoke": Profile("smoke", n_sprites=512, image_size=32, batch_size=32, n_preview=16,
                     purpose="tiny data and a few steps, for the tests: the pictures are not results"),
    "learner": Profile("learner", n_sprites=20_000, image_size=32, batch_size=64, n_preview=64,
                       purpose="real results, each notebook in minutes on a 2-core laptop"),
    "full": Profile("full", n_sprites=20_000, image_size=64, batch_size=64, n_preview=64,
                    purpose="the long runs behind the benchmarks: tens of minutes per model"),
}


def profile(name: str | None = None) -> Profile:
    """The profile to use: ``name`` if given, else ``$CHARLIB_PROFILE``, else ``learner``."""
    chosen = (name or os.environ.get(ENV_PROFILE) or DEFAULT_PROFILE).strip().lower()
    if chosen not in PROFILES:
        raise CharlibError(f"Unknown profile {chosen!r} (from {'argument' if name else ENV_PROFILE}); "
                           f"choose one of {sorted(PROFILES)}.")
    return PROFILES[chosen]


def settings_for(table: dict[str, dict[str, Any]], chosen: Profile) -> dict[str, Any]:
    """A model kind's settings for ``chosen`` from its table keyed by profile name (a copy)."""
    if chosen.name not in table:
        raise CharlibError(f"No settings for profile {chosen.name!r} here; known: {sorted(table)}")
    return dict(table[chosen.name])


def describe(chosen: Profile) -> str:
    """The first thing a notebook prints: the active profile, what it is for and how to change it."""
    default = " (the default)" if chosen.name == DEFAULT_PROFILE else ""
    others = " or ".join(f'PROFILE = "{name}"' for name in PROFILES if name != chosen.name)
    return (f"Profile {chosen.name!r}{default}: {chosen.purpose}.\n"
            f"{chosen.n_sprites} sprites of {chosen.image_size}x{chosen.image_size} px, batch "
            f"{chosen.batch_size}. To change it, set {others} in this cell, or {ENV_PROFILE} in the "
            "shell before starting Jupyter.")


def code_version() -> str:
    """A short hash of the charlib package's ``.py`` files, so a cache keyed by it is never stale."""
    import hashlib

    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def course_root(start: Path | None = None) -> Path | None:
    """The course repo's top folder (the one holding ``notebooks/`` and ``charlib/``), if found."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "notebooks").is_dir() and (folder / "charlib").is_dir():
            return folder
    return None


def output_dir(*parts: str) -> Path:
    """A folder under the course outputs (created if needed): ``$CHARLIB_OUTPUTS`` or ``outputs/``."""
    env = os.environ.get(ENV_OUTPUTS)
    base = Path(env) if env else (course_root() or Path.cwd()) / "outputs"
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """The course's shipped ``data/`` folder."""
    root = course_root() or course_root(Path(__file__).parent)
    if root is None:
        raise CharlibError("Cannot find the course's data/ folder; run from inside the course repo.")
    return root / "data"


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and (when it is imported) TensorFlow/Keras for a repeatable run."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - legacy global RNG, seeded for third-party code
    os.environ["PYTHONHASHSEED"] = str(seed)
    import sys

    if "tensorflow" in sys.modules or "keras" in sys.modules:
        import keras

        keras.utils.set_random_seed(seed)
