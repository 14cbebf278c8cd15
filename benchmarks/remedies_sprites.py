"""Mode-collapse remedies on the sprites: each recipe trained for the same steps, then diagnosed.

For every recipe in ``SPRITE_RECIPES`` of ``benchmarks/recipes.py`` (the full-profile DCGAN at 32x32
with one remedy switched on), trains a run of ``--steps`` steps (sized by steps, not minutes, so the
result does not depend on how busy the machine is; wall time is recorded too) into
``--root/<recipe>_<steps>`` (a finished run there is reused, a stopped one resumed), then measures it
with ``charlib.diagnostics.diagnose``: N = 10,000 generated images classified into the 1,296
appearance modes (modes covered, reverse KL), and precision, recall, density, coverage and the
Fréchet classifier distance against 10,000 real training sprites. Rows accumulate in
``benchmarks/results/remedies_sprites.json`` (one per recipe and step count; a rerun replaces its
row), and ``remedies_sprites.md`` is rewritten from all rows, with a sample grid per recipe in
``remedies_sprites_<recipe>_<steps>.png``.

``--kl-parts`` splits a scored row's reverse KL (over the training modes S, against p uniform on S)
into the KL of each attribute's marginal, ``KL(q_a ‖ p_a)`` for skin, hair, top and bottom, the
real-sprite floor of the same protocol (what N samples cost even a perfect generator), and the rest:
how far the *combinations* are from even once the marginals and the sampling noise are accounted
for. It redraws the row's samples (same seed and batches as ``diagnose``) and checks that their KL
is the row's before storing the split, with the share of samples classified as a held-out identity.

``--seed K`` trains with another seed, into ``<recipe>_<steps>_seed<K>`` and a row of its own, to see how
much a row moves by chance. Each row records its training's share of all the CPU time the machine
used meanwhile (``cpu_share``), and the markdown marks a row that had the machine to itself.

Usage: python benchmarks/remedies_sprites.py --recipes dcgan,pacgan2 [--steps 3000] [--n 10000]
       [--seed 0] [--root outputs/bench/remedies]
       [--train-only | --score-only | --report-only | --kl-parts]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
IDLE_SHARE = 0.9  # a row whose training had this share of all the CPU time the machine used ran alone
TARGET = {"mode_coverage": 0.95, "kl": 0.1, "minutes": 15}


def _machine_busy_seconds() -> float | None:
    """CPU seconds every process on the machine has used since boot (Linux /proc/stat; else None)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    t = os.times()
    return t.user + t.system


# what each recipe of SPRITE_RECIPES changes, in words, for the markdown's recipe list
DESCRIPTIONS = {
    "dcgan": "the baseline: the full profile's DCGAN (latent 64, BatchNorm D, non-saturating loss, "
             "Adam 2e-4 for both, EMA generator)",
    "collapse-prone": "not a remedy: the baseline with a wider latent (128) and no EMA, the setting "
                      "that collapsed in the course's first runs",
    "minibatch-std": "D sees the batch's standard deviation as an extra feature map",
    "pacgan2": "D judges packs of 2 samples (PacGAN); 64 images a batch, so 32 packs",
    "pacgan2-batch128": "PacGAN2 with batch 128 (64 packs a step): twice the images per step",
    "sn-hinge-ttur": "spectral-norm D, hinge loss, D learning 4x faster than G",
    "wgan-gp": "Wasserstein critic with gradient penalty (weight 10), LayerNorm instead of BatchNorm "
               "in D, Adam 1e-4 (0.5, 0.9), one critic step per generator step",
    "diffaugment-pacgan2": "PacGAN2 with DiffAugment (translation and cutout on every image D sees, "
                           "real and fake), the pair that stops the 64x64 collapse",
    "pacgan2-decay": "PacGAN2 whose two learning rates stay at 2e-4 for the first half of the run, then "
                     "fall linearly to 0 at its last step (GanConfig.lr_decay = 0.5)",
    "dcgan-decay": "the baseline DCGAN whose two learning rates fall linearly to 0 over the second half "
                   "of the run (GanConfig.lr_decay = 0.5)",
    "pacgan2-batch128-decay": "pacgan2-decay with batch 128 (64 packs a step): twice the images per step",
    "pacgan2-decay-noise": "pacgan2-decay with instance noise: Gaussian noise of standard deviation 0.3 "
                           "(pixels in [-1, 1]) on every image D sees, real and fake, so D cannot win on "
                           "exact palette colours (Sønderby et al. 2017)",
    "pacgan2-decay-r1": "pacgan2-decay with the R1 penalty (γ = 0.1) on D's gradient at real images "
                        "(Mescheder et al. 2018)",
    "pacgan2-decay-palette": "pacgan2-decay whose generator paints 16 colour layers (a softmax per pixel) "
                             "and gives each layer one colour computed from z alone, the way pixel art "
                             "is coloured (GanConfig.palette = 16)",
    "pacgan2-decay-clusters": "pacgan2-decay conditioned on 1000 k-means clusters of the training images' "
                              "colour histograms: z's last coordinate draws a cluster as often as the data "
                              "holds it, and an auxiliary classifier trained on the real images' clusters "
                              "holds each sample to its own (weight 3)",
}


