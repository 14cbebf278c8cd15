"""How fast the procedural sprite renderer is, on one CPU core.

Pins the process to a single core, then times ``sample_sprites(10_000, size)`` at 64 and 32 pixels:
once cold (including rasterising the 72 poses x 12 shape variants into part maps, done once per
process and size) and warm (median of 5 repeats). Writes ``benchmarks/results/sprites_speed.json``
and ``.md``.

Usage: python benchmarks/sprites_speed.py [--n 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from charlib.data import sprites as sp

    rows = []
    for size in (64, 32):
        start = time.perf_counter()
        sp.sample_sprites(args.n, size=size, seed=0)
        cold = time.perf_counter() - start
        warm = []
        for seed in range(1, 6):
            start = time.perf_counter()
            sp.sample_sprites(args.n, size=size, seed=seed)
            warm.append(time.perf_counter() - start)
        rows.append({"size": size, "n": args.n, "cold_s": round(cold, 3),
                     "warm_median_s": round(statistics.median(warm), 3),
                     "sprites_per_s_warm": round(args.n / statistics.median(warm))})
    info = {"cores_used": 1, "machine": platform.processor() or platform.machine(),
            "python": platform.python_version(), "results": rows}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sprites_speed.json").write_text(json.dumps(info, indent=2) + "\n")
    table = ["| size | sprites | cold (s, incl. part-map cache) | warm median of 5 (s) | sprites/s |",
             "| --- | --- | --- | --- | --- |"]
    table += [f"| {r['size']}x{r['size']} | {r['n']:,} | {r['cold_s']} | {r['warm_median_s']} | "
              f"{r['sprites_per_s_warm']:,} |" for r in rows]
    (RESULTS / "sprites_speed.md").write_text(
        "Command: `python benchmarks/sprites_speed.py` (one CPU core)\n\n" + "\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    main()
