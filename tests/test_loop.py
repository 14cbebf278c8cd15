"""The one training loop: every trainer runs its steps through ``charlib.training.loop.fit_steps``.

The core loop counts the steps, logs every ``log_every`` of them and stops at the first non-finite
loss with one line. The broken twin proves that each trainer (GAN, VAE, conditional VAE, motion
VAE, sprite classifier, toy GAN) really goes through it: a ``fit_steps`` whose step returns NaN
from its second call must stop every one of them at step 2, with one line and nothing after.
"""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest

# every trainer's module is imported before the broken twin is put in place (and taken out again)
import charlib.diagnostics.classifier
import charlib.diagnostics.toys
import charlib.training.conditional
import charlib.training.gan
import charlib.training.motion
import charlib.training.vae  # noqa: F401
from charlib.errors import CharlibError, TrainingDiverged
from charlib.training import loop


def _one_line_at_step(err: BaseException, step: int) -> str:
    text = str(err)
    assert isinstance(err, CharlibError), "a learner's divergence is a CharlibError: one line, no traceback"
    assert "\n" not in text and re.search(rf"diverged at step {step}: ", text), text
    return text


def _stub(values):
    """A step function returning ``{"loss": v}`` for the given values in turn, and the batches it got."""
    seen, values = [], iter(values)

    def step_fn(batch):
        seen.append(batch)
        return {"loss": next(values)}

    return step_fn, seen


def test_fit_steps_counts_from_start_logs_every_k_steps_and_the_last():
    step_fn, seen = _stub([0.5] * 7)
    calls = []
    history = loop.fit_steps(step_fn, iter(range(100)), steps=10, start=3, log_every=3, progress=False,
                             on_step=lambda step, _, row, last: calls.append((step, row is not None, last)))
    assert seen == list(range(7))  # one batch per step, steps 4..10
    assert [row["step"] for row in history] == [6.0, 9.0, 10.0]
    assert history[0] == {"step": 6.0, "loss": 0.5}
    assert calls == [(s, s in (6, 9, 10), s == 10) for s in range(4, 11)]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_fit_steps_stops_at_the_first_non_finite_loss_with_one_line(bad):
    step_fn, seen = _stub([1.0, 2.0, bad, 3.0])
    after = []
    with pytest.raises(TrainingDiverged) as info:
        loop.fit_steps(step_fn, iter(range(100)), steps=4, progress=False, description="stub",
                       on_step=lambda step, *_: after.append(step))
    assert _one_line_at_step(info.value, 3).startswith("stub diverged at step 3: ")
    assert len(seen) == 3 and after == [1, 2]  # nothing runs after the bad step


def test_fit_steps_ends_on_the_step_its_time_budget_runs_out(capsys):
    step_fn, _ = _stub([1.0] * 5)
    history = loop.fit_steps(step_fn, iter(range(5)), steps=5, log_every=100, progress=False,
                             time_budget_s=0.0)
    assert history == [{"step": 1.0, "loss": 1.0}]
    assert "Time budget" in capsys.readouterr().out


@pytest.fixture
def nan_from_step_2(monkeypatch):
    """Every charlib module's ``fit_steps`` replaced by a broken twin whose step returns NaN losses
    from its second call on; returns the list of the twin's calls (one per training run)."""
    real, runs = loop.fit_steps, []

    def broken(step_fn, *args, **kwargs):
        calls = []

        def nan_step(batch):
            calls.append(1)
            logs = step_fn(batch)
            return logs if len(calls) < 2 else {name: float("nan") for name in logs}

        runs.append(calls)
        return real(nan_step, *args, **kwargs)

    for name, module in list(sys.modules.items()):
        if name.startswith("charlib") and getattr(module, "fit_steps", None) is real:
            monkeypatch.setattr(module, "fit_steps", broken)
    return runs


def _train_gan(tmp_path, tiny_gan, **_):
    from charlib.training.gan import train_gan

    train_gan(tiny_gan(steps=4, ckpt_every=1), tmp_path / "run", progress=False)


def _train_vae(tmp_path, tiny_vae, **_):
    from charlib.training.vae import train_vae

    train_vae(tiny_vae(steps=4, ckpt_every=1), tmp_path / "run", progress=False)


def _train_conditional(tmp_path, tiny_conditional, **_):
    from charlib.training.conditional import train_conditional

    train_conditional(tiny_conditional(steps=4, ckpt_every=1), tmp_path / "run", progress=False)


def _train_motion(*_, **__):
    from charlib.data import skeleton as sk
    from charlib.models.motion import MotionVAE
    from charlib.training.motion import train_motion

    joints, acts, dirs = sk.sample_motion(32, size=64, seed=0, actions=("walk",), directions=("left",))
    train_motion(MotionVAE(latent_dim=2, units=8), joints, acts, dirs, 64, steps=4, batch_size=16,
                 log_every=1, progress=False)


def _train_classifier(*_, **__):
    from charlib.diagnostics.classifier import train_classifier

    train_classifier(32, quick=True, n_train=256, epochs=1, n_eval=16, progress=False)


def _train_toy_gan(*_, **__):
    from charlib.diagnostics import toys

    toys.train_toy_gan(toys.ring().sample, steps=4, batch_size=32, n_snapshot=8, progress=False)


TRAINERS = {"gan": _train_gan, "vae": _train_vae, "conditional": _train_conditional,
            "motion": _train_motion, "classifier": _train_classifier, "toy_gan": _train_toy_gan}


@pytest.mark.parametrize("kind", sorted(TRAINERS))
def test_every_trainer_goes_through_fit_steps_and_its_nan_guard(kind, nan_from_step_2, tmp_path, tiny_gan,
                                                                tiny_vae, tiny_conditional):
    with pytest.raises(TrainingDiverged) as info:
        TRAINERS[kind](tmp_path, tiny_gan=tiny_gan, tiny_vae=tiny_vae, tiny_conditional=tiny_conditional)
    assert [len(calls) for calls in nan_from_step_2] == [2]  # one run, stopped on its second step
    text = _one_line_at_step(info.value, 2)
    if kind in ("gan", "vae", "conditional"):  # run folders keep the last good checkpoint, none after
        assert "the last good checkpoint (step 1)" in text
        assert sorted(p.name for p in (tmp_path / "run" / "ckpt").glob("*.index")) == ["ckpt-1.index"]


def test_a_diverging_motion_vae_or_toy_gan_stops_in_one_line():
    """Real divergence, no twin: NaN joints, NaN data points (the GAN's own is in test_training_gan)."""
    from charlib.data import skeleton as sk
    from charlib.diagnostics import toys
    from charlib.models.motion import MotionVAE
    from charlib.training.motion import train_motion

    joints, acts, dirs = sk.sample_motion(32, size=64, seed=0, actions=("walk",), directions=("left",))
    with pytest.raises(TrainingDiverged) as info:
        train_motion(MotionVAE(latent_dim=2, units=8), np.full_like(joints, np.nan), acts, dirs, 64,
                     steps=3, batch_size=16, log_every=10, progress=False)
    assert _one_line_at_step(info.value, 1).startswith("motion VAE diverged")
    with pytest.raises(TrainingDiverged) as info:
        toys.train_toy_gan(lambda n, rng: np.full((n, 2), np.nan), steps=3, batch_size=16, n_snapshot=4,
                           progress=False)
    assert _one_line_at_step(info.value, 1).startswith("toy GAN (nonsaturating) diverged")
