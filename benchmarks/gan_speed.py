"""Training-step speed of the course's default DCGAN against the TF-tutorial reference DCGAN.

Both run in the same process, through the same GAN class, loss, optimisers and batches, at 64x64
and batch 64; only the networks differ. The reference is the TensorFlow tutorial's DCGAN scaled to
64x64 (Dense to 8x8x256, three 5x5 Conv2DTranspose 128/64/3; discriminator two 5x5 strided convs
64/128 with dropout); the course's default has compact 4x4 kernels, widths 32 and EMA on. This is
``charlib bench``'s harness (:func:`charlib.bench.run_bench`) with its two quick variants: warm-up
steps first, then the repeats interleaved (reference, default, reference, default, ...), so load
from other programs slows both alike. Writes ``benchmarks/results/gan_speed.{json,md}``.

Usage: python benchmarks/gan_speed.py [--steps 30] [--repeats 5] [--batch-size 64]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
NAMES = {"reference": "reference (TF tutorial DCGAN, 64x64)",
         "default": "charlib default DCGAN (64x64, EMA on)"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()

    from charlib.bench import run_bench

    report = run_bench(("reference", "default"), size=64, batch_size=args.batch_size, steps=args.steps,
                       repeats=args.repeats)
    keys = ("batch_size", "img_per_s", "img_per_s_min", "img_per_s_max", "ms_per_step", "g_params",
            "d_params", "ratio_to_reference", "ratio_min", "ratio_max")
    rows = [{"name": NAMES[r["name"]], "steps_per_repeat": args.steps, "repeats": args.repeats,
             **{k: r[k] for k in keys}} for r in report["results"]]
    default = next(r for r in report["results"] if r["name"] == "default")
    info = {"cpu_cores": report["cpu_cores"], "machine": report["machine"], "device": report["device"],
            "tensorflow": report["tensorflow"], "interleaved": True,
            "ratio_default_to_reference": default["ratio_to_reference"], "results": rows}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "gan_speed.json").write_text(json.dumps(info, indent=2) + "\n")
    lines = ["Command: `python benchmarks/gan_speed.py` "
             f"({info['cpu_cores']} CPU cores, TensorFlow {info['tensorflow']}, batch {args.batch_size}, "
             f"{args.repeats} interleaved repeats of {args.steps} steps)", "",
             "| model | G params | D params | img/s (median) | min–max | ms/step |",
             "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['name']} | {r['g_params']:,} | {r['d_params']:,} | {r['img_per_s']} | "
              f"{r['img_per_s_min']}–{r['img_per_s_max']} | {r['ms_per_step']} |" for r in rows]
    spread = f"{default['ratio_min']:.2f}–{default['ratio_max']:.2f}"
    lines += ["", "Ratio, charlib default / reference, median of the per-round ratios: "
              f"**{default['ratio_to_reference']:.2f}x** ({spread})"]
    (RESULTS / "gan_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
