"""Shared pytest fixtures for the charlib tests."""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest


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
