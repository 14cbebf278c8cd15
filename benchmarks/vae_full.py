"""The full-profile VAE on 2 CPU cores: what 15 minutes of training gives.

Trains ``VaeConfig.from_profile(full)`` (64x64 sprites of the 1000 training identities, at most 15
minutes) into a fresh run folder, then evaluates on 1,000 sprites of the 296 held-out identities:
reconstruction NLL, KL and ELBO in nats per image, bits per dimension (continuous density on
[-1, 1]; add 7 for papers' 8-bit figures) and per-pixel MSE on [0, 1] intensities. Writes
reconstructions and prior samples to ``benchmarks/results/vae_full_*.png`` and the figures to
``benchmarks/results/vae_full.{json,md}``.

Usage: python benchmarks/vae_full.py [--out outputs/bench/vae_full] [--minutes 15] [--sigma S]
       python benchmarks/vae_full.py --steps 4300   (a fixed number of steps and no time limit:
       the same run whatever else the machine is doing; 4300 steps took 15 minutes on 2 idle cores)
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("outputs/bench/vae_full"))
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--sigma", type=float, default=None, help="likelihood sigma (default: profile's)")
    parser.add_argument("--steps", type=int, default=None,
                        help="train exactly this many steps, with no time limit (overrides --minutes)")
    args = parser.parse_args()

    import numpy as np

    from charlib.config import profile
    from charlib.data.sprites import sample_sprites
    from charlib.training.vae import VaeConfig, decode, evaluate, reconstruct, train_vae
    from charlib.viz import image_grid, save_png

    if args.out.exists():
        shutil.rmtree(args.out)
    overrides = {} if args.sigma is None else {"sigma": args.sigma}
    if args.steps is not None:
        overrides.update(steps=args.steps, max_minutes=None)
    else:
        overrides["max_minutes"] = args.minutes
    config = VaeConfig.from_profile(profile("full"), **overrides)
    start = time.perf_counter()
    result = train_vae(config, args.out, progress=False)
    minutes = (time.perf_counter() - start) / 60
    vae = result.model
    held_out = sample_sprites(1000, size=config.image_size, seed=99, split="test").images
    report = evaluate(vae, held_out)
    RESULTS.mkdir(exist_ok=True)
    originals = held_out[:16]
    pairs = np.stack([originals, reconstruct(vae, originals)], axis=1).reshape(32, *originals.shape[1:])
    save_png(image_grid(pairs, ncols=8), RESULTS / "vae_full_reconstructions.png", scale=2)
    z = np.random.default_rng(2026).standard_normal((32, config.latent_dim)).astype("float32")
    save_png(image_grid(decode(vae, z), ncols=8), RESULTS / "vae_full_samples.png", scale=2)
    info = {"steps": result.config.steps, "minutes_wall": round(minutes, 2), "held_out": report,
            "config": result.run.config}
    (RESULTS / "vae_full.json").write_text(json.dumps(info, indent=2) + "\n")
    (RESULTS / "vae_full.md").write_text(
        "Command: `python benchmarks/vae_full.py` (2 CPU cores)\n\n"
        "| steps | wall minutes | held-out recon (nats/img) | KL (nats/img) | ELBO (nats/img) | "
        "bits/dim (continuous) | pixel MSE [0,1] |\n| --- | --- | --- | --- | --- | --- | --- |\n"
        f"| {result.config.steps} | {minutes:.1f} | {report['recon_nats']:.0f} | {report['kl_nats']:.1f} | "
        f"{report['elbo_nats']:.0f} | {report['bits_per_dim']:.3f} | {report['pixel_mse_01']:.5f} |\n\n"
        "Reconstructions of held-out characters (pairs: original, reconstruction):\n\n"
        "![reconstructions](vae_full_reconstructions.png)\n\nSamples from the prior:\n\n"
        "![samples](vae_full_samples.png)\n")
    print(json.dumps({"steps": info["steps"], "minutes_wall": info["minutes_wall"], **report}))


if __name__ == "__main__":
    main()
