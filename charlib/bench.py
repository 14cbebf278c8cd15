"""Timing harness: how many images per second a training step processes, measured fairly.

Speed claims in this course come from here (and ``benchmarks/``), never from timed tests.
:func:`run_bench` (``charlib bench``) times a grid of *variants* of the GAN training step: the
TF-tutorial reference DCGAN, the course's default DCGAN, and the default with one option changed
(XLA, mixed precision, batch size, width). Every variant is built and warmed up first (untimed);
then the repeats are **interleaved** (A B C A B C ...), so a burst of load from another program
slows all variants alike, and each speed is also a ratio to the reference measured in the same
round, which holds across machines. Options this machine cannot use (``mixed_float16`` without a
GPU, bfloat16 without bfloat16 instructions) are skipped with the reason, never an error.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import tensorflow as tf


@dataclass(frozen=True)
class Variant:
    """One way of running the GAN training step: ``model`` "charlib" (the full profile's DCGAN, both
    networks at ``width``, with ``overrides`` of other :class:`~charlib.training.gan.GanConfig`
    settings) or "reference" (the TF-tutorial DCGAN), and the speed options of ``RunConfig``."""

    name: str
    model: str = "charlib"
    precision: str = "float32"
    jit_compile: bool = False
    batch_size: int | None = None  # None: the bench's --batch-size
    width: int = 32
    note: str = ""
    force: bool = False  # run the precision even where charlib would fall back (to measure why)
    overrides: tuple[tuple[str, object], ...] = ()  # e.g. (("d_width", 16), ("minibatch_std", True))


VARIANTS: dict[str, Variant] = {v.name: v for v in (
    Variant("reference", model="reference", note="TF-tutorial DCGAN scaled to the image size"),
    Variant("default", note="the course's DCGAN, tf.function, float32"),
    Variant("xla", jit_compile=True, note="default + XLA (jit_compile=True)"),
    Variant("bf16", precision="mixed_bfloat16", note="default + mixed_bfloat16"),
    Variant("fp16", precision="mixed_float16", note="default + mixed_float16 with loss scaling"),
    Variant("xla+bf16", jit_compile=True, precision="mixed_bfloat16", note="default + XLA + bfloat16"),
    Variant("batch128", batch_size=128, note="default at batch 128"),
    Variant("width16", width=16, note="default with half the channels"),
    Variant("fp16-forced", precision="mixed_float16", force=True,
            note="mixed_float16 even without a GPU (what the fallback avoids)"),
)}  # fmt: skip
QUICK = ("reference", "default")
FULL = tuple(name for name, v in VARIANTS.items() if not v.force)


def skip_reason(variant: Variant) -> str:
    """Why this machine cannot time ``variant`` as asked ("" when it can)."""
    from charlib.training.hardware import resolve_precision

    if variant.force:
        return ""
    chosen, why = resolve_precision(variant.precision)
    return "" if chosen == variant.precision else f"{variant.precision} falls back to float32 here: {why}"


class PeakMemory:
    """Peak memory while a block runs: GPU bytes allocated by TensorFlow, else the process's RSS, whose
    high-water mark (``VmHWM``) is reset through ``/proc/self/clear_refs`` on Linux; elsewhere it is
    the peak since the process started (``resettable`` is then False)."""

    def __init__(self) -> None:
        self.on_gpu = bool(tf.config.list_physical_devices("GPU"))
        self.kind = "GPU peak allocated (MiB)" if self.on_gpu else "process peak RSS (MiB)"
        self.resettable = self.on_gpu or self.reset()

    def reset(self) -> bool:
        """Start a new peak; False where the process's high-water mark cannot be reset."""
        if self.on_gpu:
            tf.config.experimental.reset_memory_stats("GPU:0")
            return True
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
            return True
        except OSError:
            return False

    def peak_mib(self) -> float:
        if self.on_gpu:
            return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
        try:
            for line in open("/proc/self/status").read().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _build(variant: Variant, size: int, batch_size: int):
    """(compiled step, params of G and D) for a variant."""
    import keras

    from charlib.config import profile
    from charlib.models import dcgan
    from charlib.training import hardware
    from charlib.training.gan import GAN, GanConfig, build_gan

    plan = hardware.plan(variant.precision, variant.jit_compile)
    if variant.force:
        plan.precision = variant.precision
    with plan.scope():
        if variant.model == "reference":
            gan = GAN(dcgan.reference_generator(100, size), dcgan.reference_discriminator(size),
                      latent_dim=100)
            gan.compile(keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5))
        else:
            config = GanConfig.from_profile(profile("full"), **{
                "image_size": size, "batch_size": batch_size, "g_width": variant.width,
                "d_width": variant.width, "precision": variant.precision,
                "jit_compile": variant.jit_compile, **dict(variant.overrides)})
            gan = build_gan(config)
    return plan.compile_step(gan.train_step), gan.generator.count_params(), gan.discriminator.count_params()


