"""The full-profile DCGAN on 2 CPU cores: what 15 minutes of training gives.

Trains ``GanConfig.from_profile(full)`` (64x64 sprites, 20,000 training images, at most 15 minutes)
into a fresh run folder, then writes a 64-sample grid from fixed noise to
``benchmarks/results/gan_full_grid.png`` and the run's figures (steps done, minutes, final losses)
to ``benchmarks/results/gan_full.{json,md}``.

Usage: python benchmarks/gan_full.py [--out outputs/bench/gan_full] [--minutes 15] [--size 32|64]
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
    parser.add_argument("--out", type=Path, default=Path("outputs/bench/gan_full"))
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--size", type=int, default=None, help="image size (default: the profile's)")
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf

    from charlib.config import profile
    from charlib.training.gan import GanConfig, generate, train_gan
    from charlib.viz import image_grid, save_png

    if args.out.exists():
        shutil.rmtree(args.out)
    overrides = {} if args.size is None else {"image_size": args.size}
    config = GanConfig.from_profile(profile("full"), max_minutes=args.minutes, **overrides)
    start = time.perf_counter()
    result = train_gan(config, args.out, progress=False)
    minutes = (time.perf_counter() - start) / 60
    z = np.random.default_rng(2026).standard_normal((64, config.latent_dim)).astype("float32")
    grid = image_grid(generate(result.model.sampler, z), ncols=8)
    RESULTS.mkdir(exist_ok=True)
    save_png(grid, RESULTS / "gan_full_grid.png", scale=2)
    last = result.history[-1]
    info = {"steps": result.config.steps, "minutes_wall": round(minutes, 2),
            "images_seen": result.config.steps * config.batch_size, "final": last,
            "config": result.run.config, "tensorflow": tf.__version__}
    (RESULTS / "gan_full.json").write_text(json.dumps(info, indent=2) + "\n")
    (RESULTS / "gan_full.md").write_text(
        f"Command: `python benchmarks/gan_full.py --size {config.image_size}` (2 CPU cores)\n\n"
        f"| steps | wall minutes (incl. data and set-up) | images seen | final d_loss | final g_loss |\n"
        f"| --- | --- | --- | --- | --- |\n"
        f"| {result.config.steps} | {minutes:.1f} | {result.config.steps * config.batch_size:,} | "
        f"{last['d_loss']:.3f} | {last['g_loss']:.3f} |\n\n"
        "![64 samples](gan_full_grid.png)\n")
    print(json.dumps({k: info[k] for k in ("steps", "minutes_wall", "images_seen")}))


if __name__ == "__main__":
    main()
