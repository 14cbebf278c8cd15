"""What the learner profile gives: the course's GAN, VAE and conditional VAE, scored over seeds.

The learner profile is what a person gets with no setting, so its models must give results worth
looking at within a notebook's few minutes on 2 CPU cores. For each model and seed this trains
``Config.from_profile(learner, seed=s)`` (the course's exact settings, as ``course_gan`` /
``course_vae`` / ``course_conditional`` use them) into ``--root/<model>_seed<s>`` (a finished run
there is reused, so ``--score-only`` style reruns cost no training), then measures, with the
course's attribute classifier (``course_classifier(32)``):

* **gan** (notebook 03): N generated sprites classified into the 1296 appearance modes: the share
  of the 1000 training characters covered, reverse KL, and precision (the share of samples on the
  real sprites' manifold, k-NN in classifier features), against N real training sprites
  (``charlib.diagnostics.diagnose``).
* **vae** (notebook 05): samples from the ex-post Gaussian-mixture prior of notebook 05 (50
  components fitted to the encoder means of the run's training images), scored like the GAN's;
  and reconstructions of 2,000 held-out sprites: how often all four attributes read the same on the
  reconstruction as on the original.
* **conditional** (notebook 06): the attribute-code conditional VAE draws 100 new characters (each
  attribute drawn uniformly) in all 9 (action, direction) cycles of 8 frames; cycle consistency is
  the share of cycles whose 4 attributes read the same on all 8 frames.

The same protocol applied to real sprites gives each metric's floor or ceiling (what a perfect
model would score), which the table shows next to the target. Training minutes are wall time with
the share of the machine's CPU time the training had (``cpu_share``; 0.9 or more means it ran
alone). Writes ``benchmarks/results/learner_quality.{json,md}`` (rows accumulate per model and
seed) and a sample grid per model (seed 0).

Usage: python benchmarks/learner_quality.py [--models gan,vae,conditional] [--seeds 0 1 2]
       [--n 10000] [--root outputs/bench/learner] [--report-only]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

# the CPU-share bookkeeping of the sprite-remedies benchmark (this script's folder is on sys.path)
from remedies_sprites import _machine_busy_seconds, _own_seconds

RESULTS = Path(__file__).resolve().parent / "results"
MODELS = ("gan", "vae", "conditional")
# what the learner must see, per model: metric -> the least acceptable value
TARGETS = {"gan": {"mode_coverage": 0.90, "precision": 0.60},
           "vae": {"mode_coverage": 0.90, "recon_all_four": 0.90},
           "conditional": {"cycle_consistency": 0.90}}
LABELS = {"mode_coverage": "modes covered", "precision": "precision", "kl": "reverse KL",
          "recon_all_four": "reconstructions keep all 4 attributes",
          "cycle_consistency": "cycle consistency", "train_minutes": "training minutes"}
N_CHARACTERS = 100  # new characters the conditional VAE draws, each in 9 cycles


def train(model: str, seed: int, root: Path, time_limit: bool = True,
          overrides: dict | None = None) -> tuple[object, dict[str, float]]:
    """Train (or reuse) the learner profile's ``model`` for ``seed``; returns the run and its timing.

    ``time_limit=False`` drops the profile's ``max_minutes``, so a run on a busy machine still trains
    all its steps (the quality of the learner's model, not of the slice a busy machine allowed).
    ``overrides`` change the config (a candidate recipe, see ``--gan-recipe``).
    """
    from charlib.config import profile
    from charlib.training import conditional as cv
    from charlib.training import gan, vae
    from charlib.training.trainer import train_or_load

    learner = profile("learner")
    kinds = {"gan": (gan.GanConfig, {}, gan.train_gan, gan.build_gan),
             "vae": (vae.VaeConfig, {}, vae.train_vae, vae.build_vae),
             "conditional": (cv.ConditionalConfig, {"identity": "attributes"}, cv.train_conditional,
                             cv.build_conditional)}
    config_cls, extra, train_fn, build = kinds[model]
    limit = {} if time_limit else {"max_minutes": None}
    config = config_cls.from_profile(learner, seed=seed, **extra, **limit, **(overrides or {}))
    out = root / f"{model}_seed{seed}" if not overrides else root / f"{model}_{_slug(overrides)}_seed{seed}"
    timing_file = out / "learner_timing.json"
    busy, own, start = _machine_busy_seconds(), _own_seconds(), time.perf_counter()
    run = train_or_load(config_cls, config, out, train_fn, build, progress=False)
    if not timing_file.is_file():  # trained now: record how long it took, for later reuses
        wall = time.perf_counter() - start
        busy_after = _machine_busy_seconds()
        share = None if busy is None else (_own_seconds() - own) / max(busy_after - busy, 1e-9)
        timing_file.write_text(json.dumps({"train_minutes": round(wall / 60, 2),
                                           "cpu_share": None if share is None else round(share, 3)}))
    return run, json.loads(timing_file.read_text())


def _slug(overrides: dict) -> str:
    return "_".join(f"{k}{v}" for k, v in sorted(overrides.items()))


GAN_RECIPE_KEYS = ("pack", "lr_decay", "minibatch_std", "loss", "nets", "steps")


def gan_recipe(config) -> dict:
    """The settings that tell the GAN recipes of the comparison apart."""
    return {key: getattr(config, key) for key in GAN_RECIPE_KEYS}


def score_gan(run, n: int, classifier) -> dict[str, float]:
    from charlib.diagnostics.report import diagnose

    result = diagnose(run.run.path, n=n, classifier=classifier)
    return {key: result[key] for key in ("mode_coverage", "modes_covered", "n_modes", "kl", "precision",
                                         "recall", "frechet_distance")}


def score_vae(run, n: int, classifier) -> dict[str, float]:
    from charlib.data.sprites import sample_sprites
    from charlib.diagnostics.modes import count_modes
    from charlib.diagnostics.prdc import prdc
    from charlib.training.vae import decode, latent_prior, reconstruct

    vae, config = run.model, run.config
    size = config.image_size
    held_out = sample_sprites(2000, size=size, seed=99, split="test").images
    same = classifier.attributes(held_out) == classifier.attributes(reconstruct(vae, held_out))
    images = decode(vae, latent_prior(run.run.path).sample(n, seed=2026))
    summary = count_modes(images, classifier, split="train").summary()
    real = sample_sprites(n, size=size, seed=7, split="train").images
    metrics = prdc(classifier.features(real), classifier.features(images), k=5)
    return {"mode_coverage": summary["mode_coverage"], "modes_covered": summary["modes_covered"],
            "n_modes": summary["n_modes"], "kl": summary["kl"], "precision": float(metrics["precision"]),
            "recon_all_four": float(same.all(axis=1).mean())}


def _cycle_scores(classifier, cycles_of) -> dict[str, float]:
    """Mean cycle consistency and frame agreement over the 9 (action, direction) pairs."""
    from charlib.diagnostics.consistency import score_cycles

    rows = [score_cycles(classifier, cycles_of(a, d), a, d) for a in range(3) for d in range(3)]
    return {key: float(np.mean([r[key] for r in rows])) for key in ("cycle_consistency", "frame_agreement")}


def score_conditional(run, classifier) -> dict[str, float]:
    from charlib.training.conditional import generate_cycles, sample_characters

    codes = sample_characters(run.config, N_CHARACTERS, seed=1)
    return _cycle_scores(classifier, lambda a, d: generate_cycles(run.model, codes, a, d))


def floors(n: int, classifier) -> dict[str, dict[str, float]]:
    """The same protocols applied to real sprites: what a perfect model would score."""
    from charlib.data import skeleton as sk
    from charlib.data import sprites as sp
    from charlib.diagnostics.report import real_floor

    real = real_floor(32, n=n, split="train", classifier=classifier)
    _, test_modes = sp.identity_split()
    attrs = sp.attributes_of(np.random.default_rng(2).choice(test_modes, size=N_CHARACTERS))
    cycles = _cycle_scores(classifier, lambda a, d: np.stack(
        [sp.cycle(t, sk.ACTIONS[a], sk.DIRECTIONS[d], 32) for t in attrs]))
    sprites = {"mode_coverage": real["mode_coverage"], "kl": real["kl"], "precision": real["precision"]}
    # a perfect reconstruction is the original itself, so it keeps every attribute
    return {"gan": sprites, "vae": {**sprites, "recon_all_four": 1.0}, "conditional": cycles}


def _summary(rows: list[dict], model: str, key: str) -> str:
    values = [r[key] for r in rows if r["model"] == model and r.get(key) is not None]
    if not values:
        return ""
    as_pct = key in ("mode_coverage", "precision", "recon_all_four", "cycle_consistency")
    fmt = (lambda v: f"{100 * v:.1f}%") if as_pct else (lambda v: f"{v:.3f}" if key == "kl" else f"{v:.1f}")
    mean = fmt(float(np.mean(values)))
    return mean if len(values) == 1 else f"{mean} ({fmt(min(values))}–{fmt(max(values))})"


def write_report(info: dict) -> None:
    rows = info["rows"]
    lines = ["Command: `python benchmarks/learner_quality.py --seeds 0 1 2` (2 CPU cores). Each model "
             "is the learner profile's, trained from scratch per seed; the values are the mean over "
             "seeds with the range (min–max) in brackets. The floor column is the same protocol "
             "applied to real sprites: what a perfect model would score.", ""]
    lines += ["| model | notebook | seeds | metric | target | mean (range) | real-sprite floor |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    notebook = {"gan": "03", "vae": "05", "conditional": "06"}
    for model in MODELS:
        seeds = sorted(r["seed"] for r in rows if r["model"] == model)
        if not seeds:
            continue
        keys = [*TARGETS[model], *(["kl"] if model != "conditional" else []), "train_minutes"]
        for key in keys:
            target = TARGETS[model].get(key)
            floor = info["floors"].get(model, {}).get(key)
            pct = key != "kl"
            lines.append(
                f"| {model} | {notebook[model]} | {', '.join(map(str, seeds))} | {LABELS[key]} | "
                f"{'' if target is None else f'≥ {100 * target:.0f}%'} | {_summary(rows, model, key)} | "
                f"{'' if floor is None else (f'{100 * floor:.1f}%' if pct else f'{floor:.3f}')} |")
    lines += ["", "Per seed:", "", "| model | seed | steps | " + " | ".join(LABELS[k] for k in (
        "mode_coverage", "kl", "precision", "recon_all_four", "cycle_consistency")) +
        " | training minutes (CPU share) |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in sorted(rows, key=lambda r: (MODELS.index(r["model"]), r["seed"])):
        cells = []
        for key in ("mode_coverage", "kl", "precision", "recon_all_four", "cycle_consistency"):
            value = r.get(key)
            cells.append("" if value is None else (f"{value:.3f}" if key == "kl" else f"{100 * value:.1f}%"))
        share = "" if r.get("cpu_share") is None else f" ({r['cpu_share']:.2f})"
        lines.append(f"| {r['model']} | {r['seed']} | {r['steps']} | " + " | ".join(cells) +
                     f" | {r['train_minutes']:.1f}{share} |")
    recipes = info.get("gan_recipes", [])
    if recipes:
        lines += ["", "GAN recipes measured for the learner profile, each over the same seeds with "
                  "the same protocol (`--gan-recipe LABEL --gan-overrides JSON`); the row marked "
                  "*learner* is the profile's own setting, the GAN rows above:", "",
                  "| recipe | settings | seeds | modes covered | precision | reverse KL |",
                  "| --- | --- | --- | --- | --- | --- |"]
        labels = list(dict.fromkeys(r["label"] for r in recipes))
        for label in labels:
            rows_of = [{**r, "model": "gan"} for r in recipes if r["label"] == label]
            settings = ", ".join(f"{k}={v}" for k, v in rows_of[0]["recipe"].items())
            lines.append(f"| {label} | {settings} | {', '.join(str(r['seed']) for r in rows_of)} | "
                         + " | ".join(_summary(rows_of, "gan", k) for k in ("mode_coverage", "precision",
                                                                             "kl")) + " |")
    lines += ["", *[f"![{m}, seed 0](learner_quality_{m}.png)\n\n*{m}, seed 0: "
                    f"{'samples' if m != 'conditional' else 'new characters, one walk cycle each'}.*\n"
                    for m in MODELS if (RESULTS / f"learner_quality_{m}.png").is_file()]]
    (RESULTS / "learner_quality.md").write_text("\n".join(lines))


def save_grid(model: str, run) -> None:
    from charlib.training import conditional as cv
    from charlib.training.gan import fixed_noise, generate
    from charlib.training.vae import decode, latent_prior
    from charlib.viz import image_grid, save_png

    if model == "gan":
        images = generate(run.model.sampler, fixed_noise(run.config))[:32]
        grid = image_grid(images, ncols=8)
    elif model == "vae":
        images = decode(run.model, latent_prior(run.run.path).sample(32, seed=7))
        grid = image_grid(images, ncols=8)
    else:
        codes = cv.sample_characters(run.config, 4, seed=7)
        cycles = cv.generate_cycles(run.model, codes, 0, 0)  # walk, front
        grid = image_grid(cycles.reshape(-1, *cycles.shape[2:]), ncols=8)
    save_png(grid, RESULTS / f"learner_quality_{model}.png", scale=2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n", type=int, default=10_000, help="samples scored per GAN and VAE run")
    parser.add_argument("--root", type=Path, default=None,
                        help="run folders (default: outputs/bench/learner)")
    parser.add_argument("--report-only", action="store_true", help="rewrite the markdown from the JSON")
    parser.add_argument("--no-time-limit", action="store_true",
                        help="train every step even past the profile's max_minutes (a busy machine)")
    parser.add_argument("--gan-recipe", metavar="LABEL",
                        help="score a candidate GAN recipe instead of the profile's GAN: its rows go to "
                             "the recipe table under LABEL (with --gan-overrides)")
    parser.add_argument("--gan-overrides", type=json.loads, default={}, metavar="JSON",
                        help='GanConfig overrides of the candidate, e.g. \'{"pack": 1}\'')
    args = parser.parse_args(argv)
    path = RESULTS / "learner_quality.json"
    info = json.loads(path.read_text()) if path.is_file() else {"rows": [], "floors": {}}
    if args.report_only:
        write_report(info)
        return 0
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if args.gan_recipe:
        models = ["gan"]
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        print(f"learner_quality: unknown model(s) {unknown}; choose from {list(MODELS)}", file=sys.stderr)
        return 2

    from charlib.config import output_dir
    from charlib.diagnostics.classifier import course_classifier

    root = args.root or output_dir("bench", "learner")
    classifier = course_classifier(32, progress=False)
    if not info["floors"] or info.get("n") != args.n:
        info["floors"], info["n"] = floors(args.n, classifier), args.n
    for model in models:
        for seed in args.seeds:
            run, timing = train(model, seed, root, time_limit=not args.no_time_limit,
                                overrides=args.gan_overrides if args.gan_recipe else None)
            if model == "gan":
                scores = score_gan(run, args.n, classifier)
            elif model == "vae":
                scores = score_vae(run, args.n, classifier)
            else:
                scores = score_conditional(run, classifier)
            row = {"model": model, "seed": seed, "steps": run.config.steps,
                   "time_limit": not args.no_time_limit, **timing,
                   **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in scores.items()}}
            if model == "gan":
                row["recipe"] = gan_recipe(run.config)
            print(json.dumps(row), flush=True)
            label = args.gan_recipe or ("learner" if model == "gan" else None)
            if label:  # the recipe table: this label's row for this seed replaces an older one
                kept = [r for r in info.get("gan_recipes", []) if (r["label"], r["seed"]) != (label, seed)]
                info["gan_recipes"] = [*kept, {**row, "label": label}]
            if not args.gan_recipe:
                if seed == 0:
                    save_grid(model, run)
                info["rows"] = [r for r in info["rows"] if (r["model"], r["seed"]) != (model, seed)] + [row]
            info["targets"] = TARGETS
            path.write_text(json.dumps(info, indent=2) + "\n")
            write_report(info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
