"""The training-step speed grid on this machine: ``charlib bench`` with every variant, saved.

Runs :func:`charlib.bench.run_bench` over the full grid (reference, default, XLA, bfloat16, float16,
XLA + bfloat16, batch 128, width 16; ``--variants ... fp16-forced`` adds float16 forced onto a CPU),
interleaving the repeats so that load from other programs hits every variant alike, and writes
``benchmarks/results/bench_<cpu|gpu>.{json,csv,md}``. The markdown states the speed target
(the course's default DCGAN at 64x64, batch 64, at least 2x the reference's img/s in the same run)
and which variants reach it. Sized by steps, not time, so results do not depend on load.

Usage: python benchmarks/bench_grid.py [--steps 15] [--repeats 5] [--warmup 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
TARGET = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--variants", nargs="+", default=None)
    parser.add_argument("--note", default="", help="a line to add to the markdown (e.g. machine load)")
    args = parser.parse_args()

    from charlib.bench import FULL, format_table, run_bench, write_report
    from charlib.training.hardware import gpus

    variants = tuple(args.variants) if args.variants else FULL
    report = run_bench(variants, size=64, batch_size=64, steps=args.steps, warmup=args.warmup,
                       repeats=args.repeats, log=lambda line: print(line, flush=True))
    command = "python benchmarks/bench_grid.py " + " ".join(sys.argv[1:])
    report["command"] = command.strip()
    stem = "bench_gpu" if gpus() else "bench_cpu"
    meets = [r for r in report["results"] if r["name"] != "reference" and r["batch_size"] == 64
             and r["ratio_to_reference"] >= TARGET]
    default = next(r for r in report["results"] if r["name"] == "default")
    report["target"] = {"ratio": TARGET, "default_ratio": default["ratio_to_reference"],
                        "met_by": [r["name"] for r in meets]}
    paths = write_report(report, RESULTS, stem)
    lines = [f"Command: `{report['command']}`", "", format_table(report), "",
             f"**Speed target** (64x64, batch 64, the course's DCGAN at least {TARGET:.0f}x the "
             f"reference's img/s in the same run): the default (float32, tf.function) reaches "
             f"**{default['ratio_to_reference']:.2f}x** (rounds {default['ratio_min']:.2f}–"
             f"{default['ratio_max']:.2f}x). Variants at batch 64 that reach it: "
             f"{', '.join(r['name'] for r in meets) or 'none'}.", "",
             "Ratios are per interleaved round (variant / reference in the same round), then the "
             "median over rounds; absolute img/s depend on the machine and on its load. The time of "
             "the first step includes tracing (and XLA compilation)."]
    if args.note:
        lines += ["", args.note]
    paths[2].write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print("Wrote " + ", ".join(str(p) for p in paths))


if __name__ == "__main__":
    main()
