"""The one training loop: every trainer runs its steps through :func:`fit_steps` (step counting, a
``tqdm`` bar, a logged row every ``log_every`` steps, a time budget, and a NaN/Inf guard: the first
non-finite loss stops training with :class:`TrainingDiverged`, one line naming the step).

:func:`run_loop` is :func:`fit_steps` in a run folder: losses go to TensorBoard and ``history.csv``,
sample grids to ``samples/``, and a checkpoint is written every ``ckpt_every`` steps and on an
interrupt (Ctrl-C / "stop kernel"), never after a non-finite loss or weight, so the last checkpoint
on disk is the last good state. A :class:`DiscriminatorWatch` warns once when D has won (the
generator then gets almost no signal) and marks such steps in history.csv's ``d_won`` column.
"""

from __future__ import annotations

import math
import re
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import imageio.v3 as iio
import keras
import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from charlib.base.images import image_grid, save_gif, save_png
from charlib.base.run import RunFolder
from charlib.errors import CharlibError, TrainingDiverged

# A healthy DCGAN with the non-saturating loss often has a confident D: the course's plain DCGAN
# spends stretches of 400 steps with real scores near 0.98 and fake scores near 0.01 and still
# learns (its generator's loss gives it a gradient there). A D that has *won* is saturated, reals at
# 1.000 and fakes at 0.000, for thousands of steps; the bar sits between the two.
D_WON_REAL = 0.995  # D has won when its mean score of real images stays above this...
D_WON_FAKE = 0.005  # ...and its mean score of fakes below this...
D_WON_WINDOW = 500  # ...for this many consecutive steps


@dataclass
class DiscriminatorWatch:
    """Notices a discriminator that has won: :attr:`won` says whether the last ``window`` steps all
    had ``d_real > D_WON_REAL`` and ``d_fake < D_WON_FAKE`` (a model that logs neither is not
    watched); ``warned`` keeps a run, resumed or not, to one warning."""

    window: int
    warned: bool = False
    streak: int = 0
    won: bool = False

    def update(self, logs: Mapping[str, float]) -> bool:
        """Count one step; True exactly when this step is the first to call for the warning."""
        if "d_real" not in logs or "d_fake" not in logs:
            return False
        losing = logs["d_real"] > D_WON_REAL and logs["d_fake"] < D_WON_FAKE
        self.streak = self.streak + 1 if losing else 0
        self.won = self.streak >= self.window
        if self.won and not self.warned:
            self.warned = True
            return True
        return False

    def warning(self, step: int) -> str:
        return (f"Warning: the discriminator has won (step {step}): for {self.window} steps it scored real "
                f"images above {D_WON_REAL} and fakes below {D_WON_FAKE}, so the generator learns "
                "almost nothing. Try PacGAN (--pack 2), the modern baseline (--nets r3gan), or a lower "
                "discriminator learning rate (lr_d); history.csv marks such steps in its d_won column.")


class CheckpointUnreadable(CharlibError):
    """No checkpoint of a run folder can be read: every kept one is damaged or not this run's."""


@dataclass(frozen=True)
class LoopSettings:
    """How often the loop logs, samples and checkpoints (in steps), and whether it shows progress."""

    total_steps: int
    log_every: int = 10
    sample_every: int = 200
    ckpt_every: int = 200
    progress: bool = True
    time_budget_s: float | None = None


