"""Speed and mode coverage of the course's default DCGAN against the TF-tutorial reference, at 64x64.

The course's speed target asks for the course's default DCGAN training step to reach at least twice the
reference's img/s in the same run *at equal or better mode coverage*. ``charlib bench`` times the
steps; this script trains both networks for real, one after the other on the same machine, and
scores each run with ``charlib.diagnostics.diagnose``:

a. the reference (``GanConfig(nets="reference")``: the TF-tutorial generator and discriminator,
   latent 100, no EMA, as ``charlib bench`` times it) trains for a wall-clock budget of
   ``--minutes``, reaching S_ref steps;
b. the course's default (the full profile at 64x64) trains for exactly S_ref steps (equal steps) and
   is diagnosed;
c. the same default run is resumed (exact resume: the batches and noise of an uninterrupted run) until
   its total training time equals the reference's (equal time) and is diagnosed again;
d. the reference is diagnosed.

Each training's img/s is steps x batch / the wall seconds of its ``train_gan`` call(s) (data
rendering, model building, tracing, sample grids and checkpoints included, for both), with the
load average (``os.getloadavg``) at its start and end, since the cores may be shared. ``diagnose``
draws ``--n`` samples and reads them with the course's 32x32 sprite classifier (64x64 samples are
averaged down to 32x32; its accuracy on native 64x64 renders is in ``diagnostics_real.md``).
``--extra RECIPE`` adds one row after the measurement: a remedy recipe from
``benchmarks/recipes.py`` at 64x64 for the reference's wall time, labelled as not the default.
``--extra-overrides JSON --extra-name NAME`` adds such a row for the default with ``GanConfig``
overrides instead (e.g. ``'{"lr_d": 5e-5}'``), and ``--bench-only --extra-overrides JSON
--extra-name NAME`` times that setting's step interleaved with the reference's and the default's.

Results: ``benchmarks/results/speed_coverage.json`` and ``.md``, and a sample grid per row
(``speed_coverage_<row>.png``, 32 samples of a fixed latent draw).

Usage: CHARLIB_OUTPUTS=/tmp/x python benchmarks/speed_coverage.py [--minutes 10] [--n 10000]
       [--root DIR] [--extra pacgan2] [--extra-overrides '{"lr_d": 5e-5}' --extra-name slow-d]
       [--report-only]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_RATIO = 2.0
BIG = 10**7  # "train until the time budget says stop"
METRICS = ("modes_covered", "n_modes", "mode_coverage", "kl", "precision", "recall", "density", "coverage",
           "frechet_distance")


def _load() -> tuple[float, float, float]:
    return tuple(round(x, 2) for x in os.getloadavg())  # type: ignore[return-value]


def _timed_train(config, out: Path, *, resume: bool = False, steps: int | None = None,
                 max_minutes: float | None = None) -> dict:
    """Train (or resume) ``out``; returns the steps reached, wall seconds and load averages."""
    from charlib.base.run import RunFolder
    from charlib.training.gan import train_gan

    if resume:  # the budget of a resumed run is read from its config.json
        RunFolder.open(out).update_config(max_minutes=max_minutes)
    load_start, start = _load(), time.perf_counter()
    result = train_gan(None if resume else config, out, resume=resume, steps=steps, progress=False)
    seconds = time.perf_counter() - start
    return {"steps": int(result.model.step.numpy()), "seconds": round(seconds, 1),
            "load_start": load_start, "load_end": _load()}


def _grid(out: Path, results: Path, name: str) -> str:
    """32 samples of a fixed latent draw (seed 2026) at scale 1: 64x64 grids at scale 2 weigh ~600 KB."""
    import numpy as np

    from charlib.training.sampling import load_sampler
    from charlib.viz import image_grid, save_png

    sample, latent_dim = load_sampler(str(out))
    z = np.random.default_rng(2026).standard_normal((32, latent_dim)).astype("float32")
    save_png(image_grid(sample(z), ncols=8), results / name, scale=1)
    return name


def _score(out: Path, n: int, results: Path, name: str) -> dict:
    from charlib.diagnostics.report import diagnose

    d = diagnose(out, n=n, seed=0)
    row = {k: d[k] for k in METRICS}
    row["grid"] = _grid(out, results, f"speed_coverage_{name}.png")
    print(json.dumps({"row": name, **{k: row[k] for k in ("mode_coverage", "kl", "frechet_distance")}}),
          flush=True)
    return row


def _last_logs(out: Path, step: int) -> dict:
    """D(real) and D(fake) logged at ``step`` (or the last logged step before it) in a run's history."""
    from charlib.base.run import RunFolder

    rows = [r for r in RunFolder.open(out).read_history() if r["step"] <= step]
    return {k: round(rows[-1][k], 4) for k in ("d_real", "d_fake")} if rows else {}


