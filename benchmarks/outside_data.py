"""The course's GANs on outside data: the learner DCGAN against R3GAN, on image sets with known modes.

The course's defaults were chosen on its sprites; this checks them on pictures that are not
sprites. For each set of ``charlib.data.outside`` (``stacked_glyphs``: K = 1000 modes, three digits
stacked as R, G, B, like Stacked MNIST; ``shapes``: K = 336 modes, a shape of one colour on a
background of another), it writes a folder of ``--n-data`` PNG files under ``--root/data`` and
trains on that folder, as ``charlib train gan --data DIR`` does, with:

* ``dcgan``: the learner profile's GAN settings, ``GanConfig.from_profile(profile("learner"))``
  (the course's DCGAN with PacGAN2 and the learning rates falling to 0 over the second half);
* ``r3gan``: ``r3gan_config(profile("learner"))`` (RpGAN loss, R1 and R2 at γ = 0.1 every 4 steps,
  residual nets without normalisation, EMA generator);

each for the same budget and over the seeds ``--seeds``. The budget is the learner profile's (its
steps, and its ``max_minutes`` as a cap) unless ``--steps`` (one number for both, or
``dcgan=N,r3gan=M``) or ``--minutes`` (each run's training minutes at most: the same wall time for
both, whatever their steps cost) replace it. Every run trains into
``--root/<set>_<recipe>_<steps>_<minutes>min_seed<s>`` (a finished run there is reused, a stopped
one resumed), seed by seed, both recipes of a seed one after the other.

Each run's EMA generator then draws N = ``--n`` samples (26,000 by default, as in the PacGAN and
VEEGAN protocol), the set's reader reads their modes, and the report gives the modes covered (of
K), the reverse KL of the mode histogram against the uniform one (over the samples that read as a
mode; the share that did is the ``readable`` column), whether the trainer's discriminator-won
warning fired (``d_won`` in history.csv), the steps, the distinct training images seen and the
training minutes with the share of the machine's CPU the training had. Two floors come with each
set: a perfect generator (N draws from the uniform distribution over the K modes; its plug-in KL is
about (K - 1) / 2N), and N fresh real images read by the same reader (the reader's own errors
included; their accuracy is reported too).

Writes ``benchmarks/results/outside_data.{json,md}`` (rows accumulate per set, recipe, budget and
seed) and a sample grid per set and recipe (seed 0), with one of real images per set.

Usage: python benchmarks/outside_data.py [--sets stacked_glyphs,shapes] [--recipes dcgan,r3gan]
       [--seeds 0 1 2] [--steps N | --steps dcgan=N,r3gan=M] [--minutes M] [--n 26000]
       [--n-data 10000] [--root outputs/bench/outside] [--report-only]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
RECIPES = ("dcgan", "r3gan")
DESCRIPTIONS = {
    "dcgan": "the learner profile's GAN: the course's DCGAN (BatchNorm D, non-saturating loss, Adam 2e-4 "
             "(0.5, 0.999), EMA generator) with PacGAN2 and both learning rates falling linearly to 0 over "
             "the second half of the run",
    "r3gan": "r3gan_config(learner): RpGAN loss with R1 and R2 (γ = 0.1) every 4 steps, residual G and D "
             "without normalisation, Adam 2e-4 (0, 0.99), EMA generator",
}
REAL_SEED = 777  # the real images of the floor are drawn with this seed, not the training folder's
SAMPLE_SEED = 2026  # z of the scored samples: SAMPLE_SEED + the training seed


def parse_steps(text: str) -> dict[str, int]:
    """``"2000"`` (every recipe) or ``"dcgan=4000,r3gan=1500"``: steps per recipe."""
    if "=" not in text:
        return dict.fromkeys(RECIPES, int(text))
    steps = {}
    for part in text.split(","):
        recipe, _, value = part.partition("=")
        if recipe.strip() not in RECIPES:
            raise ValueError(f"unknown recipe {recipe!r} in --steps; choose from {', '.join(RECIPES)}")
        steps[recipe.strip()] = int(value)
    return steps


def distinct_images_seen(steps: int, batch_size: int, n_data: int) -> int:
    """Training images shown at least once: each epoch shows n_data // batch_size batches of a fresh
    shuffle, so after the first epoch every image has been shown (up to the few an epoch leaves out)."""
    per_epoch = n_data // batch_size
    return steps * batch_size if steps <= per_epoch else n_data


def d_won_summary(history: list[dict[str, float]]) -> dict[str, object]:
    """Whether the discriminator-won warning fired (``d_won`` in history.csv), the first logged step
    where it did, and the share of logged steps marked."""
    marked = [row for row in history if row.get("d_won", 0) >= 1]
    logged = [row for row in history if "d_won" in row]
    return {"d_won": bool(marked), "d_won_first_step": int(marked[0]["step"]) if marked else None,
            "d_won_share": round(len(marked) / len(logged), 3) if logged else None}


def ensure_folder(name: str, root: Path, n_data: int) -> Path:
    """The training folder of a set: written once under ``root/data``, reused after."""
    from charlib.data import outside

    folder = root / "data" / f"{name}_{n_data}"
    labels = folder / "labels.csv"
    if not labels.is_file() or len(labels.read_text().splitlines()) != n_data + 1:
        print(f"Writing {n_data} {name} images to {folder}", flush=True)
        outside.write_folder(name, folder, n=n_data, seed=0)
    return folder


def recipe_config(recipe: str, folder: Path, seed: int, steps: int | None = None,
                  minutes: float | None = None):
    """The GanConfig of a recipe on an image folder: the learner profile's settings, with ``steps`` and
    ``minutes`` (``max_minutes``) in place of the profile's where given."""
    from charlib.config import profile
    from charlib.training.gan import GanConfig, r3gan_config

    budget = {"data": str(folder), "seed": seed, **({"steps": steps} if steps else {}),
              **({"max_minutes": minutes} if minutes else {})}
    learner = profile("learner")
    return GanConfig.from_profile(learner, **budget) if recipe == "dcgan" else r3gan_config(learner, **budget)


