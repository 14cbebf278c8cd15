"""The training loop every trainer shares: steps, progress, samples, logs, checkpoints, guards.

A model brings a compiled step (``step_fn(batch) -> dict of scalar tensors``) and a way to draw
pictures (``sample_fn() -> uint8 images``); :func:`run_loop` does the rest, the same way for GANs
and VAEs:

* a ``tqdm`` progress bar showing the latest losses;
* every ``log_every`` steps, losses go to TensorBoard and to ``history.csv``;
* every ``sample_every`` steps, a fixed-noise sample grid goes to ``samples/`` and TensorBoard;
* every ``ckpt_every`` steps, and when you interrupt (Ctrl-C / "stop kernel"), a checkpoint;
* an optional time budget: training ends early, cleanly (samples and a checkpoint), when it is spent;
* a NaN/Inf guard: the first non-finite loss stops training with :class:`TrainingDiverged`, and no
  checkpoint is written after it, so the last one on disk is the last good state;
* a watch on the discriminator (:class:`DiscriminatorWatch`, for any model that logs ``d_real`` and
  ``d_fake``): once D has scored reals above :data:`D_WON_REAL` and fakes below :data:`D_WON_FAKE` on
  :data:`D_WON_WINDOW` steps in a row, the generator gets almost no signal, so the loop prints one
  warning with what to try, and history.csv's ``d_won`` column is 1 on every logged step where
  that is the case (0 elsewhere).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from charlib.animation import save_gif
from charlib.errors import CharlibError
from charlib.training.run import RunFolder
from charlib.viz import image_grid, save_png

D_WON_REAL = 0.95  # D has won when its mean score of real images stays above this...
D_WON_FAKE = 0.05  # ...and its mean score of fakes below this...
D_WON_WINDOW = 200  # ...for this many consecutive steps


class DiscriminatorWatch:
    """Notices a discriminator that has won: real scores near 1 and fake scores near 0, sustained.

    :meth:`update` takes each step's logs; :attr:`won` says whether the last ``window`` steps all
    had ``d_real > D_WON_REAL`` and ``d_fake < D_WON_FAKE``. A model that logs no ``d_real`` /
    ``d_fake`` (a VAE) is not watched. ``warned`` is set once the warning has been given, so a run
    warns once, resumed or not (a resumed run starts counting its window afresh).
    """

    def __init__(self, window: int, warned: bool = False) -> None:
        self.window, self.warned = int(window), warned
        self.streak, self.won = 0, False

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


class TrainingDiverged(CharlibError):
    """A loss became NaN or infinite; training stopped and the last good checkpoint was kept."""


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
    """tf.train checkpoints of the given objects in ``run.ckpt_dir``, keeping the last ``keep``.

    The objects must include ``step``, an int64 ``tf.Variable`` counting finished training steps.
    """

    def __init__(self, run: RunFolder, keep: int = 3, **objects: object) -> None:
        if "step" not in objects:
            raise ValueError("a Checkpointer needs a 'step' variable among its objects")
        self.step = objects["step"]
        self.checkpoint = tf.train.Checkpoint(**objects)
        self.manager = tf.train.CheckpointManager(self.checkpoint, str(run.ckpt_dir), max_to_keep=keep)

    def save(self) -> str:
        return self.manager.save(checkpoint_number=int(self.step.numpy()))

    def restore_latest(self) -> int:
        """Restore the newest complete checkpoint, if any; returns the step it holds (0 if none)."""
        latest = self.manager.latest_checkpoint
        if latest is None:
            return 0
        self.checkpoint.restore(latest).assert_existing_objects_matched()
        return int(self.step.numpy())

    @property
    def latest_step(self) -> int | None:
        latest = self.manager.latest_checkpoint
        return None if latest is None else int(latest.rsplit("-", 1)[-1])


def _finite(logs: Mapping[str, float]) -> bool:
    return all(math.isfinite(v) for v in logs.values())


def _fmt(logs: Mapping[str, float]) -> dict[str, str]:
    return {k: f"{v:.3f}" for k, v in logs.items()}


def make_samples_gif(run: RunFolder, fps: float = 4.0) -> None:
    """Animate the saved sample grids (in step order) into ``samples/samples.gif``."""
    import imageio.v3 as iio

    grids = sorted(run.samples_dir.glob("step_*.png"))
    if grids:
        frames = np.stack([iio.imread(p)[..., :3] for p in grids])
        save_gif(frames, run.samples_dir / "samples.gif", fps=fps)


def run_loop(
    *,
    run: RunFolder,
    step_fn: Callable[[object], Mapping[str, tf.Tensor]],
    batches: Iterator[object],
    checkpointer: Checkpointer,
    sample_fn: Callable[[], np.ndarray],
    settings: LoopSettings,
    description: str = "training",
) -> list[dict[str, float]]:
    """Train from the checkpointer's current step to ``settings.total_steps``; returns the history.

    Raises :class:`TrainingDiverged` on a non-finite loss; re-raises ``KeyboardInterrupt`` after
    saving a checkpoint, so a run can be resumed from where it was stopped.
    """
    step = int(checkpointer.step.numpy())
    history = [row for row in run.read_history() if row["step"] <= step]
    writer = tf.summary.create_file_writer(str(run.logs_dir))
    bar = tqdm(total=settings.total_steps, initial=step, desc=description, unit="step",
               disable=not settings.progress, dynamic_ncols=True)
    watch = DiscriminatorWatch(D_WON_WINDOW, warned=any(row.get("d_won") for row in history))

    def save_samples() -> None:
        images = sample_fn()
        save_png(image_grid(images), run.samples_dir / f"step_{step:06d}.png", scale=2)
        with writer.as_default():
            tf.summary.image("samples", image_grid(images)[None], step=step)

    def checkpoint() -> None:
        checkpointer.save()
        run.write_history(history)

    if step == 0:
        save_samples()
    logs: dict[str, float] = {}
    started = time.monotonic()
    try:
        while step < settings.total_steps:
            batch = next(batches)
            logs = {k: float(v) for k, v in step_fn(batch).items()}
            step += 1
            if not _finite(logs):
                last = checkpointer.latest_step
                kept = f"the last good checkpoint (step {last})" if last is not None else "no checkpoint"
                raise TrainingDiverged(
                    f"Training diverged at step {step}: {_fmt(logs)}. Stopped; {kept} is kept in "
                    f"{run.ckpt_dir}. Try a lower learning rate or a different loss, then resume."
                )
            if watch.update(logs):
                bar.write(watch.warning(step))
            bar.update(1)
            bar.set_postfix(_fmt(logs), refresh=False)
            out_of_time = (settings.time_budget_s is not None
                           and time.monotonic() - started >= settings.time_budget_s)
            last_step = step == settings.total_steps or out_of_time
            if step % settings.log_every == 0 or last_step:
                row = {"step": float(step), **logs}
                if "d_real" in logs and "d_fake" in logs:
                    row["d_won"] = float(watch.won)
                history.append(row)
                with writer.as_default():
                    for name, value in row.items():
                        if name == "step":
                            continue
                        tf.summary.scalar(name, value, step=step)
            if step % settings.sample_every == 0 or last_step:
                save_samples()
            if step % settings.ckpt_every == 0 or last_step:
                checkpoint()
            if out_of_time:
                bar.write(f"Time budget of {settings.time_budget_s / 60:.1f} min spent at step {step}.")
                break
    except KeyboardInterrupt:
        if step > 0 and (not logs or _finite(logs)) and checkpointer.latest_step != step:
            checkpoint()
        bar.close()
        print(f"Interrupted at step {step}; checkpoint saved in {run.ckpt_dir}. Resume to continue.")
        raise
    finally:
        bar.close()
        writer.flush()
    make_samples_gif(run)
    return history