def _row(name: str, label: str, timing: list[dict], batch: int, config: dict, out: Path) -> dict:
    seconds = sum(t["seconds"] for t in timing)
    steps = timing[-1]["steps"]
    return {"row": name, "label": label, "steps": steps, "train_seconds": round(seconds, 1),
            "end_of_training": _last_logs(out, steps),
            "train_minutes": round(seconds / 60, 2), "img_per_s": round(steps * batch / seconds, 2),
            "trainings": timing, "nets": config["nets"], "latent_dim": config["latent_dim"],
            "ema_decay": config["ema_decay"], "overrides": config.get("overrides", {})}


def _config_summary(config) -> dict:
    from dataclasses import asdict

    return {k: v for k, v in asdict(config).items()
            if k in ("nets", "latent_dim", "ema_decay", "image_size", "batch_size", "n_data", "g_width",
                     "d_width", "d_norm", "loss", "lr_g", "lr_d", "pack", "minibatch_std")}


def _interleaved(steps: int, repeats: int, size: int, batch: int,
                 extra: tuple[str, dict] | None = None) -> dict:
    """The reference's and the default's step, timed in alternating rounds (``charlib.bench``).

    ``extra`` (name, GanConfig overrides) times the default with those overrides in the same rounds.
    """
    from charlib.bench import Variant, run_bench

    variants: tuple = ("reference", "default")
    if extra:
        variants += (Variant(extra[0], overrides=tuple(extra[1].items()), note=json.dumps(extra[1])),)
    load_start = _load()
    report = run_bench(variants, size=size, batch_size=batch, steps=steps, warmup=2, repeats=repeats)
    rows = {r["name"]: r for r in report["results"]}
    out = {"steps": steps, "repeats": repeats, "load_start": load_start, "load_end": _load(),
           **{f"{k}_img_per_s": rows[k]["img_per_s"] for k in rows},
           **{k: rows["default"][k] for k in ("ratio_to_reference", "ratio_min", "ratio_max")}}
    if extra:
        out["extra"] = {"name": extra[0], "overrides": extra[1],
                        **{k: rows[extra[0]][k] for k in ("img_per_s", "ratio_to_reference", "ratio_min",
                                                          "ratio_max", "d_params", "g_params")}}
    return out


def _covers(row: dict, ref: dict) -> bool:
    """Coverage as diagnose counts it: at least as many modes as the reference, and a reverse KL no worse."""
    return row["modes_covered"] >= ref["modes_covered"] and row["kl"] <= ref["kl"]


