"""Running a training step fast on the hardware at hand: compilation, precision and replicas.

``tf.function`` traces the Python step once into a graph, which removes Python's per-operation
overhead; ``jit_compile=True`` also hands the graph to XLA, which fuses operations into fewer
kernels (often a win on GPUs; measured *slower* on our 2-core CPU). Mixed precision computes
activations in 16 bits while keeping the weights, the final layers and the losses in float32:
``mixed_bfloat16`` keeps float32's range and needs no loss scaling, while ``mixed_float16``'s 5
exponent bits make small gradients underflow unless the loss is multiplied by a *loss scale*
before differentiation (Keras's ``LossScaleOptimizer`` divides it out, skips overflowing steps
and adapts the scale). ``tf.distribute.MirroredStrategy`` keeps one copy of the model per device,
gives each a slice of every batch and sums their gradients.

:func:`plan` turns a run's requested options into what this machine will actually do, with a
one-line notice (an option that cannot help here falls back, it never fails). The trainer builds
models inside :meth:`Plan.scope` and compiles its step with :meth:`Plan.compile_step`; model steps
call :func:`gradients` and :func:`replica_key`, which are no-ops on one device in float32.

The trainers' steps are compiled by :func:`graph` with AutoGraph off (:data:`AUTOGRAPH`).
AutoGraph rewrites Python ``if``/``for`` on *tensors* into graph control flow; the course's steps
have none (their ``if``s test settings fixed when the step is traced, and R3GAN's lazy penalty is
a ``tf.cond``), so with AutoGraph off they trace faster and errors point at the lines as written.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from charlib.errors import CharlibError

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
AUTOGRAPH = False  # charlib's steps branch on Python settings only (see the module docstring)


def graph(fn: Callable | None = None, *, jit_compile: bool = False) -> Callable:
    """``fn`` traced into a graph by ``tf.function`` with AutoGraph off (:data:`AUTOGRAPH`), and
    with XLA when ``jit_compile``; usable as ``@graph`` or ``graph(step, jit_compile=True)``."""
    if fn is None:
        return lambda f: graph(f, jit_compile=jit_compile)
    return tf.function(fn, autograph=AUTOGRAPH, jit_compile=jit_compile or None)


class OptionError(CharlibError):
    """A training speed option has a value charlib does not know."""


def check_precision(precision: str) -> str:
    """``precision`` if it is one of :data:`PRECISIONS`, else an :class:`OptionError`."""
    if precision not in PRECISIONS:
        raise OptionError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
    return precision


def gpus() -> list[tf.config.PhysicalDevice]:
    """The GPUs TensorFlow can use (an empty list on a CPU-only machine)."""
    return tf.config.list_physical_devices("GPU")


def gpu_compute_capability(gpu: tf.config.PhysicalDevice) -> tuple[int, int] | None:
    """(major, minor) CUDA compute capability of a GPU, or None when TensorFlow does not say."""
    cc = tf.config.experimental.get_device_details(gpu).get("compute_capability")
    return tuple(cc) if cc else None


def cpu_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> set[str]:
    """The CPU feature flags Linux reports (an empty set elsewhere)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def device_name() -> str:
    """A short description of where training runs, e.g. ``"GPU x1 (NVIDIA H100, cc 9.0)"``."""
    found = gpus()
    if not found:
        return f"CPU ({os.cpu_count()} cores)"
    name = tf.config.experimental.get_device_details(found[0]).get("device_name", "GPU")
    cc = gpu_compute_capability(found[0])
    return f"GPU x{len(found)} ({name}{f', cc {cc[0]}.{cc[1]}' if cc else ''})"


def resolve_precision(requested: str, flags: set[str] | None = None,
                      gpu_list: list | None = None) -> tuple[str, str]:
    """The precision this machine will use for ``requested``, and why (empty when as requested).

    ``mixed_float16`` needs a GPU (forced onto our 2-core CPU, it ran about 200x slower);
    ``mixed_bfloat16`` needs a GPU of compute capability 8.0 or newer, or a CPU with bfloat16
    instructions (``avx512_bf16`` or ``amx_bf16``). Otherwise the answer is float32.
    """
    check_precision(requested)
    found = gpus() if gpu_list is None else gpu_list
    if requested == "float32" or (requested == "mixed_float16" and found):
        return requested, ""
    if requested == "mixed_float16":
        return "float32", "no GPU, and float16 ran about 200x slower than float32 on our CPU"
    if found:
        cc = gpu_compute_capability(found[0]) if gpu_list is None else None
        if cc is not None and cc < (8, 0):
            return "float32", f"bfloat16 needs compute capability 8.0+, this GPU has {cc[0]}.{cc[1]}"
        return requested, ""
    if (cpu_flags() if flags is None else flags) & {"avx512_bf16", "amx_bf16"}:
        return requested, ""
    return "float32", "this CPU has no bfloat16 instructions (avx512_bf16 or amx_bf16)"


@contextlib.contextmanager
def dtype_policy(precision: str) -> Iterator[None]:
    """Layers built inside this block compute in ``precision`` (a Keras dtype policy name); their
    variables stay float32, and layers built with ``dtype="float32"`` stay float32 entirely."""
    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)


