"""Profiles: one switch between a quick `smoke` run and a `full` run that gives real results.

Every notebook and command reads the profile the same way, through :func:`profile`: an explicit
argument wins, else the ``CHARLIB_PROFILE`` environment variable, else ``smoke``. The smoke profile
keeps data and training tiny so the whole course runs headless in minutes (that is what the notebook
tests use); the full profile uses real sizes. Where outputs go is decided here too
(:func:`output_dir`): ``outputs/`` at the top of the course repo, or ``CHARLIB_OUTPUTS`` if set.
"""

from __future__ import annotations

import os
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from charlib.errors import CharlibError

ENV_PROFILE = "CHARLIB_PROFILE"
ENV_OUTPUTS = "CHARLIB_OUTPUTS"


@dataclass(frozen=True)
class Profile:
    """Sizes that differ between a smoke run and a full run.

    Attributes:
        name: ``"smoke"`` or ``"full"``.
        n_sprites: how many sprites a notebook draws for its data set.
        image_size: side of the images models train on (pixels).
        batch_size: training batch size.
        n_preview: how many images grids and sheets show.
    """

    name: str
    n_sprites: int
    image_size: int
    batch_size: int
    n_preview: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


PROFILES: dict[str, Profile] = {
    "smoke": Profile("smoke", n_sprites=512, image_size=32, batch_size=32, n_preview=16),
    "full": Profile("full", n_sprites=20_000, image_size=64, batch_size=64, n_preview=64),
}


def profile(name: str | None = None) -> Profile:
    """The profile to use: ``name`` if given, else ``$CHARLIB_PROFILE``, else ``smoke``."""
    chosen = (name or os.environ.get(ENV_PROFILE) or "smoke").strip().lower()
    if chosen not in PROFILES:
        raise CharlibError(
            f"Unknown profile {chosen!r} (from {'argument' if name else ENV_PROFILE}); "
            f"choose one of {sorted(PROFILES)}."
        )
    return PROFILES[chosen]


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
    if env:
        base = Path(env)
    else:
        root = course_root()
        base = (root if root is not None else Path.cwd()) / "outputs"
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
