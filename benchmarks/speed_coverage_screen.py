"""A quick screen of DCGAN settings at 64x64 that might stop the discriminator from winning.

At 64x64 the course's default DCGAN collapses within a few hundred steps (its discriminator wins:
D(fake) near 0), while the weaker TF-tutorial reference keeps learning (``speed_coverage.md``).
This script trains one candidate at a time, a fixed number of steps (not a time budget, so the
result does not depend on how loaded the machine is), with nothing but ``GanConfig`` switches
changed from ``GanConfig.from_profile(full, image_size=64)``, and scores it with
``charlib.diagnostics.diagnose`` on ``--n`` samples. It is a screen, not the measurement: 800 steps
and n=2000 (whose reverse-KL floor is higher than at n=10,000) only rank candidates against each
other and against the reference run scored the same way (``--reference DIR``); the winner is then
measured at equal wall time by ``speed_coverage.py --extra-overrides``.

Results: ``benchmarks/results/speed_coverage_screen.json`` and ``.md`` (one row per candidate,
rewritten after each).

Usage: CHARLIB_OUTPUTS=/tmp/x python benchmarks/speed_coverage_screen.py NAME '{"lr_d": 5e-5}'
       [--steps 800] [--n 2000]
       CHARLIB_OUTPUTS=/tmp/x python benchmarks/speed_coverage_screen.py reference --reference DIR
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
METRICS = ("modes_covered", "n_modes", "kl", "precision", "recall", "density", "coverage", "frechet_distance")


def _d_end(run_dir: Path) -> dict:
    """D(real) and D(fake) at the last logged step, and their means over the last tenth of the log."""
    from charlib.base.run import RunFolder

    rows = RunFolder.open(run_dir).read_history()
    if not rows:
        return {}
    tail = rows[-max(1, len(rows) // 10):]
    return {"step": int(rows[-1]["step"]), "d_real": round(rows[-1]["d_real"], 4),
            "d_fake": round(rows[-1]["d_fake"], 4),
            "d_real_tail": round(sum(r["d_real"] for r in tail) / len(tail), 4),
            "d_fake_tail": round(sum(r["d_fake"] for r in tail) / len(tail), 4)}


def _markdown(saved: dict) -> str:
    lines = [
        "# Screening DCGAN settings at 64x64 against the discriminator winning",
        "",
        "Each candidate is `GanConfig.from_profile(profile(\"full\"), image_size=64, steps=STEPS, "
        "max_minutes=None, **overrides)` (batch 64, 20,000 training sprites), trained for a fixed number "
        "of steps with `train_gan`, then scored by `charlib.diagnostics.diagnose(run, n=N, seed=0)`. "
        "The reference row is the TF-tutorial run of `speed_coverage.md` (845 steps, 10 wall minutes) "
        "scored the same way. **This is a screen**: few steps and n=2000 (the reverse KL's floor at "
        "n=2000 is higher than at 10,000), so the rows rank candidates; they are not the measurement. "
        "Seconds are wall time on a 2-core CPU shared with other jobs (load in the column), not a "
        "speed result.",
        "",
        "| candidate | overrides | steps | train s | load start → end | D(real) / D(fake) last | "
        "D(real) / D(fake) mean of last 10% | modes (of 1000) | KL | precision | recall | coverage | FCD |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in saved["rows"]:
        d = r.get("d", {})
        dl = f"{d['d_real']:.3f} / {d['d_fake']:.3f}" if d else ""
        dt = f"{d['d_real_tail']:.3f} / {d['d_fake_tail']:.3f}" if d else ""
        load = f"{r['load_start']:.1f} → {r['load_end']:.1f}" if "load_start" in r else ""
        steps = f"{r.get('steps', '')}" + (" (stopped early)" if r.get("stopped") else "")
        kl = "n/a (no sample in a training mode)" if r["kl"] is None else f"{r['kl']:.3f}"
        lines.append(f"| {r['name']} | `{json.dumps(r['overrides'])}` | {steps} | "
                     f"{r.get('train_seconds', '')} | {load} | {dl} | {dt} | {r['modes_covered']} | "
                     f"{kl} | {r['precision']:.3f} | {r['recall']:.3f} | {r['coverage']:.3f} | "
                     f"{r['frechet_distance']:.1f} |")
    lines += ["", "Commands (one per row):", ""] + [f"- {r['name']}: `{r['command']}`" for r in saved["rows"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("name", help="the candidate's row name (and run folder name)")
    parser.add_argument("overrides", nargs="?", default="{}", help="GanConfig overrides as JSON")
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--reference", type=Path, default=None,
                        help="score this existing run folder (its latest checkpoint) instead of training: "
                             "the reference row, or a candidate stopped early; OVERRIDES then only label it")
    parser.add_argument("--stopped", default="", help="why a --reference run stopped early (for the notes)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()

    from charlib.base.run import RunFolder
    from charlib.config import output_dir, profile
    from charlib.diagnostics.report import diagnose
    from charlib.training.gan import GanConfig, train_gan

    overrides = json.loads(args.overrides)
    json_path = args.results / "speed_coverage_screen.json"
    row: dict = {"name": args.name, "overrides": overrides,
                 "command": "CHARLIB_OUTPUTS=... python benchmarks/speed_coverage_screen.py "
                            + " ".join(f"'{a}'" if " " in a or "{" in a else a for a in sys.argv[1:])}
    if args.reference:
        run_dir = args.reference
        history = RunFolder.open(run_dir).read_history()
        row["steps"] = int(history[-1]["step"]) if history else int(RunFolder.open(run_dir).config["steps"])
        row["overrides"] = overrides or {"nets": "reference"}
        if args.stopped:
            row["stopped"] = args.stopped
    else:
        run_dir = output_dir("screen", args.name)
        if (run_dir / "config.json").exists():
            raise SystemExit(f"error: {run_dir} already exists; remove it or pick another name")
        config = GanConfig.from_profile(profile("full"), image_size=64, steps=args.steps, max_minutes=None,
                                        **overrides)
        load_start, start = os.getloadavg()[0], time.perf_counter()
        train_gan(config, run_dir, progress=False)
        row.update(steps=args.steps, train_seconds=round(time.perf_counter() - start, 1),
                   load_start=round(load_start, 2), load_end=round(os.getloadavg()[0], 2))
    row["d"] = _d_end(run_dir)
    d = diagnose(run_dir, n=args.n, seed=0)
    row.update({k: None if d[k] != d[k] else d[k] for k in METRICS}, n=args.n)  # NaN (no mode hit): None
    print(json.dumps({k: row[k] for k in ("name", "modes_covered", "kl", "d")}), flush=True)
    # read just before writing: rows another invocation added while this one trained are kept
    saved = json.loads(json_path.read_text()) if json_path.is_file() else {"rows": []}
    saved["rows"] = [r for r in saved["rows"] if r["name"] != args.name] + [row]
    json_path.write_text(json.dumps(saved, indent=2) + "\n")
    (args.results / "speed_coverage_screen.md").write_text(_markdown(saved))


if __name__ == "__main__":
    main()