class Checkpointer:
    """tf.train checkpoints of the given objects in ``run.ckpt_dir``, keeping the last ``keep``; the
    objects must include ``step``, an int64 ``tf.Variable`` counting finished training steps."""

    def __init__(self, run: RunFolder, keep: int = 3, **objects: object) -> None:
        if "step" not in objects:
            raise ValueError("a Checkpointer needs a 'step' variable among its objects")
        self.step = objects["step"]
        self.weights = [w for obj in objects.values() if isinstance(obj, keras.layers.Layer)
                        for w in obj.weights if keras.backend.is_float_dtype(w.dtype)]
        self.checkpoint = tf.train.Checkpoint(**objects)
        self.manager = tf.train.CheckpointManager(self.checkpoint, str(run.ckpt_dir), max_to_keep=keep)
        self.last: str | None = None

    def save(self) -> str:
        self.last = self.manager.save(checkpoint_number=int(self.step.numpy()))
        return self.last

    def remove_unfinished(self) -> list[str]:
        """Delete what an interrupted checkpoint write left (TensorFlow's ``ckpt-N_temp`` folder, a
        ``checkpoint.tmp…`` state file, the files of a checkpoint not yet recorded in the
        ``checkpoint`` state file); returns the names. Only the run holding the lock may call this."""
        folder = Path(self.manager.directory)
        recorded = {Path(p).name for p in self.manager.checkpoints}
        removed = []
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            prefix = path.name.split(".", 1)[0]  # ckpt-10 of ckpt-10.index, ckpt-10.data-00000-of-00001
            if (path.name.endswith("_temp") or path.name.startswith("checkpoint.tmp")
                    or (re.fullmatch(r"ckpt-\d+", prefix) and prefix not in recorded)):
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink(missing_ok=True)
                removed.append(path.name)
        return removed

    def weights_finite(self) -> bool:
        """Whether every weight of the networks (trainable or not, EMA copies included) is finite."""
        return all(bool(tf.reduce_all(tf.math.is_finite(w))) for w in self.weights)

    def restore_latest(self, partial: bool = False) -> int:
        """Restore the newest readable checkpoint; returns its step (0 if there is none). One that cannot
        be read or lacks one of the objects (not this run's) is skipped for the next older, with a line
        saying so; if none can be read, :class:`CheckpointUnreadable` says why. ``partial``: for
        inference, values the objects do not ask for (optimiser slots not built yet) may stay unread."""
        kept = list(reversed(self.manager.checkpoints))
        failed = []
        for path in kept:
            try:
                status = self.checkpoint.restore(path).assert_existing_objects_matched()
            except Exception as err:  # TF raises OpError, IndexError, AssertionError, ... for bad files
                failed.append(f"{Path(path).name}: {_first_line(err)}")
                continue
            if partial:
                status.expect_partial()
            self.last = path
            if failed:
                print(f"Restored {Path(path).name} from {self.manager.directory}: the newer "
                      f"{', '.join(f.split(':')[0] for f in failed)} could not be read ({failed[0]}).")
            return int(self.step.numpy())
        if failed:
            raise CheckpointUnreadable(
                f"None of the {len(kept)} checkpoints in {self.manager.directory} can be read "
                f"({'; '.join(failed)}). Train a new run in another folder (or check that config.json "
                "is this run's own)."
            )
        return 0

    @property
    def latest_step(self) -> int | None:
        """The step of the newest good checkpoint: the last saved or restored here, else the newest."""
        latest = self.last or self.manager.latest_checkpoint
        return None if latest is None else int(latest.rsplit("-", 1)[-1])


