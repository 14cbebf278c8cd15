"""The ruler and the floor: the sprite classifier's held-out accuracy, and what real sprites score.

1. Trains (or loads from the cache) ``course_classifier(size)`` for each size, then measures its
   accuracy per head on ``--n-eval`` native renders of the 296 held-out identities, at 32x32 and at
   64x64 (the other size is resized), so both sizes are checked on native renders.
2. Runs the mode-collapse protocol on real sprites: ``--n`` real sprites scored against ``--n``
   others through the same classifier (``charlib.diagnostics.report.real_floor``), for the split
   of all 1296 identities and the 1000 training ones: modes covered, reverse KL, precision, recall,
   density, coverage and the Fréchet classifier distance. These are the best a generator can score
   with that many samples. Also the exact multinomial floor of a perfect generator (no classifier).

Writes ``benchmarks/results/diagnostics_real.{json,md}``. Classifier training times are wall-clock
on whatever machine ran it (shared CPUs make them noisy); accuracies and metrics are deterministic
for the seeds.

Usage: CHARLIB_OUTPUTS=/tmp/x python benchmarks/diagnostics_real.py [--n 10000] [--n-eval 10000]
       [--sizes 32 64]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="samples per set for the floor")
    parser.add_argument("--n-eval", type=int, default=10_000, help="held-out sprites per accuracy")
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64])
    args = parser.parse_args()

    from charlib.config import output_dir
    from charlib.diagnostics.classifier import HEADS, RECIPE, course_classifier, evaluate_classifier
    from charlib.diagnostics.modes import uniform_floor
    from charlib.diagnostics.report import real_floor

    info: dict[str, object] = {"recipe": RECIPE, "n": args.n, "n_eval": args.n_eval, "classifiers": {},
                               "floor": []}
    for size in args.sizes:
        cached = (output_dir(f"classifier_{size}") / "classifier.json").is_file()
        start = time.perf_counter()
        clf = course_classifier(size, progress=False)
        accuracy = {f"native_{s}": evaluate_classifier(clf, size=s, n=args.n_eval, seed=2026)
                    for s in (32, 64)}
        info["classifiers"][size] = {"held_out_accuracy": accuracy,
                                     "train_seconds": clf.info.get("train_seconds"),
                                     "loaded_from_cache": cached,
                                     "seconds_incl_eval": round(time.perf_counter() - start, 1)}
        print(json.dumps({"classifier": size, **accuracy}))
        for split in ("all", "train"):
            row = real_floor(size, n=args.n, split=split, seed=0, classifier=clf)
            info["floor"].append(row)
            print(json.dumps(row))
    perfect = {split: uniform_floor(args.n, k, trials=20) for split, k in (("all", 1296), ("train", 1000))}
    info["perfect_generator"] = perfect

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "diagnostics_real.json").write_text(json.dumps(info, indent=2) + "\n")
    lines = [
        f"Command: `python benchmarks/diagnostics_real.py --n {args.n} --n-eval {args.n_eval} "
        f"--sizes {' '.join(map(str, args.sizes))}`",
        "",
        "## Classifier accuracy on the 296 held-out identities (native renders)",
        "",
        f"Recipe: {RECIPE}. Trained on sprites of the 1000 training identities only.",
        "",
        "| model | evaluated on | " + " | ".join(HEADS) + " | whole mode |",
        "| --- | --- | " + " | ".join("---" for _ in HEADS) + " | --- |",
    ]
    for size, c in info["classifiers"].items():
        for on, acc in c["held_out_accuracy"].items():
            cells = " | ".join(f"{100 * acc[h]:.2f}%" for h in HEADS)
            lines.append(f"| classifier_{size} | {on.replace('native_', '')}px | {cells} | "
                         f"{100 * acc['mode']:.2f}% |")
    lines += ["", "Training wall time (shared 2-core CPU, noisy): " + ", ".join(
        f"{s}px {c['train_seconds']} s" for s, c in info["classifiers"].items()), "",
        f"## Real sprites through the same protocol ({args.n} vs {args.n}, k = 5)", "",
        "| classifier | split | modes covered | reverse KL | precision | recall | density | coverage | FCD |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in info["floor"]:
        lines.append(f"| {r['image_size']}px | {r['reference']} | {r['modes_covered']} / {r['n_modes']} | "
                     f"{r['kl']:.4f} | {r['precision']:.4f} | {r['recall']:.4f} | {r['density']:.4f} | "
                     f"{r['coverage']:.4f} | {r['frechet_distance']:.4f} |")
    lines += ["", f"A perfect generator ({args.n} multinomial draws, uniform over the modes, 20 trials; "
              "no classifier):", ""]
    for split, p in perfect.items():
        lines.append(f"- {split} ({p['n_modes']} modes): modes covered {p['modes_covered_mean']:.1f} "
                     f"± {p['modes_covered_std']:.1f}, reverse KL {p['kl_mean']:.4f} ± {p['kl_std']:.4f}")
    (RESULTS / "diagnostics_real.md").write_text("\n".join(lines) + "\n")
    print(f"Wrote {RESULTS / 'diagnostics_real.md'}")


if __name__ == "__main__":
    main()