def _key(row: dict) -> tuple[str, int, int]:
    """What identifies a row: recipe, steps and training seed (rows from before seeds were seed 0)."""
    return row["recipe"], row["steps"], row.get("seed", 0)


def _label(row: dict) -> str:
    return row["recipe"] + (f" (seed {row['seed']})" if row.get("seed") else "")


def _train(recipe: str, steps: int, out: Path, seed: int = 0) -> dict:
    """Train ``out`` to ``steps`` (new, resumed, or already done); returns its config and timing."""
    from recipes import recipe_config

    from charlib.training.gan import train_gan

    timing_file = out.parent / f"{out.name}.timing.json"
    timing = json.loads(timing_file.read_text()) if timing_file.is_file() else {"train_seconds": 0.0,
                                                                                 "steps": 0}
    if timing["steps"] < steps:
        resume = (out / "config.json").is_file()
        busy, own = _machine_busy_seconds(), _own_seconds()
        start = time.perf_counter()
        train_gan(None if resume else recipe_config(recipe, steps=steps, max_minutes=None, seed=seed), out,
                  resume=resume, steps=steps, progress=False)
        timing = {"train_seconds": round(timing["train_seconds"] + time.perf_counter() - start, 1),
                  "steps": steps}
        if busy is not None:  # the training's share of the CPU time the whole machine used meanwhile
            machine = _machine_busy_seconds() - busy
            timing["cpu_share"] = round((_own_seconds() - own) / machine, 3) if machine > 0 else None
        timing_file.write_text(json.dumps(timing) + "\n")
    config = json.loads((out / "config.json").read_text())
    return {"config": config, **timing}


def _grid(out: Path, name: str) -> str:
    import numpy as np

    from charlib.training.sampling import load_sampler
    from charlib.viz import image_grid, save_png

    sample, latent_dim = load_sampler(str(out))
    z = np.random.default_rng(2026).standard_normal((64, latent_dim)).astype("float32")
    save_png(image_grid(sample(z), ncols=8), RESULTS / name, scale=2)
    return name