def train(config, out: Path):
    """Train (or reuse) the run ``out``; returns the run and its timing (recorded when it trained)."""
    from remedies_sprites import _machine_busy_seconds, _own_seconds

    from charlib.training.gan import GanConfig, build_gan, train_gan
    from charlib.training.trainer import train_or_load

    timing_file = out.parent / f"{out.name}.timing.json"
    busy, own, start = _machine_busy_seconds(), _own_seconds(), time.perf_counter()
    run = train_or_load(GanConfig, config, out, train_gan, build_gan, progress=False)
    if not timing_file.is_file():  # trained now: record how long it took, for later reuses
        wall = time.perf_counter() - start
        machine = None if busy is None else _machine_busy_seconds() - busy
        share = None if not machine else (_own_seconds() - own) / machine
        timing_file.write_text(json.dumps({"train_minutes": round(wall / 60, 2),
                                           "cpu_share": None if share is None else round(share, 3)}))
    return run, json.loads(timing_file.read_text())


def read_scores(name: str, images: np.ndarray) -> dict[str, float]:
    """Modes covered, reverse KL and readable share of images of the set ``name``."""
    from charlib.data import outside
    from charlib.diagnostics.modes import reverse_kl

    reading = outside.read_modes(name, images)
    counts = reading.counts()
    return {"modes_covered": int((counts > 0).sum()), "n_modes": reading.n_modes,
            # no sample read as a mode: no histogram, no KL (null in the JSON)
            "kl": round(reverse_kl(counts), 4) if counts.any() else None,
            "readable": round(float((reading.modes >= 0).mean()), 4)}  # the share read as a mode