def _verdict(rows: dict, interleaved: dict | None) -> str:
    ref, steps, time_ = rows.get("reference"), rows.get("default_equal_steps"), rows.get("default_equal_time")
    if not (ref and steps and time_) or "kl" not in ref or "kl" not in time_:
        return "Not all three rows are measured yet: no verdict."
    ratio = steps["img_per_s"] / ref["img_per_s"]
    # the interleaved timing is the load-robust ratio; the trainings ran minutes apart
    speed = interleaved["ratio_to_reference"] if interleaved else ratio
    fast = speed >= TARGET_RATIO
    cover_time, cover_steps = _covers(time_, ref), _covers(steps, ref)
    met = fast and cover_time
    timed = (f"{speed:.2f}x the reference's img/s in the interleaved timing ({ratio:.2f}x over the whole "
             "trainings, which ran under different loads)" if interleaved
             else f"{ratio:.2f}x the reference's img/s")
    speed_text = f"Speed: the default's step is {timed}, {'at least' if fast else 'below'} the " \
                 f"{TARGET_RATIO:.0f}x asked."
    cover_text = (f"Coverage (modes covered and reverse KL, both at least as good as the reference's at "
                  f"equal time): {'met' if cover_time else 'not met'}: at equal time the default covers "
                  f"{time_['modes_covered']} modes (KL {time_['kl']:.3f}) against the reference's "
                  f"{ref['modes_covered']} (KL {ref['kl']:.3f}), and at equal steps {steps['modes_covered']} "
                  f"(KL {steps['kl']:.3f}).")
    if cover_time and not cover_steps:
        cover_text += " Per step it covers less than the reference: the win at equal time comes from speed."
    elif cover_steps and not cover_time:
        cover_text += " Per step it covers as much or more, but the extra steps of equal time lose it."
    return f"**Target {'met' if met else 'not met'}.** {speed_text} {cover_text}"


def _options_verdict(rows: dict, interleaved_extra: dict) -> str:
    """Which *extra* settings (the default with options switched on) meet the target: coverage at
    least the reference's at equal time (modes and KL) and an interleaved step ratio of at least 2x."""
    ref = rows.get("reference")
    if not ref or "kl" not in ref:
        return ""
    verdicts = []
    for name, timing in interleaved_extra.items():
        row = rows.get(f"extra_{name}")
        if not row or "kl" not in row:
            continue
        ratio = timing["extra"]["ratio_to_reference"]
        met = ratio >= TARGET_RATIO and _covers(row, ref)
        verdicts.append(f"{name} (`{json.dumps(timing['extra']['overrides'])}`): "
                        f"{'**meets the target**' if met else 'does not meet the target'}: "
                        f"{row['modes_covered']} modes (KL {row['kl']:.3f}) at equal time against the "
                        f"reference's {ref['modes_covered']} (KL {ref['kl']:.3f}), and its step "
                        f"{ratio:.2f}x the reference's img/s in interleaved rounds")
    if not verdicts:
        return ""
    return "**With options switched on**, the course's DCGAN: " + "; ".join(verdicts) + "."


