"""Is a run's mode KL the generator's, or the classifier's? Two rulers, on known and on generated sprites.

Every mode count in the course reads appearance attributes with the course classifier, which is
trained on crisp renders with a little pixel noise. Generated sprites are softer and slightly off
colour, and a blurred face mixes skin with its dark outline, so a ruler that never saw blur may read
a soft pale face as tan: its errors then pile up in a few modes and raise the KL it reports, which
would be blamed on the generator. This script measures how much of that happens.

It trains a second classifier with the course recipe plus blur and colour-jitter augmentation
(``train_classifier(32, blur=1.0, colour_jitter=0.03)``, see ``charlib.diagnostics.classifier.degrade``)
and reports, for both rulers:

1. held-out accuracy on clean renders of the 296 test identities (the course asks for >= 99% per
   attribute);
2. per-attribute accuracy and the reverse KL over the 1,000 training modes on 10,000 real training
   sprites degraded on purpose (pixel noise, Gaussian blur, a colour shift per sprite). Their labels
   are known and their modes even, so a KL above the clean images' is the ruler's error alone;
3. modes covered and KL of every run folder given with ``--runs``, from ``diagnose``'s samples.

Usage: python benchmarks/ruler_check.py --runs DIR [DIR ...] [--n 10000] [--out outputs/bench/ruler]
Writes ``benchmarks/results/ruler_check.json`` and ``ruler_check.md``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
AUGMENTED = {"blur": 1.0, "colour_jitter": 0.03}
NOISE, BLURS, SHIFT = 0.1, (0.6, 0.8, 1.2), 0.05  # in [0, 1] pixel units; blur σ in pixels


def gaussian_blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of float images (N, H, W, C), σ in pixels, edges reflected."""
    r = max(1, int(np.ceil(3 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    taps /= taps.sum()
    out = np.pad(images, ((0, 0), (r, r), (r, r), (0, 0)), mode="reflect")
    out = sum(t * out[:, i : i + images.shape[1]] for i, t in enumerate(taps))
    return sum(t * out[:, :, i : i + images.shape[2]] for i, t in enumerate(taps))


def degraded_sets(n: int, seed: int = 1) -> tuple[dict[str, np.ndarray], object]:
    """Real training sprites (32x32) and degraded copies, uint8, with their labels."""
    from charlib.data import sprites as sp

    s = sp.sample_sprites(n, size=32, seed=seed, split="train")
    x = s.images.astype(np.float32) / 255.0
    rng = np.random.default_rng(seed)
    sets = {"clean": x, f"pixel noise σ={NOISE}": x + rng.normal(0, NOISE, x.shape)}
    sets.update({f"blur σ={b} px": gaussian_blur(x, b) for b in BLURS})
    sets[f"colour shift σ={SHIFT}"] = x + rng.normal(0, SHIFT, (n, 1, 1, 3))
    return {k: (np.clip(v, 0, 1) * 255).round().astype(np.uint8) for k, v in sets.items()}, s.labels


def score_degraded(clf, sets: dict[str, np.ndarray], labels) -> dict[str, dict[str, float]]:
    from charlib.diagnostics.classifier import APPEARANCE_HEADS, labels_of
    from charlib.diagnostics.modes import count_modes

    truth = labels_of(labels)
    out = {}
    for name, images in sets.items():
        pred = clf.predict(images)
        row = {h: round(float(np.mean(pred[h] == truth[h])), 4) for h in APPEARANCE_HEADS}
        row["kl"] = round(count_modes(images, clf, split="train").summary()["kl"], 4)
        out[name] = row
    return out


def _markdown(result: dict) -> str:
    rulers = list(result["rulers"])
    heads = ("skin", "hair", "top", "bottom")
    lines = [f"Command: `{result['command']}`", "",
             "Two rulers: **course** is the course classifier (`course_classifier(32)`, trained on crisp "
             "renders with pixel noise); **augmented** is the same recipe trained with blur and colour "
             f"jitter as well (`train_classifier(32, blur={AUGMENTED['blur']}, "
             f"colour_jitter={AUGMENTED['colour_jitter']})`).", "",
             "Held-out accuracy (clean 32x32 renders of the 296 test identities):", "",
             "| ruler | " + " | ".join(heads) + " | whole mode |", "|" + " --- |" * (len(heads) + 2)]
    for r in rulers:
        acc = result["rulers"][r]["held_out"]
        lines.append(f"| {r} | " + " | ".join(f"{acc[h]:.2%}" for h in heads) + f" | {acc['mode']:.2%} |")
    lines += ["", f"Real training sprites ({result['n']:,}) degraded on purpose: accuracy per attribute "
              "and reverse KL over the 1,000 training modes. The sprites are the same in every row and "
              "their modes are even, so a KL above the clean row's is the ruler misreading them.", "",
              "| images | " + " | ".join(f"{r}: skin / hair / top / bottom | {r}: KL" for r in rulers) + " |",
              "|" + " --- |" * (1 + 2 * len(rulers))]
    for name in result["rulers"][rulers[0]]["degraded"]:
        cells = []
        for r in rulers:
            row = result["rulers"][r]["degraded"][name]
            cells += [" / ".join(f"{row[h]:.1%}" for h in heads), f"{row['kl']:.3f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if result["runs"]:
        lines += ["", f"Run folders, scored by `diagnose` ({result['n']:,} samples, seed 0) with each "
                  "ruler:", "",
                  "| run | " + " | ".join(f"{r}: modes covered | {r}: KL" for r in rulers) + " |",
                  "|" + " --- |" * (1 + 2 * len(rulers))]
        for run in result["runs"]:
            cells = []
            for r in rulers:
                d = run[r]
                cells += ["n/a" if d["mode_coverage"] is None else f"{d['mode_coverage']:.1%}",
                          "n/a" if d["kl"] is None else f"{d['kl']:.3f}"]
            lines.append(f"| {run['name']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", nargs="*", type=Path, default=[], help="GAN or VAE run folders")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=None,
                        help="where the augmented classifier is kept (default: $CHARLIB_OUTPUTS/bench/ruler)")
    args = parser.parse_args()

    from charlib.config import output_dir
    from charlib.diagnostics import classifier as C
    from charlib.diagnostics.report import diagnose
    from charlib.errors import CharlibError

    folder = args.out or output_dir("bench", "ruler")
    try:
        augmented = C.AttributeClassifier.load(folder)
        if any(augmented.info["recipe"].get(k) != v for k, v in AUGMENTED.items()):
            raise CharlibError("another recipe")
    except (CharlibError, OSError, KeyError):
        augmented = C.train_classifier(32, **AUGMENTED)
        augmented.save(folder)
    rulers = {"course": C.course_classifier(32), "augmented": augmented}
    sets, labels = degraded_sets(args.n)
    command = "python benchmarks/ruler_check.py --runs " + " ".join(p.name for p in args.runs)
    result: dict = {"command": command + (f" --n {args.n}" if args.n != 10_000 else ""), "n": args.n,
                    "augmented_recipe": augmented.info["recipe"], "rulers": {}, "runs": []}
    for name, clf in rulers.items():
        result["rulers"][name] = {"held_out": clf.accuracy["native_32"],
                                  "degraded": score_degraded(clf, sets, labels)}
        print(name, json.dumps(result["rulers"][name]), flush=True)
    for run in args.runs:
        row: dict = {"name": run.name, "run": str(run)}
        for name, clf in rulers.items():
            d = diagnose(run, n=args.n, seed=0, classifier=clf)
            row[name] = {k: d[k] for k in ("mode_coverage", "kl", "precision", "recall")}
        print(json.dumps(row), flush=True)
        result["runs"].append(row)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ruler_check.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "ruler_check.md").write_text(_markdown(result))
    print(f"wrote {RESULTS / 'ruler_check.md'}")


if __name__ == "__main__":
    main()
