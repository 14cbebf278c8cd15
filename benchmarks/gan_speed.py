"""Training-step speed of the course's default DCGAN against the TF-tutorial reference DCGAN.

Both run in the same process, through the same GAN class, loss, optimisers and tf.data pipeline,
at 64x64 and batch 64; only the networks differ. The reference is the TensorFlow tutorial's DCGAN
scaled to 64x64 (Dense to 8x8x256, three 5x5 Conv2DTranspose 128/64/3; discriminator two 5x5 strided
convs 64/128 with dropout). The course's default is ``GanConfig.from_profile(full)`` (compact 4x4
kernels, widths 32, EMA on). Writes ``benchmarks/results/gan_speed.{json,md}``.

Usage: python benchmarks/gan_speed.py [--steps 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    from charlib.bench import time_step
    from charlib.config import profile
    from charlib.data.sprites import sample_sprites
    from charlib.models import dcgan
    from charlib.training.gan import GAN, GanConfig, build_gan
    from charlib.training.trainer import batch_stream

    config = GanConfig.from_profile(profile("full"), batch_size=args.batch_size)
    images = sample_sprites(2048, size=64, seed=0).images

    def reference() -> GAN:
        gan = GAN(dcgan.reference_generator(100, 64), dcgan.reference_discriminator(64), latent_dim=100)
        gan.compile(keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5))
        return gan

    contenders = {"reference (TF tutorial DCGAN, 64x64)": reference,
                  "charlib default DCGAN (64x64, EMA on)": lambda: build_gan(config)}
    rows = []
    for name, make in contenders.items():
        gan = make()
        params_g, params_d = gan.generator.count_params(), gan.discriminator.count_params()
        timing = time_step(name, tf.function(gan.train_step, autograph=False),
                           iter(batch_stream(images, args.batch_size, 0, True)), args.batch_size,
                           steps=args.steps, repeats=args.repeats)
        rows.append({**timing.as_dict(), "g_params": params_g, "d_params": params_d})
        print(f"{name}: {timing.img_per_s} img/s ({timing.img_per_s_min}-{timing.img_per_s_max})")
    ratio = rows[1]["img_per_s"] / rows[0]["img_per_s"]
    info = {"cpu_cores": os.cpu_count(), "machine": platform.processor() or platform.machine(),
            "tensorflow": tf.__version__, "devices": [d.name for d in tf.config.list_physical_devices()],
            "ratio_default_to_reference": round(ratio, 2), "results": rows}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "gan_speed.json").write_text(json.dumps(info, indent=2) + "\n")
    lines = ["Command: `python benchmarks/gan_speed.py` "
             f"({os.cpu_count()} CPU cores, TensorFlow {tf.__version__}, batch {args.batch_size})", "",
             "| model | G params | D params | img/s (median) | min–max | ms/step |",
             "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['name']} | {r['g_params']:,} | {r['d_params']:,} | {r['img_per_s']} | "
              f"{r['img_per_s_min']}–{r['img_per_s_max']} | {r['ms_per_step']} |" for r in rows]
    lines += ["", f"Ratio, charlib default / reference: **{ratio:.2f}x**"]
    (RESULTS / "gan_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
