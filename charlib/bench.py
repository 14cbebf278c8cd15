"""Timing harness: how many images per second a training step processes, measured fairly.

Speed claims in this course come from here (and the scripts in ``benchmarks/``), never from timed
tests. A measurement compiles the step, runs warm-up steps that are not counted, then times several
repeats of a fixed number of steps and reports the median and the spread, always with a baseline
measured in the same process so results can be read as ratios that hold across machines.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

import tensorflow as tf


@dataclass(frozen=True)
class StepTiming:
    """Images per second of a training step: median and min/max over repeats."""

    name: str
    batch_size: int
    steps_per_repeat: int
    repeats: int
    img_per_s: float
    img_per_s_min: float
    img_per_s_max: float
    ms_per_step: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def time_step(name: str, step_fn: Callable[[object], dict], batches: Iterator[object], batch_size: int,
              warmup: int = 5, steps: int = 20, repeats: int = 3) -> StepTiming:
    """Time ``step_fn`` on batches from ``batches`` (already on the device, as training sees them).

    Each repeat ends by reading one output value, which waits for the device to finish.
    """
    out = None
    for _ in range(warmup):
        out = step_fn(next(batches))
    if out is not None:
        _sync(out)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            out = step_fn(next(batches))
        _sync(out)
        rates.append(steps * batch_size / (time.perf_counter() - start))
    median = statistics.median(rates)
    return StepTiming(name, batch_size, steps, repeats, round(median, 1), round(min(rates), 1),
                      round(max(rates), 1), round(1000.0 * batch_size / median, 2))


def _sync(out: object) -> None:
    values = out.values() if isinstance(out, dict) else [out]
    for v in values:
        if isinstance(v, tf.Tensor):
            v.numpy()
