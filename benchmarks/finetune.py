"""Fine-tuning a sprite-trained DCGAN to a small folder vs training from scratch: steps to quality.

1. A source GAN is trained on the procedural sprites (the course's full-profile recipe at 32x32,
   ``--source-steps`` steps), or taken from ``--source DIR``.
2. The shipped folder ``data/sample_characters`` (120 images as a learner would bring them: other
   pixel scales, white backgrounds, JPEG, GIF) is split into 100 training and 20 held-out images.
3. Two runs train on the 100 images for the same steps with the same settings: one from scratch,
   one with ``init_from`` the source run. Every ``--eval-every`` steps, 1000 samples from fixed noise
   are scored: Fréchet classifier distance (FCD) to the folder's 120 images, in the course's
   attribute classifier's feature space (lower is better); the pixel NN ratio against the 20
   held-out images (:mod:`charlib.diagnostics.memorisation`; below 1 means copying); and diversity
   (mean pairwise feature distance of samples over that of the folder's images).

"Steps to quality" is the first evaluated step at which the fine-tuned run's FCD is at or below the
FCD the scratch run reaches at its last step. Writes ``benchmarks/results/finetune.{json,md}`` and
``finetune_samples.png``.

Usage: python benchmarks/finetune.py [--steps 1200] [--eval-every 200] [--source-steps 3000]
       [--source DIR] [--out outputs/bench/finetune]
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


def evaluate(sampler, latent_dim: int, folder, train, heldout, clf, n: int = 1000) -> tuple[dict, object]:
    """FCD to the folder, pixel NN ratio against its held-out images, diversity; and the samples."""
    import numpy as np

    from charlib.diagnostics import memorisation as mem
    from charlib.diagnostics.prdc import frechet_distance
    from charlib.training.gan import generate

    z = np.random.default_rng(2026).standard_normal((n, latent_dim)).astype("float32")
    samples = generate(sampler, z)
    f_samples, f_folder = clf.features(samples), clf.features(folder)
    pixel = mem.memorisation_report(samples, train, heldout)
    return {"fcd": frechet_distance(f_folder, f_samples), "pixel": memorisation_numbers(pixel),
            "diversity_ratio": mem.mean_pairwise_distance(f_samples) / mem.mean_pairwise_distance(f_folder)
            }, samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--eval-every", type=int, default=200)
    parser.add_argument("--source-steps", type=int, default=3000)
    parser.add_argument("--source", type=Path, default=None, help="an existing sprite GAN run (32x32)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", type=Path, default=Path("outputs/bench/finetune"))
    args = parser.parse_args()

    import numpy as np

    from charlib.config import data_dir, profile
    from charlib.data.folders import load_image_folder
    from charlib.diagnostics.classifier import course_classifier
    from charlib.diagnostics.memorisation import split_holdout
    from charlib.training.gan import GanConfig, load_generator, train_gan
    from charlib.viz import image_grid, save_png

    base = GanConfig.from_profile(profile("full"), image_size=32, max_minutes=None)
    source = args.source
    started = time.perf_counter()
    if source is None:
        source = args.out / "source"
        if not (source / "generator.keras").is_file():
            if source.exists():
                shutil.rmtree(source)
            train_gan(replace(base, steps=args.source_steps), source, progress=False)
    source_minutes = (time.perf_counter() - started) / 60
    folder, _ = load_image_folder(data_dir() / "sample_characters", size=32)
    train, heldout = split_holdout(folder, fraction=20 / len(folder), seed=0)
    clf = course_classifier(32, progress=False)
    target = replace(base, batch_size=args.batch_size, data="data/sample_characters",
                     sample_every=args.eval_every, ckpt_every=args.eval_every)

    source_gen, _ = load_generator(source)
    before, _ = evaluate(source_gen, base.latent_dim, folder, train, heldout, clf)
    runs: dict[str, dict] = {}
    grids = []
    for name, init in (("scratch", None), ("finetune", source)):
        out = args.out / name
        if out.exists():
            shutil.rmtree(out)
        curve, t0 = [], time.perf_counter()
        for step in range(args.eval_every, args.steps + 1, args.eval_every):
            if step == args.eval_every:
                result = train_gan(replace(target, steps=step), out, images=train, progress=False,
                                   init_from=init)
            else:
                result = train_gan(out=out, resume=True, steps=step, images=train, progress=False)
            stats, samples = evaluate(result.model.sampler, base.latent_dim, folder, train, heldout, clf)
            curve.append({"step": step, **stats})
            print(name, json.dumps(curve[-1]), flush=True)
            if step == args.eval_every:
                first = samples
        runs[name] = {"minutes_wall": round((time.perf_counter() - t0) / 60, 1), "curve": curve}
        grids += [image_grid(first[:16], ncols=16), image_grid(samples[:16], ncols=16)]
    goal = runs["scratch"]["curve"][-1]["fcd"]
    reached = next((c["step"] for c in runs["finetune"]["curve"] if c["fcd"] <= goal), None)
    gap = np.full((3, grids[0].shape[1], 3), 255, np.uint8)
    RESULTS.mkdir(exist_ok=True)
    stacked = np.concatenate([g for grid in grids for g in (grid, gap)][:-1])
    save_png(stacked, RESULTS / "finetune_samples.png", scale=2)
    command = (f"python benchmarks/finetune.py --steps {args.steps} --eval-every {args.eval_every} "
               f"--batch-size {args.batch_size} " + (f"--source {args.source}" if args.source
                                                     else f"--source-steps {args.source_steps}"))
    source_text = (f"trained by this script for {args.source_steps} steps" if args.source is None
                   else str(args.source))
    info = {"command": command, "source": source_text, "source_minutes_wall": round(source_minutes, 1),
            "folder_images": len(folder), "train_images": len(train), "heldout_images": len(heldout),
            "source_before_finetuning": before, "runs": runs, "scratch_final_fcd": goal,
            "finetune_steps_to_scratch_final_fcd": reached}
    (RESULTS / "finetune.json").write_text(json.dumps(info, indent=2) + "\n")
    rows = [f"| source, before fine-tuning | 0 | {before['fcd']:.1f} | {before['pixel']['nn_ratio']:.3f} | "
            f"{before['diversity_ratio']:.3f} |"]
    for name, run in runs.items():
        rows += [f"| {name} | {c['step']} | {c['fcd']:.1f} | {c['pixel']['nn_ratio']:.3f} | "
                 f"{c['diversity_ratio']:.3f} |" for c in run["curve"]]
    reached_text = (f"at step **{reached}**" if reached is not None
                    else f"not within {args.steps} steps")
    (RESULTS / "finetune.md").write_text(
        f"Command: `{command}` (2 shared CPU cores; wall minutes: scratch "
        f"{runs['scratch']['minutes_wall']}, fine-tune {runs['finetune']['minutes_wall']}; not a speed "
        "figure)\n\n"
        f"Target: `data/sample_characters` at 32x32, {len(train)} training and {len(heldout)} held-out "
        f"images, batch {args.batch_size}, the full-profile DCGAN recipe, no augmentation. Source: a "
        f"DCGAN trained on the procedural sprites ({info['source']}). FCD: Fréchet distance in the "
        "attribute classifier's feature space between 1000 samples and the folder's images (lower is "
        "better; with 120 reference images it is a noisy, relative figure). NN ratio: pixel-space "
        "memorisation against the held-out images (below 1: copying). Diversity: mean pairwise "
        "feature distance of samples over that of the folder.\n\n"
        "| run | step | FCD | NN ratio (pixel) | diversity |\n| --- | --- | --- | --- | --- |\n"
        + "\n".join(rows) + "\n\n"
        f"The scratch run ends at FCD {goal:.1f}; the fine-tuned run reaches it {reached_text}.\n\n"
        "![samples](finetune_samples.png)\n\n*16 samples each, top to bottom: from scratch after "
        f"{args.eval_every} and {args.steps} steps, fine-tuned after {args.eval_every} and "
        f"{args.steps} steps.*\n")
    print(json.dumps({"scratch_final_fcd": goal, "finetune_reached_at": reached}))


if __name__ == "__main__":
    main()