def loss_scaled(optimizer: keras.optimizers.Optimizer, precision: str) -> keras.optimizers.Optimizer:
    """Wrap ``optimizer`` in a ``LossScaleOptimizer`` when the run asks for ``mixed_float16``: the
    *requested* precision, not the machine's, so checkpoints have the same structure wherever a run
    resumes (in float32 the scaling is harmless)."""
    if check_precision(precision) == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def gradients(tape: tf.GradientTape, loss: tf.Tensor, variables: list,
              optimizer: keras.optimizers.Optimizer) -> list:
    """d(loss)/d(variables), ready for ``optimizer.apply_gradients`` on any number of replicas.

    With a ``LossScaleOptimizer`` the backward pass starts from the loss scale instead of 1 (as if
    differentiating ``scale * loss``), so small float16 gradients do not underflow; with N replicas
    it starts from 1/N, because the optimizer *sums* the replicas' gradients of per-slice means.
    """
    scale = None
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        scale = tf.cast(optimizer.dynamic_scale, loss.dtype)
    n = tf.distribute.get_strategy().num_replicas_in_sync
    if n > 1:
        scale = 1.0 / n if scale is None else scale / n
    if scale is None:
        return tape.gradient(loss, variables)
    return tape.gradient(loss, variables, output_gradients=scale * tf.ones_like(loss))


def replica_key(step: tf.Tensor | tf.Variable | int) -> tf.Tensor:
    """A random-number key for this step: ``step`` on one device, ``N * step + r`` on replica ``r``
    of ``N``, so replicas draw different noise and no two steps share a key."""
    step = tf.cast(step, tf.int64)
    ctx = tf.distribute.get_replica_context()
    n = 1 if ctx is None else ctx.num_replicas_in_sync
    if n == 1:
        return step
    return step * n + tf.cast(ctx.replica_id_in_sync_group, tf.int64)


@dataclass
class Plan:
    """What a run will actually do on this machine (built by :func:`plan`); ``notes`` explains
    each fallback."""

    device: str
    precision: str
    requested_precision: str
    jit_compile: bool
    strategy: tf.distribute.Strategy | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def replicas(self) -> int:
        return 1 if self.strategy is None else self.strategy.num_replicas_in_sync

    def summary(self) -> str:
        """One line: device, precision, compilation and replicas, with any fallback explained."""
        parts = [self.precision, "XLA" if self.jit_compile else "tf.function"]
        if self.strategy is not None:
            parts.append(f"MirroredStrategy x{self.replicas}")
        line = f"Training on {self.device}: {', '.join(parts)}"
        return line + (f" ({'; '.join(self.notes)})" if self.notes else "") + "."

    def as_dict(self) -> dict[str, Any]:
        return {"device": self.device, "precision": self.precision, "jit_compile": self.jit_compile,
                "replicas": self.replicas, "notes": list(self.notes)}

    @contextlib.contextmanager
    def scope(self) -> Iterator[None]:
        """Build models and optimisers in here: the dtype policy, and the strategy's scope if any."""
        strategy_scope = contextlib.nullcontext() if self.strategy is None else self.strategy.scope()
        with strategy_scope, dtype_policy(self.precision):
            yield

    def compile_step(self, train_step: Callable[[Any], Mapping[str, tf.Tensor]]
                     ) -> Callable[[Any], Mapping[str, tf.Tensor]]:
        """``train_step`` as a graph (with XLA when asked); with a strategy, each whole batch is split
        into equal slices, one per replica, and the replicas' outputs are averaged."""
        if self.strategy is None:
            return graph(train_step, jit_compile=self.jit_compile)
        strategy = self.strategy
        # traced once, inside the replicated graph; XLA compiles each replica's step
        step = graph(train_step, jit_compile=True) if self.jit_compile else train_step

        @graph
        def replicated(batch: Any) -> dict[str, tf.Tensor]:
            outputs = strategy.run(step, args=(batch,))
            return {k: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None)
                    for k, v in outputs.items()}

        return lambda batch: replicated(self.split_batch(batch))

    def split_batch(self, batch: Any) -> Any:
        """Give each replica its slice of a batch (tensors or tuples of tensors, batch first)."""
        strategy = self.strategy
        n = strategy.num_replicas_in_sync
        size = int(tf.nest.flatten(batch)[0].shape[0])
        if size % n:
            raise OptionError(f"batch size {size} does not split evenly over {n} replicas; "
                              f"use a multiple of {n}")
        per = size // n

        def slice_for(ctx: tf.distribute.InputContext) -> Any:
            i = ctx.replica_id_in_sync_group
            return tf.nest.map_structure(lambda t: t[i * per : (i + 1) * per], batch)

        return strategy.experimental_distribute_values_from_function(slice_for)


_STRATEGIES: dict[tuple[str, ...] | None, tf.distribute.Strategy] = {}


def mirrored_strategy(devices: list[str] | None = None) -> tf.distribute.Strategy:
    """One ``MirroredStrategy`` per set of devices for the whole process: two over the same devices
    would number their collective operations alike, and their all-reduces would collide."""
    key = None if devices is None else tuple(devices)
    if key not in _STRATEGIES:
        _STRATEGIES[key] = tf.distribute.MirroredStrategy(devices=devices)
    return _STRATEGIES[key]


def plan(precision: str = "float32", jit_compile: bool = False, distribute: bool = False,
         devices: list[str] | None = None) -> Plan:
    """Decide how a run executes here, falling back (with a note) where an option cannot help.

    ``distribute`` uses ``MirroredStrategy`` over all GPUs (the CPU when there is none), or over
    ``devices`` (e.g. two logical CPUs in a test).
    """
    chosen, why = resolve_precision(precision)
    notes = [f"{precision} asked, float32 used: {why}"] if why else []
    strategy = None
    if distribute:
        strategy = mirrored_strategy(devices)
        if strategy.num_replicas_in_sync == 1:
            notes.append("one device, so MirroredStrategy runs a single replica")
        elif jit_compile:  # one XLA cluster would read every replica's variables from one device
            jit_compile = False
            notes.append("XLA asked, tf.function used: charlib does not combine XLA with several replicas")
    if jit_compile and not gpus():
        notes.append("XLA on a CPU: measured slower than tf.function on our 2-core machine")
    return Plan(device_name(), chosen, precision, bool(jit_compile), strategy, notes)