def _markdown(saved: dict) -> str:
    rows = {r["row"]: r for r in saved["rows"]}
    ref = rows.get("reference")
    s = saved["settings"]
    lines = [
        f"Command: `{saved['command']}`",
        "",
        f"The course's speed target at {s['size']}x{s['size']}, batch {s['batch']}, on the CPU: the course's "
        f"default DCGAN training step at least {TARGET_RATIO:.0f}x the reference's img/s in the same "
        "run, at equal or better mode coverage. The reference is the TF-tutorial DCGAN scaled to "
        f"{s['size']}x{s['size']} (`GanConfig(nets=\"reference\")`: 5x5 kernels, latent 100, no EMA, "
        "the same Adam(2e-4, beta_1=0.5) and non-saturating loss), the default is "
        f"`GanConfig.from_profile(full, image_size={s['size']})`; both train on the same "
        f"{s['n_data']:,} full-profile training sprites. The reference trained for {s['minutes']} wall "
        "minutes; the default then trained for the same number of steps (equal steps) and was resumed "
        "to the same total wall time (equal time). The trainings ran one after the other, never at "
        "once.",
        "",
        f"Machine: {saved['machine']}. **{saved['load_note']}.** img/s are steps x batch / the wall "
        "seconds of the `train_gan` call(s), overheads included (data rendering, model building, "
        "tracing, sample grids and checkpoints; the equal-time row pays them twice, once per call). "
        "Only the ratio measured in this run is the result; absolute img/s depend on the load.",
        "",
        f"Scores: `charlib.diagnostics.diagnose` on {s['n']:,} samples against {s['n']:,} real "
        "training sprites, read by the course's 32x32 sprite classifier (64x64 images are averaged "
        "down to 32x32; diagnose uses that one classifier for runs of every size). Modes covered "
        "are out of the 1,000 appearance modes of the training identities.",
        "",
        "| run | steps | train minutes | img/s | x reference | load avg (1 min) start → end | D(real) / "
        "D(fake) at the end | modes covered (of 1000) | KL | precision | recall | density | coverage | FCD "
        "| samples |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    order = ["reference", "default_equal_steps", "default_equal_time"] + sorted(
        k for k in rows if k.startswith("extra_"))
    for key in order:
        r = rows.get(key)
        if r is None:
            continue
        ratio = f"{r['img_per_s'] / ref['img_per_s']:.2f}x" if ref else ""
        loads = ", ".join(f"{t['load_start'][0]:.1f} → {t['load_end'][0]:.1f}" for t in r["trainings"])
        if "kl" not in r:
            scores = "not scored yet | | | | | |"
        else:
            scores = (f"{r['modes_covered']} ({100 * r['mode_coverage']:.1f}%) | {r['kl']:.3f} | "
                      f"{r['precision']:.3f} | {r['recall']:.3f} | {r['density']:.3f} | "
                      f"{r['coverage']:.3f} | {r['frechet_distance']:.1f}")
        grid = f"![{key}]({r['grid']})" if r.get("grid") else ""
        end = r.get("end_of_training") or {}
        d_end = f"{end['d_real']:.3f} / {end['d_fake']:.3f}" if end else ""
        lines.append(f"| {r['label']} | {r['steps']:,} | {r['train_minutes']:.1f} | {r['img_per_s']:.1f} | "
                     f"{ratio} | {loads} | {d_end} | {scores} | {grid} |")
    floor = saved.get("floor")
    if floor:
        lines.append(f"| real sprites ({floor['image_size']}px floor) | | | | | | | {floor['modes_covered']} "
                     f"({100 * floor['mode_coverage']:.1f}%) | {floor['kl']:.3f} | "
                     f"{floor['precision']:.3f} | {floor['recall']:.3f} | {floor['density']:.3f} | "
                     f"{floor['coverage']:.3f} | "
                     f"{floor['frechet_distance']:.1f} | |")
    inter = saved.get("interleaved")
    if inter:
        lines += ["", "Interleaved timing after the trainings (`charlib.bench.run_bench`, "
                  f"{inter['repeats']} alternating rounds of {inter['steps']} steps of each, so both see the "
                  "same load; load "
                  f"average {inter['load_start'][0]:.1f} → {inter['load_end'][0]:.1f}): reference "
                  f"{inter['reference_img_per_s']:.1f} img/s, default {inter['default_img_per_s']:.1f} "
                  f"img/s, **{inter['ratio_to_reference']:.2f}x** (rounds {inter['ratio_min']:.2f}–"
                  f"{inter['ratio_max']:.2f}x)."]
    for name, t in saved.get("interleaved_extra", {}).items():
        e = t["extra"]
        lines += ["", f"Interleaved timing of the *extra* setting {name} "
                  f"(`{json.dumps(e['overrides'])}`, not the default), with the reference and the default in "
                  f"the same rounds (`{t['command']}`, "
                  f"{t['repeats']} rounds of {t['steps']} steps; load average {t['load_start'][0]:.1f} → "
                  f"{t['load_end'][0]:.1f}): reference {t['reference_img_per_s']:.1f} img/s, default "
                  f"{t['default_img_per_s']:.1f} img/s ({t['ratio_to_reference']:.2f}x), {name} "
                  f"{e['img_per_s']:.1f} img/s, **{e['ratio_to_reference']:.2f}x** the reference (rounds "
                  f"{e['ratio_min']:.2f}–{e['ratio_max']:.2f}x)."]
    lines += ["", _verdict(rows, inter), ""]
    options = _options_verdict(rows, saved.get("interleaved_extra", {}))
    if options:
        lines += [options, ""]
    if any(k.startswith("extra_") for k in rows):
        lines += ["Rows marked *extra* are not the default: a remedy recipe from "
                  "`benchmarks/recipes.py`, or the default with the `GanConfig` overrides shown, at "
                  "this size, trained for the reference's wall time after "
                  "the measurement above (same machine, later, so its load may differ: see its column). "
                  "Command: " + ", ".join(f"`{rows[k]['command']}`" for k in rows
                                          if k.startswith("extra_") and rows[k].get("command")) + ".", ""]
    lines += ["Samples: 32 images from each run's sampler (the EMA generator for the course's nets) for "
              "one fixed latent draw.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="the reference's wall-clock budget")
    parser.add_argument("--n", type=int, default=10_000, help="samples scored per run")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--n-data", type=int, default=None,
                        help="training sprites (default: the full profile's)")
    parser.add_argument("--root", type=Path, default=None,
                        help="where run folders go (default: $CHARLIB_OUTPUTS/bench/speed_coverage)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--extra", default=None, help="a remedy recipe to add as an extra equal-time row")
    parser.add_argument("--extra-overrides", default=None,
                        help="GanConfig overrides (JSON) of the default for an extra equal-time row")
    parser.add_argument("--extra-name", default=None, help="the --extra-overrides row's name")
    parser.add_argument("--no-floor", action="store_true", help="skip the real-sprite floor row")
    parser.add_argument("--note", default="the 2 cores were shared with another training job",
                        help="what else ran on the machine (goes into the report)")
    parser.add_argument("--bench-repeats", type=int, default=5,
                        help="interleaved timing rounds after the trainings (0: none)")
    parser.add_argument("--bench-only", action="store_true",
                        help="only (re)do the interleaved timing, into the existing JSON")
    parser.add_argument("--report-only", action="store_true", help="rewrite the markdown from the JSON")
    args = parser.parse_args()

    from charlib.config import output_dir, profile
    from charlib.training.gan import GanConfig

    args.results.mkdir(parents=True, exist_ok=True)
    json_path = args.results / "speed_coverage.json"
    md_path = args.results / "speed_coverage.md"
    root = args.root or output_dir("bench", "speed_coverage")
    full = profile("full")
    common = dict(image_size=args.size, batch_size=args.batch, n_data=args.n_data or full.n_sprites)

    cmd = "python benchmarks/speed_coverage.py " + " ".join(
        f"'{a}'" if "{" in a or " " in a else a for a in sys.argv[1:])
    overrides = json.loads(args.extra_overrides) if args.extra_overrides else None
    if overrides is not None and not args.extra_name:
        raise SystemExit("error: --extra-overrides needs --extra-name (the row's name)")
    if overrides is not None and args.extra:
        raise SystemExit("error: give --extra or --extra-overrides, not both")
    if args.report_only or args.extra or overrides is not None or args.bench_only:
        saved = json.loads(json_path.read_text())
    else:
        for name in ("reference", "default"):
            if (root / name).exists():
                raise SystemExit(f"error: {root / name} already exists; remove it or pass another --root")
        import platform

        saved = {"command": f"CHARLIB_OUTPUTS=... {cmd}".strip(),
                 "settings": {"minutes": args.minutes, "n": args.n, "size": args.size, "batch": args.batch,
                              "n_data": common["n_data"]},
                 "machine": f"{os.cpu_count()} CPU cores, {platform.processor() or platform.machine()}, "
                            f"TensorFlow {__import__('tensorflow').__version__}",
                 "load_note": f"Shared machine: {args.note}", "rows": [], "floor": None}

    def write() -> None:
        json_path.write_text(json.dumps(saved, indent=2) + "\n")
        md_path.write_text(_markdown(saved))

    def put(row: dict) -> None:
        saved["rows"] = [r for r in saved["rows"] if r["row"] != row["row"]] + [row]
        write()

    if args.report_only:
        write()
        print(f"wrote {md_path}")
        return

    batch = saved["settings"]["batch"]
    if args.bench_only and overrides is not None:  # the extra setting's step, with the reference's
        timing = {**_interleaved(10, args.bench_repeats, saved["settings"]["size"], batch,
                                 extra=(args.extra_name, overrides)), "command": cmd}
        saved.setdefault("interleaved_extra", {})[args.extra_name] = timing
        write()
        print(json.dumps(timing))
        return
    if args.bench_only:
        saved["interleaved"] = {**_interleaved(10, args.bench_repeats, saved["settings"]["size"], batch),
                                "command": cmd}
        write()
        print(json.dumps(saved["interleaved"]))
        return
    if args.extra:
        from recipes import SPRITE_RECIPES, recipe_config

        ref = next(r for r in saved["rows"] if r["row"] == "reference")
        name = f"extra_{args.extra}"
        config = recipe_config(args.extra, **common, steps=BIG, max_minutes=ref["train_seconds"] / 60)
        t = _timed_train(config, root / name)
        row = _row(name, f"*extra, not the default*: {args.extra} at equal time", [t], config.batch_size,
                   {**_config_summary(config), "overrides": SPRITE_RECIPES[args.extra]}, root / name)
        row["command"] = cmd
        put(row)
        row.update(_score(root / name, saved["settings"]["n"], args.results, name))
        put(row)
        return
    if overrides is not None:  # the default with GanConfig overrides, for the reference's wall time
        ref = next(r for r in saved["rows"] if r["row"] == "reference")
        name = f"extra_{args.extra_name}"
        config = GanConfig.from_profile(full, **{**common, **overrides}, steps=BIG,
                                        max_minutes=ref["train_seconds"] / 60)
        t = _timed_train(config, root / name)
        row = _row(name, f"*extra, not the default*: {args.extra_name} (`{json.dumps(overrides)}`) at "
                   "equal time", [t], config.batch_size, {**_config_summary(config), "overrides": overrides},
                   root / name)
        row["command"] = cmd
        put(row)
        row.update(_score(root / name, saved["settings"]["n"], args.results, name))
        put(row)
        return

    # a. the reference for a wall-clock budget
    ref_config = GanConfig.from_profile(full, nets="reference", **common, steps=BIG, max_minutes=args.minutes)
    t_ref = _timed_train(ref_config, root / "reference")
    ref = _row("reference", "reference (TF tutorial)", [t_ref], batch, _config_summary(ref_config),
               root / "reference")
    put(ref)
    print(json.dumps({k: ref[k] for k in ("row", "steps", "train_seconds", "img_per_s")}), flush=True)

    # b. the default for exactly the reference's steps
    default = GanConfig.from_profile(full, **common, steps=t_ref["steps"], max_minutes=None)
    t_steps = _timed_train(default, root / "default")
    steps_row = _row("default_equal_steps", "default, equal steps", [t_steps], batch,
                     _config_summary(default), root / "default")
    put(steps_row)
    steps_row.update(_score(root / "default", args.n, args.results, "default_equal_steps"))
    put(steps_row)

    # c. the same run resumed up to the reference's total wall time
    left = t_ref["seconds"] - t_steps["seconds"]
    timing = [t_steps]
    if left > 0:
        timing.append(_timed_train(None, root / "default", resume=True, steps=BIG, max_minutes=left / 60))
    time_row = _row("default_equal_time", "default, equal time", timing, batch, _config_summary(default),
                    root / "default")
    put(time_row)
    time_row.update(_score(root / "default", args.n, args.results, "default_equal_time"))
    put(time_row)

    # d. the reference, scored last so the trainings ran back to back
    ref.update(_score(root / "reference", args.n, args.results, "reference"))
    put(ref)

    if not args.no_floor:
        from charlib.diagnostics.report import real_floor

        saved["floor"] = real_floor(args.size, n=args.n, split="train")
        write()
    if args.bench_repeats:
        saved["interleaved"] = _interleaved(10, args.bench_repeats, args.size, batch)
        write()
    print(f"wrote {md_path}")


if __name__ == "__main__":
    main()