def split_kl(modes: np.ndarray) -> dict:
    """Split the reverse KL of mode ids (N,) over the training modes S into marginals, floor, rest.

    With q the histogram of the samples in S and p uniform on S,
    ``KL(q ‖ p) = Σ_a KL(q_a ‖ p_a) + rest`` exactly, where q_a and p_a are the marginals of
    attribute a (p_a: the training identities' share of each value, within 2% of 1/6). The rest is
    then split into the sampling floor, the mean KL of a perfect generator with as many samples in S
    (``uniform_floor``, 20 draws: samples classified outside S do not count, so a generator that draws
    held-out identities has a higher floor than real sprites), and ``interactions = rest - floor``,
    what uneven *combinations* add. Returns a JSON-ready dict.
    """
    import numpy as np

    from charlib.data import sprites as sp
    from charlib.diagnostics.modes import mode_report, uniform_floor

    report = mode_report(modes, split="train")
    support = report.support
    in_s = sp.attributes_of(report.modes[np.isin(report.modes, support)])  # (M, 4)
    true = sp.attributes_of(support)  # (1000, 4)
    marginal = {}
    for i, attr in enumerate(sp.ATTRIBUTES):
        q = np.bincount(in_s[:, i], minlength=len(attr)) / len(in_s)
        p = np.bincount(true[:, i], minlength=len(attr)) / len(true)
        marginal[attr.name] = round(float(np.sum(q[q > 0] * np.log(q[q > 0] / p[q > 0]))), 6)
    rest = report.kl - sum(marginal.values())
    floor = uniform_floor(len(in_s), len(support), trials=20, seed=0)["kl_mean"]
    return {"kl": round(report.kl, 6), "marginal_kl": marginal,
            "marginal_total": round(sum(marginal.values()), 6), "n_in_support": len(in_s),
            "floor": round(floor, 6), "interactions": round(rest - floor, 6),
            "outside_fraction": round(report.outside_fraction, 6)}


def _kl_parts(run: Path, row: dict, seed: int = 0, batch_size: int = 512) -> dict:
    """:func:`split_kl` of a scored row: redraws ``row["n_scored"]`` samples exactly as
    ``diagnose(run, seed=seed)`` does (same z batches) and classifies them into modes.

    Raises:
        SystemExit: the redrawn samples' KL differs from the row's (another classifier or run).
    """
    import numpy as np

    from charlib.diagnostics.classifier import course_classifier
    from charlib.training.sampling import load_sampler

    n = int(row["n_scored"])
    sample, latent_dim = load_sampler(str(run))
    rng = np.random.default_rng(seed)
    images = np.concatenate([
        sample(rng.standard_normal((min(batch_size, n - start), latent_dim)).astype(np.float32))
        for start in range(0, n, batch_size)])
    parts = split_kl(course_classifier(32, progress=False).mode_ids(images, batch_size=batch_size))
    if abs(parts["kl"] - row["kl"]) > 1e-4:
        raise SystemExit(f"error: {run} redrawn gives KL {parts['kl']:.6f}, the row says {row['kl']:.6f}; "
                         "is the classifier the one that scored it?")
    return parts