def score_run(name: str, run, n: int) -> dict[str, float]:
    from charlib.training.trainer import generate

    rng = np.random.default_rng(SAMPLE_SEED + run.config.seed)
    z = rng.standard_normal((n, run.config.latent_dim)).astype(np.float32)
    return read_scores(name, generate(run.model.sampler, z))


def floors(name: str, n: int) -> dict[str, dict[str, float]]:
    """What a perfect generator scores with n samples, and what n fresh real images score."""
    from charlib.data import outside
    from charlib.diagnostics.modes import uniform_floor
    from charlib.viz import image_grid, save_png

    k = outside.n_modes(name)
    perfect = uniform_floor(n=n, n_modes=k, trials=20)
    images, modes = outside.render(name, n, seed=REAL_SEED)
    save_png(image_grid(images[:32], ncols=8), RESULTS / f"outside_data_{name}_real.png", scale=2)
    reading = outside.read_modes(name, images)
    return {"perfect": {"modes_covered": round(perfect["modes_covered_mean"], 1),
                        "kl": round(perfect["kl_mean"], 4), "kl_approx": round((k - 1) / (2 * n), 4),
                        "trials": 20},
            "real": {**read_scores(name, images),
                     "reader_accuracy": round(float((reading.modes == modes).mean()), 4)}}


def save_grid(name: str, recipe: str, run) -> None:
    from charlib.training.trainer import fixed_noise, generate
    from charlib.viz import image_grid, save_png

    images = generate(run.model.sampler, fixed_noise(run.config, 32))
    save_png(image_grid(images, ncols=8), RESULTS / f"outside_data_{name}_{recipe}.png", scale=2)


# ----------------------------------------------------------------------------------- the report

def _spread(values: list[float], fmt) -> str:
    mean = fmt(statistics.mean(values))
    return mean if fmt(min(values)) == fmt(max(values)) else f"{mean} ({fmt(min(values))}–{fmt(max(values))})"


def groups(rows: list[dict]) -> dict[tuple[str, str, int, float | None], list[dict]]:
    """Rows by (set, recipe, steps asked, minutes asked), in a stable order."""
    out: dict[tuple, list[dict]] = {}
    def order(r: dict) -> tuple:
        return r["set"], RECIPES.index(r["recipe"]), r["steps_asked"], r.get("minutes_asked") or 0, r["seed"]

    for row in sorted(rows, key=order):
        key = (row["set"], row["recipe"], row["steps_asked"], row.get("minutes_asked"))
        out.setdefault(key, []).append(row)
    return out


def summary_rows(info: dict) -> list[list[str]]:
    """One line per set and recipe (mean and range over seeds), then the set's two floors."""
    lines = []
    for set_name in dict.fromkeys(r["set"] for r in info["rows"]):
        for (name, recipe, _, _), runs in groups(info["rows"]).items():
            if name != set_name:
                continue
            k = runs[0]["n_modes"]
            lines.append([set_name, f"`{recipe}`", ", ".join(str(r["seed"]) for r in runs),
                          _spread([r["steps"] for r in runs], lambda x: f"{x:,.0f}"),
                          _spread([r["modes_covered"] for r in runs], lambda x: f"{x:.0f}") + f" of {k}",
                          _spread([r["kl"] for r in runs if r["kl"] is not None] or [float("nan")],
                                  lambda x: "—" if x != x else f"{x:.3f}"),
                          _spread([100 * r["readable"] for r in runs], lambda x: f"{x:.1f}%"),
                          f"{sum(r['d_won'] for r in runs)} of {len(runs)}",
                          _spread([r["distinct_images"] for r in runs], lambda x: f"{x:,.0f}"),
                          _spread([r["train_minutes"] for r in runs], lambda x: f"{x:.1f}")])
        f = info["floors"].get(set_name)
        if f:
            k = f["real"]["n_modes"]
            perfect, real = f["perfect"], f["real"]
            lines.append([set_name, "*perfect generator* (floor)", "", "",
                          f"{perfect['modes_covered']:.1f} of {k}",
                          f"{perfect['kl']:.3f}", "100.0%", "", "", ""])
            lines.append([set_name, "*real images, read* (floor)", "", "", f"{real['modes_covered']} of {k}",
                          f"{real['kl']:.3f}", f"{100 * real['readable']:.1f}%", "", "", ""])
    return lines


