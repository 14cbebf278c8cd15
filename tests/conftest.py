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

TINY_VAE = dict(image_size=16, latent_dim=4, width=4, batch_size=8, n_data=64, sample_every=5,
                ckpt_every=5, log_every=1, n_samples=4, kl_warmup_steps=4)
"""A VAE of the same size (16×16 sprites, 4 filters, 4 latent dimensions)."""

TINY_CONDITIONAL = dict(image_size=16, latent_dim=4, width=8, batch_size=8, steps=6, log_every=2,
                        sample_every=3, ckpt_every=3, n_samples=8, kl_warmup_steps=2)
"""A conditional VAE that trains 6 steps (checkpoints at 3 and 6) in a few seconds."""


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
def tiny_r3gan():
    """``tiny_r3gan(steps=2, ...)``: R3GAN's recipe (``r3gan_config`` of the smoke profile) at the
    tiny GAN's sizes, with these changes."""
    from charlib.config import profile
    from charlib.training.gan import r3gan_config

    return lambda **changes: r3gan_config(profile("smoke"), **{**TINY_GAN, **changes})


@pytest.fixture(scope="session")
def tiny_vae():
    """``tiny_vae(steps=2, ...)``: a VaeConfig of the tiny VAE (:data:`TINY_VAE`) with these changes."""
    from charlib.training.vae import VaeConfig

    return lambda **changes: VaeConfig(**{**TINY_VAE, **changes})


@pytest.fixture(scope="session")
def tiny_conditional():
    """``tiny_conditional(...)``: a ConditionalConfig of :data:`TINY_CONDITIONAL` with these changes."""
    from charlib.training.conditional import ConditionalConfig

    return lambda **changes: ConditionalConfig(**{**TINY_CONDITIONAL, **changes})


@pytest.fixture(scope="session")
def untrained_classifier():
    """An attribute classifier for 32×32 images at its (seeded) initial weights: the diagnostics'
    plumbing runs on it quickly and deterministically."""
    import keras

    from charlib.diagnostics import classifier as C

    keras.utils.set_random_seed(0)
    return C.AttributeClassifier(C.make_classifier_model(32, feature_dim=16), 32)


@pytest.fixture(scope="session")
def tiny_gan_trained(tmp_path_factory, tiny_gan):
    """What ``train_gan`` returned for ``tiny_gan_run`` (its model as trained, in memory): read only."""
    from charlib.training.gan import train_gan

    out = tmp_path_factory.mktemp("tiny") / "gan"
    return train_gan(tiny_gan(steps=10), out, progress=False)


@pytest.fixture(scope="session")
def tiny_gan_run(tiny_gan_trained) -> Path:
    """A finished 10-step run folder of a tiny GAN (checkpoints at steps 5 and 10, generator.keras).
    Shared by the tests of a session: read it only; to change it, use ``tiny_gan_copy``."""
    return Path(tiny_gan_trained.run.path)


@pytest.fixture
def tiny_gan_copy(tiny_gan_run, tmp_path) -> Path:
    """A copy of ``tiny_gan_run`` for this test alone, to corrupt, lock or extend."""
    return Path(shutil.copytree(tiny_gan_run, tmp_path / "gan"))


@pytest.fixture(scope="session")
def tiny_conditional_trained(tmp_path_factory, tiny_conditional):
    """What ``train_conditional`` returned for ``tiny_conditional_run`` (model in memory): read only."""
    from charlib.training.conditional import train_conditional

    out = tmp_path_factory.mktemp("tiny") / "conditional"
    return train_conditional(tiny_conditional(), out, progress=False)


@pytest.fixture(scope="session")
def tiny_conditional_run(tiny_conditional_trained) -> Path:
    """A finished 6-step run folder of the tiny conditional VAE (checkpoints at steps 3 and 6).
    Shared by the tests of a session: read it only; to change it, use ``tiny_conditional_copy``."""
    return Path(tiny_conditional_trained.run.path)


@pytest.fixture
def tiny_conditional_copy(tiny_conditional_run, tmp_path) -> Path:
    """A copy of ``tiny_conditional_run`` for this test alone."""
    return Path(shutil.copytree(tiny_conditional_run, tmp_path / "conditional"))


@pytest.fixture(scope="session")
def tiny_vae_run(tmp_path_factory, tiny_vae) -> Path:
    """A finished 4-step run folder of the tiny VAE (one checkpoint, at step 4). Read it only; tests
    that write into it (a latent prior, samples) use ``tiny_vae_copy``."""
    from charlib.training.vae import train_vae

    out = tmp_path_factory.mktemp("tiny") / "vae"
    train_vae(tiny_vae(steps=4), out, progress=False)
    return out


@pytest.fixture
def tiny_vae_copy(tiny_vae_run, tmp_path) -> Path:
    """A copy of ``tiny_vae_run`` for this test alone."""
    return Path(shutil.copytree(tiny_vae_run, tmp_path / "vae"))


@pytest.fixture
def cli_trainer_calls(monkeypatch) -> list:
    """The command line's trainers replaced by a recorder, for tests of what ``charlib train`` hands
    over (options checked, refused, saved) that need no training: each call appends
    ``(config, out, keyword arguments)`` to the returned list, and trains and writes nothing.
    ``config.to_dict()`` is what config.json would hold."""
    import importlib
    from types import SimpleNamespace

    calls = []

    def record(config, out, **kwargs):
        calls.append((config, out, kwargs))
        return SimpleNamespace(history=[], config=config, run=SimpleNamespace(samples_dir=out, logs_dir=out))

    for module, name in (("charlib.training.gan", "train_gan"), ("charlib.training.vae", "train_vae"),
                         ("charlib.training.conditional", "train_conditional")):
        monkeypatch.setattr(importlib.import_module(module), name, record)
    return calls