def _kl_parts_markdown(rows: list[dict]) -> list[str]:
    parts = [r for r in rows if r.get("kl_parts")]
    if not parts:
        return []
    lines = ["", "Where the KL goes (`--kl-parts`, same 10,000 samples as the row): the reverse KL over "
             "the 1,000 training modes is exactly the sum of each attribute's marginal KL against the "
             "training identities' share (about 1/6 per value) and a rest. The rest less the sampling floor "
             "is what the *combinations* add (*interactions*): how much more the attributes depend on "
             "each other in the samples than in the training identities (whose own dependence is about "
             "log(1296/1000) = 0.26 nats, as 296 combinations are held out), plus the classifier's rare "
             "errors (about 0.002); it is negative for a run that draws only a few characters, whose "
             "marginals then hold more than the whole KL. The floor is a perfect "
             "generator's KL with as many samples in the 1,000 modes as the row has (`uniform_floor`): "
             "samples classified as one of the 296 held-out identities (*outside*) are left out of the "
             "KL, so a generator that draws them has fewer samples there and a higher floor than the "
             "real sprites' 0.053.", "",
             "| recipe | steps | KL | marginals (skin + hair + top + bottom) | sampling floor (samples "
             "in S) | interactions | outside |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in parts:
        k = r["kl_parts"]
        m = " + ".join(f"{v:.3f}" for v in k["marginal_kl"].values())
        lines.append(f"| {_label(r)} | {r['steps']} | {k['kl']:.3f} | {k['marginal_total']:.3f} ({m}) | "
                     f"{k['floor']:.3f} ({k['n_in_support']:,}) | {k['interactions']:.3f} | "
                     f"{100 * k['outside_fraction']:.1f}% |")
    return lines


def _seeds_markdown(scored: list[dict]) -> list[str]:
    """A table of the KL of every recipe scored with more than one training seed (none: no lines)."""
    kls: dict[tuple[str, int], dict[int, float]] = {}
    for r in scored:
        kls.setdefault((r["recipe"], r["steps"]), {})[r.get("seed", 0)] = r["kl"]
    several = {key: by_seed for key, by_seed in kls.items() if len(by_seed) > 1}
    if not several:
        return []
    seeds = sorted({s for by_seed in several.values() for s in by_seed})
    lines = ["Seeds (`--seed K`): the KL of each recipe trained with more than one seed. Differences "
             "between recipes smaller than the spread between one recipe's seeds can be chance; "
             "compare seed by seed.", "",
             "| recipe | steps | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | spread |",
             "| --- | --- | " + " | ".join("---" for _ in seeds) + " | --- | --- |"]
    for (name, steps), by_seed in several.items():
        values = list(by_seed.values())
        lines.append(f"| {name} | {steps} | "
                     + " | ".join(f"{by_seed[s]:.3f}" if s in by_seed else "" for s in seeds)
                     + f" | {sum(values) / len(values):.3f} | {max(values) - min(values):.3f} |")
    return lines + [""]


def _floor_row(label: str, floor: dict) -> str:
    """A table row for a floor (a ``real_floor`` diagnosis): no steps, minutes or sample grid."""
    return (f"| {label} | | | {100 * floor['mode_coverage']:.1f}% ({floor['modes_covered']}) | "
            f"{floor['kl']:.3f} | {floor['precision']:.3f} | {floor['recall']:.3f} | "
            f"{floor['density']:.3f} | {floor['coverage']:.3f} | {floor['frechet_distance']:.2f} | |")


def _markdown(rows: list[dict], floor: dict | None, copy_floor: dict | None = None,
              removed: dict[str, dict] | None = None) -> str:
    lines = [
        "Command: `python benchmarks/remedies_sprites.py --recipes <names> --steps <steps>` "
        "(rows accumulate over invocations; each row's own command is in the JSON).",
        "",
        "Full-profile DCGAN (32x32, batch 64 unless the recipe says otherwise, 20,000 training sprites) "
        "with one recipe per row (a remedy, the baseline, or a collapse-prone setting: see the list "
        "below), every run sized by **steps**. Scored with `charlib.diagnostics."
        "diagnose` on 10,000 samples: modes covered (of the appearance modes the training identities "
        "hold: 1,000 of the 1,296, since the test split's identities are never trained on), reverse KL "
        "of the generated mode histogram against the true one, precision / recall / density / coverage "
        "(k = 5) and the Fréchet distance in the attribute classifier's feature space (FCD, not "
        "Inception-based). Wall minutes are training only, on 2 CPU cores. Rows marked *idle* used at "
        f"least {100 * IDLE_SHARE:.0f}% of the CPU time the whole machine spent while they trained (from "
        "/proc/stat); the others ran beside other jobs, or before this was recorded, so their minutes "
        "may overstate what the same steps take on an idle machine; compare steps.",
        "",
        f"The course's sprite target: ≥ {100 * TARGET['mode_coverage']:.0f}% of modes with KL ≤ "
        f"{TARGET['kl']} in ≤ {TARGET['minutes']} minutes on 2 CPU cores.",
        "",
        "| recipe | steps | wall minutes | modes covered | KL | precision | recall | density "
        "| coverage | FCD | samples |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        if r.get("modes_covered") is None:
            lines.append(f"| {_label(r)} | {r['steps']} | {r['train_minutes']:.1f} | not scored yet "
                         "| | | | | | | |")
            continue
        idle = " (idle)" if r.get("cpu_share", 0.0) >= IDLE_SHARE else ""
        lines.append(
            f"| {_label(r)} | {r['steps']} | {r['train_minutes']:.1f}{idle} | "
            f"{100 * r['mode_coverage']:.1f}% ({r['modes_covered']}) | {r['kl']:.3f} | "
            f"{r['precision']:.3f} | {r['recall']:.3f} | {r['density']:.3f} | {r['coverage']:.3f} | "
            f"{r['frechet_distance']:.2f} | ![{r['recipe']}]({r['grid']}) |")
    if floor:
        lines.append(_floor_row("real sprites (floor)", floor))
    if copy_floor:
        label = f"a copy of its {copy_floor['copy_of']:,} training sprites (floor)"
        lines.append(_floor_row(label, copy_floor))
        lines += ["", "The last two rows are floors, not generators. *Real sprites*: 10,000 fresh sprites of "
                  "the training identities, what the protocol charges a perfect generator for sampling "
                  "alone. *A copy of its training sprites*: 10,000 draws with replacement from the "
                  f"{copy_floor['copy_of']:,} sprites a seed-0 run trains on, the score of a generator "
                  "that reproduces its training set exactly; its KL is higher because 20 sprites per "
                  "identity, drawn at random, are not perfectly even. Against it, the KL target leaves "
                  f"{TARGET['kl'] - copy_floor['kl']:.3f} for everything a trained generator gets wrong "
                  "(unless it evens the combinations out better than its training set does)."]
    scored = [r for r in rows if r.get("kl") is not None]
    met = [f"{_label(r)} at {r['steps']}" for r in scored
           if r["mode_coverage"] >= TARGET["mode_coverage"] and r["kl"] <= TARGET["kl"]]
    coverage_only = sorted({r["recipe"] for r in scored if r["mode_coverage"] >= TARGET["mode_coverage"]})
    lines += ["", f"Rows meeting both the coverage and the KL target, whatever their minutes: "
              f"{', '.join(met) or 'none'}"
              + ("" if met else f" (coverage ≥ {100 * TARGET['mode_coverage']:.0f}% alone: "
                 f"{', '.join(coverage_only) or 'none'}; lowest KL "
                 f"{min((r['kl'] for r in scored), default=float('nan')):.3f})") + "."]
    idle = [f"{_label(r)}, {r['steps']:,} steps in {r['train_minutes']:.1f} min" for r in rows
            if r.get("cpu_share", 0.0) >= IDLE_SHARE]
    lines += ["", "Training time on 2 idle cores, for scale against the 15-minute budget: "
              + ("; ".join(idle) if idle else "no row was trained on an idle machine yet")
              + ". The other rows' minutes were measured beside other jobs.", ""]
    lines += _seeds_markdown(scored)
    lines += ["Recipes (GanConfig overrides on the full profile):", ""]
    for name in dict.fromkeys(r["recipe"] for r in rows):
        overrides = next(r["overrides"] for r in rows if r["recipe"] == name)
        about = f" — {DESCRIPTIONS[name]}" if name in DESCRIPTIONS else ""
        gone = (removed or {}).get(name)
        if gone:
            about += (f". Removed from the package ({gone['why']}); commit {gone['commit']} of the course "
                      "still runs it")
        lines.append(f"- `{name}`: `{json.dumps(overrides)}`{about}")
    return "\n".join(lines + _kl_parts_markdown(rows)) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipes", default="dcgan,pacgan2,minibatch-std")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--n", type=int, default=10_000, help="samples scored per run")
    parser.add_argument("--seed", type=int, default=0,
                        help="training seed (another seed shows how much a row moves by chance)")
    parser.add_argument("--root", type=Path, default=None,
                        help="where run folders go (default: $CHARLIB_OUTPUTS/bench/remedies)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--train-only", action="store_true")
    mode.add_argument("--score-only", action="store_true")
    mode.add_argument("--report-only", action="store_true", help="rewrite the markdown from the JSON")
    mode.add_argument("--kl-parts", action="store_true",
                      help="split the scored rows' KL into marginals, floor and interactions")
    args = parser.parse_args()

    from recipes import SPRITE_RECIPES, recipe_config

    from charlib.config import output_dir
    from charlib.errors import CharlibError

    recipes = args.recipes.split(",")
    if not (args.report_only or args.kl_parts):
        for recipe in recipes:  # an unknown or removed recipe stops here, with a clear line
            try:
                recipe_config(recipe)
            except CharlibError as err:
                raise SystemExit(f"error: {err}") from None
    root = args.root or output_dir("bench", "remedies")
    root.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    json_path = RESULTS / "remedies_sprites.json"

    def load() -> dict:  # read afresh before every write: several invocations may run at once
        return json.loads(json_path.read_text()) if json_path.is_file() else {"rows": [], "floor": None}

    if args.kl_parts:
        for recipe in recipes:
            saved = load()
            row = next((r for r in saved["rows"] if _key(r) == (recipe, args.steps, args.seed)
                        and r.get("kl") is not None), None)
            if row is None:
                raise SystemExit(f"error: no scored row for {recipe} at {args.steps} steps, seed {args.seed}")
            parts = _kl_parts(Path(row["run"]), row)
            print(json.dumps({"recipe": recipe, "steps": args.steps, **parts}), flush=True)
            saved = load()  # afresh: another invocation may have written meanwhile
            for r in saved["rows"]:
                if _key(r) == (recipe, args.steps, args.seed):
                    r["kl_parts"] = parts
            json_path.write_text(json.dumps(saved, indent=2) + "\n")
    for recipe in [] if args.report_only or args.kl_parts else recipes:
        suffix = f"_seed{args.seed}" if args.seed else ""
        out = root / f"{recipe}_{args.steps}{suffix}"
        if args.score_only and not (out / "config.json").is_file():
            print(f"skip {recipe}: no run in {out}")
            continue
        info = _train(recipe, args.steps, out, args.seed)
        row = {"recipe": recipe, "overrides": SPRITE_RECIPES[recipe], "steps": info["steps"],
               "train_minutes": round(info["train_seconds"] / 60, 2),
               "command": f"python benchmarks/remedies_sprites.py --recipes {recipe} --steps {args.steps}"
                          + (f" --seed {args.seed}" if args.seed else ""), "seed": args.seed,
               "batch_size": info["config"]["batch_size"], "run": str(out)}
        if info.get("cpu_share") is not None:
            row["cpu_share"] = info["cpu_share"]
        print(json.dumps(row), flush=True)
        if not args.train_only:
            from charlib.diagnostics.report import diagnose

            d = diagnose(out, n=args.n, seed=0)
            row.update({k: d[k] for k in ("modes_covered", "n_modes", "mode_coverage", "kl",
                                          "outside_fraction", "precision", "recall", "density",
                                          "coverage", "frechet_distance")})
            row["n_scored"] = args.n
            row["grid"] = _grid(out, f"remedies_sprites_{recipe}_{args.steps}{suffix}.png")
            print(json.dumps({k: row[k] for k in ("recipe", "steps", "mode_coverage", "kl")}), flush=True)
        saved = load()
        old = {_key(r): r for r in saved["rows"]}.get(_key(row), {})
        if args.train_only and "kl" in old:  # keep the scores of a run that has not changed
            row = {**old, **row}
        saved["rows"] = [r for r in saved["rows"] if _key(r) != _key(row)]
        saved["rows"].append(row)
        json_path.write_text(json.dumps(saved, indent=2) + "\n")
    saved = load()
    if not (args.train_only or args.report_only or args.kl_parts):
        from charlib.diagnostics.report import real_floor

        # fresh real sprites, and an exact copy of the training set a seed-0 run draws
        for key, copy_of in (("floor", None), ("copy_floor", recipe_config("dcgan").n_data)):
            if saved.get(key) is None:
                saved[key] = real_floor(32, n=args.n, split="train", copy_of=copy_of)
                json_path.write_text(json.dumps(saved, indent=2) + "\n")
    saved["rows"].sort(key=lambda r: (r["steps"], r["recipe"], r.get("seed", 0)))
    (RESULTS / "remedies_sprites.md").write_text(_markdown(saved["rows"], saved.get("floor"),
                                                           saved.get("copy_floor"), saved.get("removed")))
    print(f"wrote {RESULTS / 'remedies_sprites.md'}")


if __name__ == "__main__":
    main()