def budget_note(rows: list[dict]) -> str:
    """The seeds each set ran and the budget: in words, from the rows."""
    names = dict.fromkeys(r["set"] for r in rows)
    seeds = {name: sorted({r["seed"] for r in rows if r["set"] == name}) for name in names}
    text = "Seeds: " + "; ".join(f"`{name}` {', '.join(map(str, s))}" for name, s in seeds.items()) + "."
    if len({len(s) for s in seeds.values()}) > 1:
        text += " A set with fewer seeds than another is one the time available did not cover further."
    minutes = sorted({r["minutes_asked"] for r in rows if r.get("minutes_asked")})
    if minutes:
        budget = " or ".join(f"{m:g}" for m in minutes)
        text += (f" Every run had the same wall-clock budget ({budget} minutes of training, `max_minutes`, "
                 "with the learner profile's steps as the cap), so the steps a recipe reached depend on what "
                 "one of its steps costs and on the CPU share it had.")
    return text


HEADER = ["set", "recipe", "seeds", "steps", "modes covered", "reverse KL", "readable", "D won",
          "distinct images seen", "training minutes"]


def write_report(info: dict) -> None:
    rows = info["rows"]
    commands = "; ".join(f"`{c}`" for c in info.get("commands", ["python benchmarks/outside_data.py"]))
    lines = [f"Commands: {commands}, on 2 shared CPU cores. "
             f"Each run trains on a folder of {info['n_data']:,} PNG images of the set (as `charlib train "
             "gan --data DIR` does, random horizontal flips included; both sets keep their modes under a "
             f"flip), and its EMA generator's {info['n']:,} samples are read by the set's reader. Values are "
             "the mean over seeds with the range (min–max) in brackets; *D won*: in how many seeds the "
             "trainer's discriminator-won warning fired.", ""]
    lines += ["| " + " | ".join(HEADER) + " |", "| " + " | ".join("---" for _ in HEADER) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in summary_rows(info)]
    lines += ["", budget_note(rows)]
    lines += ["", "Recipes:", ""] + [f"- `{k}`: {v}" for k, v in DESCRIPTIONS.items()]
    lines += ["", "Readers: on the floor's real images (fresh draws, not the training folder's), the reader "
              "reads " + ", ".join(f"{name} {100 * f['real']['reader_accuracy']:.2f}%"
                                   for name, f in info["floors"].items()) + " of the modes right.", ""]
    per_seed = ["set", "recipe", "seed", "steps", "modes covered", "reverse KL", "readable",
                "D won (first step)", "training minutes (CPU share)"]
    lines += ["Per seed:", "", "| " + " | ".join(per_seed) + " |",
              "| " + " | ".join("---" for _ in per_seed) + " |"]
    for runs in groups(rows).values():
        for r in runs:
            won = f"yes ({r['d_won_first_step']})" if r["d_won"] else "no"
            share = "" if r.get("cpu_share") is None else f" ({r['cpu_share']:.2f})"
            kl = "—" if r["kl"] is None else f"{r['kl']:.3f}"  # None: no sample read as a mode
            lines.append(f"| {r['set']} | {r['recipe']} | {r['seed']} | {r['steps']:,} | "
                         f"{r['modes_covered']} of {r['n_modes']} | {kl} | "
                         f"{100 * r['readable']:.1f}% | {won} | "
                         f"{r['train_minutes']:.1f}{share} |")
    for name in info["floors"]:
        figures = [f"![{name}, {what}](outside_data_{name}_{what}.png)" for what in ("real", *RECIPES)
                   if (RESULTS / f"outside_data_{name}_{what}.png").is_file()]
        if figures:
            caption = f"*{name}: real images, then samples of each recipe (seed 0).*"
            lines += ["", caption, "", " ".join(figures)]
    (RESULTS / "outside_data.md").write_text("\n".join(lines) + "\n")


