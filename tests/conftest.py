"""Shared pytest fixtures for the charlib tests."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

TINY_GAN = dict(image_size=16, latent_dim=8, g_width=4, d_width=4, batch_size=8, n_data=64,
                sample_every=5, ckpt_every=5, log_every=1, n_samples=4)
"""A GAN small enough to train 10 steps in a few seconds on a CPU (16×16 sprites, 4 filters)."""


def pytest_configure(config):
    """The tests run the ``smoke`` profile, chosen here explicitly: a person who sets nothing gets
    ``learner``, which trains for minutes. Subprocesses (the CLI, JupyterLab) inherit the choice."""
    os.environ["CHARLIB_PROFILE"] = "smoke"


@pytest.fixture
def interrupted_at_batch(monkeypatch):
    """``with interrupted_at_batch(k): train_...(...)`` stops that training with a KeyboardInterrupt
    when it asks for batch k (0-based), as Ctrl-C would, and expects it; batches flow normally after."""
    from charlib.training import trainer

    real_stream = trainer.batch_stream

    @contextmanager
    def interrupted(k: int):
        def interrupting_stream(*args, **kwargs):
            for i, batch in enumerate(real_stream(*args, **kwargs)):
                if i == k:
                    raise KeyboardInterrupt
                yield batch

        monkeypatch.setattr(trainer, "batch_stream", interrupting_stream)
        try:
            with pytest.raises(KeyboardInterrupt):
                yield
        finally:
            monkeypatch.setattr(trainer, "batch_stream", real_stream)

    return interrupted


@pytest.fixture(scope="session")
def benchmark_script():
    """``benchmark_script("remedies_sprites")`` loads ``benchmarks/remedies_sprites.py`` as a module, so
    tests can check a script's helpers (the scripts are not a package)."""
    import importlib.util
    from pathlib import Path

    def load(name: str):
        path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(scope="session")
def tiny_gan():
    """``tiny_gan(steps=2, ...)``: a GanConfig of the tiny GAN (:data:`TINY_GAN`) with these changes."""
    from charlib.training.gan import GanConfig

    return lambda **changes: GanConfig(**{**TINY_GAN, **changes})


@pytest.fixture(scope="session")
def tiny_gan_run(tmp_path_factory, tiny_gan) -> Path:
    """A finished 10-step run folder of a tiny GAN (checkpoints at steps 5 and 10, generator.keras).
    Shared by the tests of a session: read it only; to change it, use ``tiny_gan_copy``."""
    from charlib.training.gan import train_gan

    out = tmp_path_factory.mktemp("tiny") / "gan"
    train_gan(tiny_gan(steps=10), out, progress=False)
    return out


@pytest.fixture
def tiny_gan_copy(tiny_gan_run, tmp_path) -> Path:
    """A copy of ``tiny_gan_run`` for this test alone, to corrupt, lock or extend."""
    return Path(shutil.copytree(tiny_gan_run, tmp_path / "gan"))
