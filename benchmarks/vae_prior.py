"""Where a VAE's samples come from: the N(0, I) prior against an ex-post Gaussian-mixture prior.

Takes a trained VAE run folder (``python benchmarks/vae_full.py`` makes one), and measures with the
sprite classifier of ``charlib.diagnostics``:

* **Reconstructions** of 2,000 sprites of the 296 held-out identities: how often the classifier
  reads the same appearance attribute (skin, hair, top, bottom) on the reconstruction as on the
  original, per attribute and all four at once.
* **Samples**, 10,000 each, from the prior N(0, I), from N(0, 0.7² I) (lower temperature), and from
  Gaussian mixtures fitted to the encoder means of 10,000 training sprites (ex-post density
  estimation; ``charlib.models.latent_prior``): modes covered out of the 1000 training characters,
  reverse KL, precision/recall/density/coverage and the Fréchet classifier distance against real
  training sprites. Precision is the share of samples that land on the real data's manifold, i.e.
  that look like characters to the classifier.

Writes ``benchmarks/results/vae_prior.{json,md}`` and one sample grid per sampler.

Usage: python benchmarks/vae_prior.py --run outputs/bench/vae_full [--n 10000] [--components 10 50]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=Path, default=Path("outputs/bench/vae_full"))
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--components", type=int, nargs="+", default=[10, 50])
    args = parser.parse_args()

    import numpy as np

    from charlib.data.sprites import sample_sprites
    from charlib.diagnostics.classifier import course_classifier
    from charlib.diagnostics.modes import count_modes
    from charlib.diagnostics.prdc import frechet_distance, prdc
    from charlib.models.latent_prior import fit_gaussian_mixture
    from charlib.training.vae import decode, encode, load_vae, reconstruct
    from charlib.viz import image_grid, save_png

    vae, config = load_vae(args.run)
    size = config.image_size
    clf = course_classifier(32, progress=False)
    step = int(vae.step.numpy())

    held_out = sample_sprites(2000, size=size, seed=99, split="test")
    same = clf.attributes(held_out.images) == clf.attributes(reconstruct(vae, held_out.images))
    names = ("skin", "hair", "top", "bottom")
    recon = {f"agree_{name}": float(same[:, i].mean()) for i, name in enumerate(names)}
    recon["agree_all_four"] = float(same.all(axis=1).mean())

    train = sample_sprites(args.n, size=size, seed=7, split="train").images
    real_features = clf.features(train)
    mu, _ = encode(vae, sample_sprites(10_000, size=size, seed=8, split="train").images)
    rng = np.random.default_rng(2026)
    samplers = {
        "prior N(0, I)": rng.standard_normal((args.n, config.latent_dim)).astype(np.float32),
        "prior N(0, 0.7² I)": 0.7 * rng.standard_normal((args.n, config.latent_dim)).astype(np.float32),
    }
    fit_seconds = {}
    for k in args.components:
        start = time.perf_counter()
        gmm = fit_gaussian_mixture(mu, n_components=k, seed=0)
        fit_seconds[k] = round(time.perf_counter() - start, 1)
        samplers[f"mixture of {k} fitted to q(z)"] = gmm.sample(args.n, seed=2026)

    rows = []
    RESULTS.mkdir(exist_ok=True)
    for i, (name, z) in enumerate(samplers.items()):
        images = decode(vae, z)
        report = count_modes(images, clf, split="train").summary()
        metrics = prdc(real_features, clf.features(images), k=5)
        metrics["frechet_distance"] = frechet_distance(real_features, clf.features(images))
        grid = RESULTS / f"vae_prior_samples_{i}.png"
        save_png(image_grid(images[:32], ncols=8), grid, scale=2)
        rows.append({"sampler": name, "modes_covered": report["modes_covered"],
                     "n_modes": report["n_modes"], "kl": report["kl"], "grid": grid.name,
                     **{key: round(float(v), 4) for key, v in metrics.items()}})
        print(json.dumps(rows[-1]))

    info = {"run": str(args.run), "steps": step, "image_size": size, "latent_dim": config.latent_dim,
            "sigma": config.sigma, "n": args.n, "reconstruction_agreement_held_out": recon,
            "gmm_fit_seconds": fit_seconds, "samplers": rows}
    (RESULTS / "vae_prior.json").write_text(json.dumps(info, indent=2) + "\n")
    lines = [
        f"Command: `python benchmarks/vae_prior.py --run {args.run}` on a VAE trained by "
        f"`python benchmarks/vae_full.py` ({step} steps, {size}x{size}, latent {config.latent_dim}, "
        f"sigma {config.sigma}).", "",
        "Reconstructions of 2,000 held-out sprites (296 unseen characters): the classifier reads the "
        "same attribute on original and reconstruction",
        "", "| skin | hair | top | bottom | all four |", "| --- | --- | --- | --- | --- |",
        "| " + " | ".join(f"{100 * recon[f'agree_{n}']:.1f}%" for n in (*names, "all_four")) + " |", "",
        f"{args.n:,} samples per sampler, scored against {args.n:,} real training sprites "
        "(modes out of the 1000 training characters):", "",
        "| sampler | modes covered | reverse KL | precision | recall | density | coverage | FCD |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(f"| {r['sampler']} | {r['modes_covered']}/{r['n_modes']} | {r['kl']:.3f} | "
                     f"{r['precision']:.3f} | {r['recall']:.3f} | {r['density']:.3f} | "
                     f"{r['coverage']:.3f} | {r['frechet_distance']:.1f} |")
    lines += ["", *[f"![{r['sampler']}]({r['grid']})\n\n*32 samples, {r['sampler']}.*\n" for r in rows]]
    (RESULTS / "vae_prior.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