# ------------------------------------------------------------------------------------------ main

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from charlib.data import outside

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default=",".join(outside.SET_NAMES))
    parser.add_argument("--recipes", default=",".join(RECIPES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", default=None,
                        help='steps per run, "2000" or "dcgan=4000,r3gan=1500" (default: the profile\'s)')
    parser.add_argument("--minutes", type=float, default=None,
                        help="each run's training minutes at most (default: the profile's max_minutes)")
    parser.add_argument("--n", type=int, default=26_000, help="samples scored per run")
    parser.add_argument("--n-data", type=int, default=10_000, help="images in each training folder")
    parser.add_argument("--root", type=Path, default=None,
                        help="folders and runs (default: outputs/bench/outside)")
    parser.add_argument("--results", type=Path, default=RESULTS, help=argparse.SUPPRESS)
    parser.add_argument("--report-only", action="store_true", help="rewrite the markdown from the JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    global RESULTS
    from charlib.data import outside

    args = parse_args(argv)
    RESULTS = args.results
    path = RESULTS / "outside_data.json"
    info = json.loads(path.read_text()) if path.is_file() else {"rows": [], "floors": {}}
    if args.report_only:
        write_report(info)
        return 0
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    recipes = [r.strip() for r in args.recipes.split(",") if r.strip()]
    bad = sorted(set(sets) - set(outside.SET_NAMES)) + sorted(set(recipes) - set(RECIPES))
    if bad:
        print(f"outside_data: unknown set or recipe {bad}; sets: {list(outside.SET_NAMES)}, recipes: "
              f"{list(RECIPES)}", file=sys.stderr)
        return 2
    steps = parse_steps(args.steps) if args.steps else {}

    from charlib.config import output_dir

    root = args.root or output_dir("bench", "outside")
    if info.get("n") not in (None, args.n) or info.get("n_data") not in (None, args.n_data):
        info = {"rows": [], "floors": {}}  # rows scored another way are not comparable
    given = sys.argv[1:] if argv is None else argv
    command = " ".join(["python benchmarks/outside_data.py", *given])
    info.update(n=args.n, n_data=args.n_data, recipes=DESCRIPTIONS,
                commands=[c for c in info.get("commands", []) if c != command] + [command])
    for name in sets:
        folder = ensure_folder(name, root, args.n_data)
        if name not in info["floors"]:
            info["floors"][name] = floors(name, args.n)
        for seed in args.seeds:  # both recipes of a seed before the next seed: a cut-short run stays paired
            for recipe in recipes:
                config = recipe_config(recipe, folder, seed, steps.get(recipe), args.minutes)
                budget = (config.steps, config.max_minutes)
                out = root / f"{name}_{recipe}_{budget[0]}_{budget[1]}min_seed{seed}"
                run, timing = train(config, out)
                if seed == args.seeds[0]:
                    save_grid(name, recipe, run)
                history = run.history or run.run.read_history()
                row = {"set": name, "recipe": recipe, "seed": seed, "steps_asked": budget[0],
                       "minutes_asked": budget[1], "steps": run.config.steps,
                       "batch_size": run.config.batch_size, "flip": run.config.flip,
                       "distinct_images": distinct_images_seen(run.config.steps, run.config.batch_size,
                                                               args.n_data),
                       **timing, **d_won_summary(history), **score_run(name, run, args.n)}
                print(json.dumps(row), flush=True)
                key = (name, recipe, *budget, seed)
                info["rows"] = [r for r in info["rows"] if (r["set"], r["recipe"], r["steps_asked"],
                                                            r.get("minutes_asked"), r["seed"]) != key] + [row]
                path.write_text(json.dumps(info, indent=2) + "\n")
                write_report(info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