def _time_steps(step: Callable, batches, n: int) -> float:
    """Seconds that ``n`` steps take, waiting for the last one's results (steps run asynchronously)."""
    start, out = time.perf_counter(), None
    for _ in range(n):
        out = step(next(batches))
    for v in out.values() if isinstance(out, dict) else [out]:
        if isinstance(v, tf.Tensor):
            v.numpy()
    return time.perf_counter() - start


def run_bench(variants: tuple[str | Variant, ...] = QUICK, size: int = 64, batch_size: int = 64,
              steps: int = 10, warmup: int = 3, repeats: int = 3, n_images: int = 1024,
              log: Callable[[str], None] = print) -> dict[str, object]:
    """Time the GAN training step of each variant (names in :data:`VARIANTS` or :class:`Variant`
    objects of your own), interleaved over ``repeats`` rounds of ``steps`` after ``warmup`` steps;
    "reference" is added when missing, since ratios need it. ``size`` is 4 * 2**k (16, 32, 64, ...).

    Returns a dict with the device, settings, ``skipped`` (name and reason) and ``results``: per
    variant img/s and its ratio to the reference in the same round (median, min, max), ms/step,
    peak memory and the time of the first (compiling) step.
    """
    from charlib.data.sprites import sample_sprites
    from charlib.errors import CharlibError
    from charlib.training.hardware import device_name
    from charlib.training.trainer import batch_stream

    table = {**VARIANTS, **{v.name: v for v in variants if isinstance(v, Variant)}}
    variants = tuple(v.name if isinstance(v, Variant) else v for v in variants)
    unknown = [v for v in variants if v not in table]
    if unknown:
        raise CharlibError(f"unknown bench variant(s) {', '.join(unknown)}; "
                           f"choose from {', '.join(VARIANTS)}")
    if min(steps, repeats, batch_size) < 1 or warmup < 1:
        raise CharlibError("steps, repeats, batch size and warm-up must each be at least 1")
    names = ["reference", *[v for v in dict.fromkeys(variants) if v != "reference"]]
    images = sample_sprites(max(n_images, 2 * batch_size, 256), size=size, seed=0).images
    memory = PeakMemory()
    skipped, runs = [], {}
    logger, level = tf.get_logger(), tf.get_logger().level
    logger.setLevel("ERROR")  # every variant traces GAN.train_step anew, on purpose: no retracing warnings
    try:
        for variant in (table[n] for n in names):  # build and warm up each (untimed)
            name = variant.name
            why = skip_reason(variant)
            if why:
                skipped.append({"name": name, "reason": why})
                log(f"skipped {name}: {why}")
                continue
            bs = variant.batch_size or batch_size
            step, g_params, d_params = _build(variant, size, bs)
            batches = iter(batch_stream(images, bs, 0, True))
            first = _time_steps(step, batches, 1)
            _time_steps(step, batches, warmup - 1)
            runs[name] = {"variant": variant, "step": step, "batches": batches, "batch_size": bs,
                          "g_params": g_params, "d_params": d_params, "first_step_s": first,
                          "rates": [], "peaks": []}
            log(f"built {name}: first step (trace/compile) {first:.1f} s")
        for r in range(repeats):  # then the timed rounds, interleaved
            for run in runs.values():
                memory.reset()
                seconds = _time_steps(run["step"], run["batches"], steps)
                run["rates"].append(steps * run["batch_size"] / seconds)
                run["peaks"].append(memory.peak_mib())
            rates = ", ".join(f"{n} {run['rates'][-1]:.0f}" for n, run in runs.items())
            log(f"round {r + 1}/{repeats}: {rates} img/s")
    finally:
        logger.setLevel(level)
    reference = runs["reference"]["rates"]
    rows = []
    for name, run in runs.items():
        v, rates = run["variant"], run["rates"]
        ratios = [a / b for a, b in zip(rates, reference, strict=True)]
        median = statistics.median(rates)
        rows.append({
            "name": name, "model": v.model, "precision": v.precision, "jit_compile": v.jit_compile,
            "batch_size": run["batch_size"], "width": v.width if v.model == "charlib" else None,
            "note": v.note, "g_params": run["g_params"], "d_params": run["d_params"],
            "img_per_s": round(median, 1), "img_per_s_min": round(min(rates), 1),
            "img_per_s_max": round(max(rates), 1),
            "ms_per_step": round(1000.0 * run["batch_size"] / median, 2),
            "ratio_to_reference": round(statistics.median(ratios), 2),
            "ratio_min": round(min(ratios), 2), "ratio_max": round(max(ratios), 2),
            "peak_mem_mib": round(max(run["peaks"]), 1), "first_step_s": round(run["first_step_s"], 2),
        })  # fmt: skip
    return {
        "device": device_name(), "tensorflow": tf.__version__, "cpu_cores": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "settings": {"size": size, "batch_size": batch_size, "steps": steps, "warmup": warmup,
                     "repeats": repeats, "interleaved": True},
        "memory": memory.kind + ("" if memory.resettable else ", since process start"),
        "skipped": skipped, "results": rows,
    }


