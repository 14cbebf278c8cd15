"""DiffAugment on a small data set: a DCGAN trained on 200 sprites, with and without augmentation.

Both runs use the course's full-profile GAN at 32x32 (batch 64) and the same seed, data and number
of steps; the only difference is ``GanConfig.augment``. Every ``--eval-every`` steps, 2000 samples
from fixed noise (EMA generator) are scored against the 200 training sprites and against 2000
held-out sprites of the same source (other poses and characters of the training identities):

* memorisation: NN ratio and copy fraction (:mod:`charlib.diagnostics.memorisation`) in pixel space
  and in the attribute classifier's feature space;
* diversity: mean pairwise feature distance of samples, relative to that of held-out sprites;
* quality: Fréchet classifier distance (FCD) to the held-out sprites;
* modes: the share of the training subset's appearance modes (at most 200 of 1296) that the
  samples hit, as read by the course's attribute classifier.

Writes ``benchmarks/results/<name>.{json,md}`` and ``<name>_samples.png`` (name: ``augment_small``).
``--arms diffaugment`` runs only the augmented arm (e.g. to try another policy against a plain run
already measured with the same settings).

Usage: python benchmarks/augment_small.py [--steps 3000] [--eval-every 1000] [--n-train 200]
       [--policy color,translation,cutout] [--arms plain,diffaugment] [--name augment_small]
       [--out outputs/bench/augment_small]
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

from _common import memorisation_numbers

RESULTS = Path(__file__).resolve().parent / "results"


def evaluate(sampler, latent_dim: int, train, heldout, clf, train_modes, n: int = 2000) -> dict:
    """Memorisation, diversity, FCD and mode figures of a generator's samples."""
    import numpy as np

    from charlib.diagnostics import memorisation as mem
    from charlib.diagnostics.prdc import frechet_distance
    from charlib.training.gan import generate

    z = np.random.default_rng(2026).standard_normal((n, latent_dim)).astype("float32")
    samples = generate(sampler, z)
    feats = clf.features
    pixel = mem.memorisation_report(samples, train, heldout)
    feature = mem.memorisation_report(samples, train, heldout, features=feats, space="classifier")
    f_samples, f_held = feats(samples), feats(heldout)
    modes = clf.mode_ids(samples)
    return {
        "pixel": memorisation_numbers(pixel), "classifier": memorisation_numbers(feature),
        "diversity_ratio": mem.mean_pairwise_distance(f_samples) / mem.mean_pairwise_distance(f_held),
        "fcd": frechet_distance(f_held, f_samples),
        "train_modes_hit": float(np.isin(train_modes, modes).mean()),
        "distinct_modes": int(len(np.unique(modes))),
    }, samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--eval-every", type=int, default=1000)
    parser.add_argument("--n-train", type=int, default=200)
    parser.add_argument("--policy", default="color,translation,cutout")
    parser.add_argument("--out", type=Path, default=Path("outputs/bench/augment_small"))
    parser.add_argument("--arms", default="plain,diffaugment", help="which runs: plain, diffaugment")
    parser.add_argument("--name", default="augment_small", help="results file name")
    args = parser.parse_args()

    import numpy as np

    from charlib.config import profile
    from charlib.data.sprites import sample_sprites
    from charlib.diagnostics import memorisation as mem
    from charlib.diagnostics.classifier import course_classifier
    from charlib.training.gan import GanConfig, train_gan
    from charlib.viz import image_grid, save_png

    subset = sample_sprites(args.n_train, size=32, seed=0, split="train")
    train, train_modes = subset.images, np.unique(subset.labels.mode)
    heldout = sample_sprites(2000, size=32, seed=1, split="train").images
    clf = course_classifier(32, progress=False)
    real_f = clf.features(heldout)
    held_pixel = mem.memorisation_report(heldout[:1000], train, heldout[1000:])
    reference = {"heldout_vs_train_pixel": memorisation_numbers(held_pixel),
                 "train_modes": int(len(train_modes)),
                 "real_distinct_modes_2000": int(len(np.unique(clf.mode_ids(heldout)))),
                 "real_diversity": mem.mean_pairwise_distance(real_f)}
    runs: dict[str, dict] = {}
    grids = []
    arms = [(n, p) for n, p in (("plain", ""), ("diffaugment", args.policy)) if n in args.arms.split(",")]
    for name, policy in arms:
        out = args.out / name
        if out.exists():
            shutil.rmtree(out)
        config = GanConfig.from_profile(profile("full"), image_size=32, max_minutes=None, augment=policy,
                                        sample_every=args.eval_every, ckpt_every=args.eval_every)
        curve, started, samples = [], time.perf_counter(), None
        for step in range(args.eval_every, args.steps + 1, args.eval_every):
            if step == args.eval_every:
                result = train_gan(replace(config, steps=step), out, images=train, progress=False)
            else:
                result = train_gan(out=out, resume=True, steps=step, images=train, progress=False)
            stats, samples = evaluate(result.model.sampler, config.latent_dim, train, heldout, clf,
                                      train_modes)
            curve.append({"step": step, **stats})
            print(name, json.dumps(curve[-1]), flush=True)
        runs[name] = {"policy": policy, "minutes_wall": round((time.perf_counter() - started) / 60, 1),
                      "curve": curve}
        grids.append(image_grid(samples[:32], ncols=8))
    RESULTS.mkdir(exist_ok=True)
    gap = np.full((4, grids[0].shape[1], 3), 255, np.uint8)
    save_png(np.concatenate([g for grid in grids for g in (grid, gap)][:-1]),
             RESULTS / f"{args.name}_samples.png", scale=2)
    extra = "" if args.arms == "plain,diffaugment" else f" --arms {args.arms} --name {args.name}"
    info = {"command": f"python benchmarks/augment_small.py --steps {args.steps} --eval-every "
                       f"{args.eval_every} --n-train {args.n_train} --policy {args.policy}{extra}",
            "n_train": args.n_train, "steps": args.steps, "reference": reference, "runs": runs}
    (RESULTS / f"{args.name}.json").write_text(json.dumps(info, indent=2) + "\n")
    rows = []
    for name, run in runs.items():
        for c in run["curve"]:
            rows.append(f"| {name} | {c['step']} | {c['pixel']['nn_ratio']:.3f} | "
                        f"{c['pixel']['copy_fraction']:.3f} | "
                        f"{c['classifier']['nn_ratio']:.3f} | {c['diversity_ratio']:.3f} | {c['fcd']:.2f} | "
                        f"{c['train_modes_hit']:.1%} | {c['distinct_modes']} |")
    ref = reference["heldout_vs_train_pixel"]
    minutes = " and ".join(str(run["minutes_wall"]) for run in runs.values())
    (RESULTS / f"{args.name}.md").write_text(
        f"Command: `{info['command']}` (2 shared CPU cores; {minutes} wall minutes, not a speed "
        "figure)\n\n"
        f"A 32x32 DCGAN (full-profile recipe, batch 64) on {args.n_train} sprites "
        f"({reference['train_modes']} appearance modes), 2000 samples scored at each step against "
        "2000 held-out sprites of the same source. NN ratio: median distance of samples to their "
        "nearest training image over that of held-out real images (below 1: closer than new real "
        "images, i.e. copying). Copy fraction: share of samples closer than 95% of held-out images. "
        "Diversity: mean pairwise classifier-feature distance of samples over that of held-out "
        "sprites. FCD: Fréchet classifier distance to held-out sprites. Modes hit: share of the "
        "training subset's modes found among the samples by the attribute classifier.\n\n"
        "| run | step | NN ratio (pixel) | copy fraction (pixel) | NN ratio (classifier) | diversity | "
        "FCD | modes hit | distinct modes |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
        + "\n".join(rows) + "\n\n"
        f"Held-out sprites themselves: pixel NN ratio {ref['nn_ratio']:.3f}, copy fraction "
        f"{ref['copy_fraction']:.3f}; 2000 real sprites hold {reference['real_distinct_modes_2000']} "
        "distinct modes.\n\n"
        f"![samples]({args.name}_samples.png)\n\n*32 samples at the last step, top to bottom: "
        + ", ".join("without augmentation" if n == "plain" else f"with DiffAugment ({p})" for n, p in arms)
        + ".*\n")
    print(json.dumps({name: run["curve"][-1] for name, run in runs.items()}, indent=1))


if __name__ == "__main__":
    main()