def _first_line(err: BaseException, limit: int = 160) -> str:
    """An exception's message on one short line (TensorFlow's start with a {{function_node ...}} tag)."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    text = re.sub(r"^\{\{[^}]*\}\}\s*", "", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fmt(logs: Mapping[str, float]) -> dict[str, str]:
    return {k: f"{v:.3f}" for k, v in logs.items()}


def fit_steps(step_fn: Callable[[object], Mapping[str, object]], batches: Iterator[object], *, steps: int,
              start: int = 0, log_every: int = 10, progress: bool = True, description: str = "training",
              time_budget_s: float | None = None, on_step: Callable[..., None] | None = None,
              diverged: Callable[[int, str], Exception] | None = None,
              leave: bool = True) -> list[dict[str, float]]:
    """Run ``step_fn(next(batches))`` from step ``start`` to ``steps``; returns the logged rows
    ``{"step": N, **losses}``, every ``log_every`` steps and on the last. After each step
    ``on_step(step, losses, row, last)`` runs (``row``: the row just logged, or None); the first
    non-finite loss raises ``diverged(step, losses)`` (default: :class:`TrainingDiverged`)."""
    def default_diverged(step: int, what: str) -> TrainingDiverged:
        return TrainingDiverged(f"{description} diverged at step {step}: {what}. Stopped; "
                                "try a lower learning rate or another loss.")

    bar = tqdm(total=steps, initial=start, desc=description, unit="step", disable=not progress,
               dynamic_ncols=True, leave=leave)
    history: list[dict[str, float]] = []
    step, started = start, time.monotonic()
    try:
        while step < steps:
            logs = {k: float(v) for k, v in step_fn(next(batches)).items()}
            step += 1
            if not all(math.isfinite(v) for v in logs.values()):
                raise (diverged or default_diverged)(step, str(_fmt(logs)))
            bar.update(1)
            bar.set_postfix(_fmt(logs), refresh=False)
            out_of_time = time_budget_s is not None and time.monotonic() - started >= time_budget_s
            last, row = step == steps or out_of_time, None
            if step % log_every == 0 or last:
                row = {"step": float(step), **logs}
                history.append(row)
            if on_step is not None:
                on_step(step, logs, row, last)
            if out_of_time:
                bar.write(f"Time budget of {time_budget_s / 60:.1f} min spent at step {step}.")
                break
    finally:
        bar.close()
    return history


def run_loop(*, run: RunFolder, step_fn: Callable[[object], Mapping[str, tf.Tensor]],
             batches: Iterator[object], checkpointer: Checkpointer, sample_fn: Callable[[], np.ndarray],
             settings: LoopSettings, description: str = "training") -> list[dict[str, float]]:
    """:func:`fit_steps` in a run folder, from the checkpointer's step to ``settings.total_steps``;
    returns the history, earlier rows included. ``KeyboardInterrupt`` is re-raised after a checkpoint."""
    start = int(checkpointer.step.numpy())
    history = [row for row in run.read_history() if row["step"] <= start]
    writer = tf.summary.create_file_writer(str(run.logs_dir))
    watch = DiscriminatorWatch(D_WON_WINDOW, warned=any(row.get("d_won") for row in history))

    def save_samples(step: int) -> None:
        grid = image_grid(sample_fn())
        save_png(grid, run.samples_dir / f"step_{step:06d}.png", scale=2)
        with writer.as_default():
            tf.summary.image("samples", grid[None], step=step)

    def diverged(step: int, what: str) -> TrainingDiverged:
        last = checkpointer.latest_step
        kept = f"the last good checkpoint (step {last})" if last is not None else "no checkpoint"
        return TrainingDiverged(f"Training diverged at step {step}: {what}. Stopped; {kept} is kept in "
                                f"{run.ckpt_dir}. Try a lower learning rate or a different loss, "
                                "then resume.")

    def checkpoint(step: int) -> None:
        if not checkpointer.weights_finite():  # this state is not good: keep the last one that was
            raise diverged(step, "a weight became NaN or infinite (the losses were finite)")
        # history first: a resumed run drops the rows after its checkpoint, so a kill between the
        # two writes loses no row (the other way round, it would lose those since the last one)
        run.write_history(history)
        checkpointer.save()

    def on_step(step: int, logs: dict[str, float], row: dict[str, float] | None, last: bool) -> None:
        if watch.update(logs):
            tqdm.write(watch.warning(step))
        if row is not None:
            if "d_real" in logs and "d_fake" in logs:
                row["d_won"] = float(watch.won)
            history.append(row)
            with writer.as_default():
                for name, value in row.items():
                    if name != "step":
                        tf.summary.scalar(name, value, step=step)
        if step % settings.sample_every == 0 or last:
            save_samples(step)
        if step % settings.ckpt_every == 0 or last:
            checkpoint(step)

    if start == 0:
        save_samples(0)
    try:
        fit_steps(step_fn, batches, steps=settings.total_steps, start=start, log_every=settings.log_every,
                  progress=settings.progress, description=description,
                  time_budget_s=settings.time_budget_s, on_step=on_step, diverged=diverged)
    except KeyboardInterrupt:
        step = int(checkpointer.step.numpy())
        if step > 0 and checkpointer.latest_step != step:
            checkpoint(step)
        print(f"Interrupted at step {step}; checkpoint saved in {run.ckpt_dir}. Resume to continue.")
        raise
    finally:
        writer.flush()
    grids = sorted(run.samples_dir.glob("step_*.png"))  # resumed runs too: every grid, in step order
    if grids:
        save_gif(np.stack([iio.imread(p)[..., :3] for p in grids]), run.samples_dir / "samples.gif", fps=4.0)
    return history