COLUMNS = ("name", "precision", "jit_compile", "batch_size", "width", "img_per_s", "img_per_s_min",
           "img_per_s_max", "ms_per_step", "ratio_to_reference", "ratio_min", "ratio_max",
           "peak_mem_mib", "first_step_s", "g_params", "d_params", "note")


def format_table(report: dict[str, object]) -> str:
    """The results as a markdown table, with the device, settings and skipped variants."""
    s = report["settings"]
    lines = [f"Device: {report['device']}, TensorFlow {report['tensorflow']}; {s['size']}x{s['size']}, "
             f"{s['repeats']} interleaved rounds of {s['steps']} steps after {s['warmup']} warm-up steps. "
             f"Memory: {report['memory']}.", "",
             "| variant | precision | XLA | batch | img/s (median) | min–max | ms/step | "
             "× reference (median, min–max) | peak MiB | first step s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in report["results"]:
        lines.append(f"| {r['name']} | {r['precision']} | {'yes' if r['jit_compile'] else 'no'} | "
                     f"{r['batch_size']} | {r['img_per_s']} | {r['img_per_s_min']}–{r['img_per_s_max']} | "
                     f"{r['ms_per_step']} | **{r['ratio_to_reference']:.2f}x** ({r['ratio_min']:.2f}–"
                     f"{r['ratio_max']:.2f}) | {r['peak_mem_mib']} | {r['first_step_s']} |")
    for sk in report["skipped"]:
        lines.append(f"\nSkipped {sk['name']}: {sk['reason']}.")
    return "\n".join(lines)


def write_report(report: dict[str, object], out: str | Path, stem: str = "bench") -> list[Path]:
    """Write ``stem.json``, ``stem.csv`` and ``stem.md`` into the folder ``out``; returns the paths."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{stem}.json", folder / f"{stem}.csv", folder / f"{stem}.md"]
    paths[0].write_text(json.dumps(report, indent=2) + "\n")
    with open(paths[1], "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(report["results"])
    paths[2].write_text(format_table(report) + "\n")
    return paths
