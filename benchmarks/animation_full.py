"""Animation, full profile on CPU: consistent generated characters in requested poses, and new motion.

1. Trains the conditional VAE (``ConditionalConfig.from_profile(full)``, 32x32, training identities
   only) for a fixed number of steps into a fresh run folder, and fits its ex-post identity prior.
2. Scores generated cycles with the course's attribute classifier (``course_classifier(32)``):
   for each prior (N(0, I) and the fitted mixture), ``--n`` new characters are drawn, and each one is
   decoded in all 9 (action, direction) cycles of 8 frames.
   * identity consistency: ``cycle_consistency`` = fraction of cycles whose 4 appearance attributes
     are read the same on all 8 frames; ``frame_agreement`` = fraction of frames whose 4 attributes
     all equal their cycle's majority; ``character_consistency`` = fraction of characters whose 4
     attributes are the same on all 72 frames of all 9 cycles;
   * pose accuracy: fraction of frames where the classifier reads the requested action, frame,
     both, and direction too.
   Real cycles of held-out characters are scored the same way: the ceiling of this ruler. And
   held-out characters animated from one picture (encode one random frame, decode every pose) are
   scored against their true attributes.
3. Trains the motion VAE on varied skeleton clips and compares generated clips with held-out real
   ones (bone-length variation, ground contact, joint speed, loop closure, nearest real clip).
4. Writes figures to ``benchmarks/results/animation_full_*.png``, the course's headline animation
   to ``docs/figures/animation.gif`` (and its sprite sheet ``docs/figures/animation_sheet.png``), and
   the numbers to ``benchmarks/results/animation_full.{json,md}``.

Usage: CHARLIB_OUTPUTS=/tmp/outputs python benchmarks/animation_full.py [--steps 6000] [--n 100]
       [--motion-steps 3000] [--reuse]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
FIGURES = ROOT / "docs" / "figures"


def _mean_scores(rows: list[dict[str, float]]) -> dict[str, float]:
    keys = [k for k in rows[0] if k != "n_cycles"]
    out = {k: float(sum(r[k] for r in rows) / len(rows)) for k in keys}
    out["n_cycles"] = int(sum(r["n_cycles"] for r in rows))
    return out


def score_generator(classifier, cycles_of, n: int, seed: int) -> dict[str, object]:
    """Scores of cycles_of(action, direction) -> (n, 8, S, S, 3) over all 9 pose combinations."""
    import numpy as np

    from charlib.data import skeleton as sk
    from charlib.data import sprites as sp
    from charlib.data.sprites import ATTRIBUTE_NAMES
    from charlib.diagnostics.consistency import score_cycles

    rows, by_action, attrs_all = [], {a: [] for a in sk.ACTIONS}, []
    for a, action in enumerate(sk.ACTIONS):
        for d in range(len(sk.DIRECTIONS)):
            cycles = cycles_of(a, d)
            scores = score_cycles(classifier, cycles, a, d)
            rows.append(scores)
            by_action[action].append(scores)
            pred = classifier.predict(cycles.reshape(-1, *cycles.shape[2:]))
            attrs_all.append(np.stack([np.asarray(pred[k]).reshape(n, -1) for k in ATTRIBUTE_NAMES], -1))
    attrs = np.concatenate(attrs_all, axis=1)  # (n, 72, 4)
    character = float(np.mean(np.all(attrs == attrs[:, :1], axis=(1, 2))))
    # which character each one is, by majority over its 72 frames: new combinations or training ones?
    majority = np.array([[np.bincount(attrs[i, :, j]).argmax() for j in range(4)] for i in range(n)])
    modes = sp.mode_id(majority)
    _, test_modes = sp.identity_split()
    return {"all": {**_mean_scores(rows), "character_consistency": character,
                    "held_out_combination_fraction": float(np.isin(modes, test_modes).mean()),
                    "distinct_characters": int(len(np.unique(modes)))},
            "by_action": {k: _mean_scores(v) for k, v in by_action.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=None, help="cVAE training steps (default: profile's)")
    parser.add_argument("--n", type=int, default=100, help="characters per prior (each in 9 cycles)")
    parser.add_argument("--components", type=int, default=32, help="identity prior mixture components")
    parser.add_argument("--refine", type=int, default=3, help="decode-encode steps for the refined row")
    parser.add_argument("--motion-steps", type=int, default=3000)
    parser.add_argument("--motion-clips", type=int, default=6000)
    parser.add_argument("--out", type=Path, default=None, help="run folder (default: outputs' bench/)")
    parser.add_argument("--reuse", action="store_true", help="evaluate the run already in --out")
    parser.add_argument("--train-only", action="store_true",
                        help="train into --out, record the wall time in timing.json, and stop")
    parser.add_argument("--identity", choices=("latent", "attributes"), default="latent",
                        help="the conditional VAE's identity code (see charlib.models.conditional)")
    parser.add_argument("--latent-dim", type=int, default=None,
                        help="continuous identity size (default: the profile's)")
    parser.add_argument("--palette", type=int, default=None, help="decoder palette layers (0: plain)")
    parser.add_argument("--kl-warmup", type=int, default=None, help="KL warm-up steps (default: profile's)")
    parser.add_argument("--headline", action=argparse.BooleanOptionalAction, default=None,
                        help="write the README's headline docs/figures/animation.gif (default: only "
                             "with the default --name)")
    parser.add_argument("--name", default="animation_full",
                        help="results file names (the headline goes to docs/figures only with --headline "
                             "or the default name)")
    args = parser.parse_args()

    import numpy as np

    from charlib import animation as an
    from charlib.config import output_dir, profile
    from charlib.data import skeleton as sk
    from charlib.data import sprites as sp
    from charlib.diagnostics import motion as dm
    from charlib.diagnostics.classifier import course_classifier
    from charlib.models.conditional import N_ATTRIBUTE_CODE, attributes_from_logits
    from charlib.models.motion import MotionVAE
    from charlib.training.conditional import (
        ConditionalConfig,
        encode_identity,
        generate_cycles,
        generate_poses,
        identity_prior,
        load_conditional,
        refine_identities,
        sample_characters,
        sample_identities,
        train_conditional,
    )
    from charlib.training.motion import train_motion
    from charlib.viz import image_grid, save_png, sprite_sheet

    out = args.out or output_dir("bench", "animation_full")
    overrides = {"max_minutes": None}
    if args.steps is not None:
        overrides["steps"] = args.steps
    if args.identity != "latent":
        overrides["identity"] = args.identity
    if args.latent_dim is not None:
        overrides["latent_dim"] = args.latent_dim
    if args.palette is not None:
        overrides["palette"] = args.palette
    if args.kl_warmup is not None:
        overrides["kl_warmup_steps"] = args.kl_warmup
    config = ConditionalConfig.from_profile(profile("full"), **overrides)
    train_minutes = None
    if args.reuse and (out / "config.json").is_file():
        model, config = load_conditional(out)
        timing = out / "timing.json"
        if timing.is_file():
            train_minutes = json.loads(timing.read_text())["train_wall_minutes"]
        print(f"Reusing the run in {out} ({int(model.step.numpy())} steps)")
    else:
        if out.exists():
            shutil.rmtree(out)
        start = time.perf_counter()
        model = train_conditional(config, out, progress=False).model
        train_minutes = round((time.perf_counter() - start) / 60, 2)
        (out / "timing.json").write_text(json.dumps({"train_wall_minutes": train_minutes}) + "\n")
        print(f"Trained {config.steps} steps in {train_minutes:.1f} min")
        if args.train_only:
            return
    size = config.image_size
    attributes = config.identity == "attributes"
    start = time.perf_counter()
    prior = None if attributes else identity_prior(out, model, config, n_components=args.components)
    prior_seconds = time.perf_counter() - start
    classifier = course_classifier(size, progress=False)

    # -- identity consistency and pose accuracy ---------------------------------------------------
    results: dict[str, object] = {}
    if attributes:  # 4 categorical draws: no mixture to fit, nothing to refine
        codes = {"attributes": sample_characters(config, args.n, seed=1)}
    else:
        mixture_codes = sample_identities(args.n, config.latent_dim, seed=1, prior=prior)
        codes = {"normal": sample_identities(args.n, config.latent_dim, seed=1),
                 "mixture": mixture_codes,
                 "mixture_refined": refine_identities(model, mixture_codes, steps=args.refine)}
    for name, z in codes.items():
        results[f"generated_{name}_prior"] = score_generator(
            classifier, lambda a, d, z=z: generate_cycles(model, z, a, d), args.n, seed=1)
    if attributes:  # does the character drawn have the attributes asked for?
        asked = attributes_from_logits(codes["attributes"][:, :N_ATTRIBUTE_CODE])
        frames = np.concatenate([generate_cycles(model, codes["attributes"], a, d)
                                 for a in range(3) for d in range(3)], axis=1)
        read = classifier.attributes(frames.reshape(-1, size, size, 3)).reshape(args.n, -1, 4)
        results["generated_attributes_prior"]["requested_attributes_read"] = {
            name: float(np.mean(read[..., i] == asked[:, None, i]))
            for i, name in enumerate(sp.ATTRIBUTE_NAMES)}
        results["generated_attributes_prior"]["all_requested_read"] = float(
            np.mean(np.all(read == asked[:, None, :], axis=-1)))
    _, test_modes = sp.identity_split()
    real_attrs = sp.attributes_of(np.random.default_rng(2).choice(test_modes, size=args.n))
    results["real_held_out"] = score_generator(
        classifier, lambda a, d: np.stack([sp.cycle(t, sk.ACTIONS[a], sk.DIRECTIONS[d], size)
                                           for t in real_attrs]), args.n, seed=2)
    # one-shot animation of held-out characters from one random frame each
    rng = np.random.default_rng(3)
    refs = sp.render(real_attrs, rng.integers(0, 3, args.n), rng.integers(0, 3, args.n),
                     rng.integers(0, 8, args.n), size)
    z_ref = encode_identity(model, refs)
    results["held_out_from_one_frame"] = score_generator(
        classifier, lambda a, d: generate_cycles(model, z_ref, a, d), args.n, seed=3)
    frames = np.concatenate([generate_cycles(model, z_ref, a, d).reshape(-1, size, size, 3)
                             for a in range(3) for d in range(3)])
    truth = np.tile(np.repeat(real_attrs, sk.N_FRAMES, axis=0), (9, 1))
    pred = classifier.attributes(frames)
    results["held_out_from_one_frame"]["attribute_accuracy"] = {
        name: float(np.mean(pred[:, i] == truth[:, i])) for i, name in enumerate(sp.ATTRIBUTE_NAMES)}
    results["held_out_from_one_frame"]["all_attributes_correct"] = float(np.mean(np.all(pred == truth, 1)))

    # -- motion -----------------------------------------------------------------------------------
    motion_size = 64
    start = time.perf_counter()
    train_j, train_a, train_d = sk.sample_motion(args.motion_clips, size=motion_size, seed=0)
    motion = MotionVAE()
    history = train_motion(motion, train_j, train_a, train_d, motion_size, steps=args.motion_steps, seed=0,
                           log_every=max(1, args.motion_steps // 10), progress=False)
    motion.fit_latent_prior(train_j, train_a, train_d, motion_size)
    motion_minutes = (time.perf_counter() - start) / 60
    real_j, real_a, real_d = sk.sample_motion(900, size=motion_size, seed=1)
    gen_j = np.concatenate([motion.sample(100, a, d, motion_size, seed=10 + 3 * a + d)
                            for a in range(3) for d in range(3)])
    gen_a = np.repeat(np.arange(3), 300)
    canonical = sk.canonical_poses(motion_size).reshape(9, sk.N_FRAMES, len(sk.JOINTS), 2)
    motion_results = {
        "real_held_out": dm.motion_statistics(real_j, real_a, motion_size),
        "generated": dm.motion_statistics(gen_j, gen_a, motion_size),
        "canonical_only": dm.motion_statistics(canonical, np.repeat(np.arange(3), 3), motion_size),
        "nearest_training_clip_rmse_px": {
            "real_held_out": float(dm.nearest_clip_rmse(real_j, train_j).mean()),
            "generated": float(dm.nearest_clip_rmse(gen_j, train_j).mean()),
        },
        "final_train": history[-1],
        "clips": args.motion_clips, "steps": args.motion_steps, "wall_minutes": round(motion_minutes, 2),
    }

    # -- figures ----------------------------------------------------------------------------------
    RESULTS.mkdir(exist_ok=True)
    FIGURES.mkdir(parents=True, exist_ok=True)
    if attributes:
        z_fig = sample_characters(config, 6, seed=7)
    else:
        z_fig = refine_identities(model, sample_identities(6, config.latent_dim, seed=7, prior=prior),
                                  steps=args.refine)
    rows = [generate_cycles(model, z_fig[i : i + 1], i % 3, (i // 3 + i) % 3)[0] for i in range(6)]
    name = args.name
    save_png(sprite_sheet(np.stack(rows)), RESULTS / f"{name}_cycles.png", scale=3)
    one = generate_poses(model, np.repeat(z_fig[:1], 72, axis=0), np.repeat(np.arange(3), 24),
                         np.tile(np.repeat(np.arange(3), 8), 3), np.tile(np.arange(8), 9))
    save_png(image_grid(one, ncols=8), RESULTS / f"{name}_one_character.png", scale=3)
    # real vs generated motion, drawn on one character
    body = np.array([1, 2, 1, 0])
    motion_rows = []
    for a in range(len(sk.ACTIONS)):
        real_clip = real_j[(real_a == a) & (real_d == 1)][0]
        motion_rows.append(sp.render_skeleton(real_clip, body, "left", motion_size))
        fake_clip = motion.sample(1, a, 1, motion_size, seed=100 + a)[0]
        motion_rows.append(sp.render_skeleton(fake_clip, body, "left", motion_size))
    save_png(sprite_sheet(np.stack(motion_rows)), RESULTS / f"{name}_motion.png", scale=1)
    # headline: 6 new characters; top row from the conditional VAE, bottom row the same characters
    # (attributes read by the classifier) performing newly generated motion
    tops, bottoms = [], []
    for i, cycle in enumerate(rows):
        a, d = i % 3, (i // 3 + i) % 3
        tops.append(cycle)
        attrs = an.read_appearance(classifier, cycle)
        clip = motion.sample(1, a, d, size, seed=200 + i)[0]
        bottoms.append(an.perform(attrs, clip, sk.DIRECTIONS[d], size))
    headline = an.stack_rows(an.side_by_side(*tops), an.side_by_side(*bottoms))
    to_readme = args.headline if args.headline is not None else name == "animation_full"
    figures = FIGURES if to_readme else RESULTS
    prefix = "animation" if to_readme else f"{name}_headline"
    an.save_gif(headline, figures / f"{prefix}.gif", fps=8, scale=3)
    save_png(sprite_sheet(np.stack(tops + bottoms)), figures / f"{prefix}_sheet.png", scale=2)

    info = {
        "command": "python benchmarks/animation_full.py " + " ".join(sys.argv[1:]),
        "machine": f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), shared "
                   "with other training jobs while it ran (timings are under load)",
        "conditional": {"steps": config.steps, "batch_size": config.batch_size, "image_size": size,
                        "train_wall_minutes": None if train_minutes is None else round(train_minutes, 2),
                        "identity": config.identity,
                        "identity_prior_components": None if prior is None else prior.n_components,
                        "identity_prior_fit_seconds": round(prior_seconds, 1),
                        "characters_per_prior": args.n, "refine_steps": args.refine,
                        "config": json.loads((out / "config.json").read_text())},
        "classifier": classifier.info,
        "scores": results,
        "motion": motion_results,
        "figure": str((figures / f"{prefix}.gif").relative_to(ROOT)),
        "figure_bytes": (figures / f"{prefix}.gif").stat().st_size,
    }
    (RESULTS / f"{name}.json").write_text(json.dumps(info, indent=2, default=float) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown(info))
    print(markdown(info))


def markdown(info: dict) -> str:
    """The results as a markdown table."""
    c = info["conditional"]
    attributes = c.get("identity") == "attributes"
    if attributes:
        model_line = (f"Conditional VAE with attribute identities (4 categorical codes learnt from the "
                      f"labels, no continuous part, plain decoder): {c['steps']} steps of batch "
                      f"{c['batch_size']} at {c['image_size']} px, {c['train_wall_minutes']} min wall. New "
                      "characters draw each attribute uniformly (`sample_characters`). Each row scores "
                      f"{c['characters_per_prior']} characters, each in all 9 (action, direction) cycles "
                      "of 8 frames, with `course_classifier(32)`.")
    else:
        model_line = (
            f"Conditional VAE: {c['steps']} steps of batch {c['batch_size']} at {c['image_size']} px, "
            f"{c['train_wall_minutes']} min wall; identity prior: a {c['identity_prior_components']}"
            f"-component Gaussian mixture on the training identities' codes; refinement: {c['refine_steps']} "
            "decode-encode steps (`refine_identities`). Each row scores {c['characters_per_prior']} "
            "characters, each in all 9 (action, direction) cycles of 8 frames, with `course_classifier(32)`.")
    lines = [
        f"Command: `{info['command']}` on {info['machine']}.",
        "",
        *(["The model was trained first by `python benchmarks/animation_full.py --train-only --out DIR` "
           "with the same model options (same folder; its wall time is read back from DIR/timing.json)"
           + (", in stages (resumed runs continue exactly as one run would)" if attributes else "") + ".", ""]
          if "--reuse" in info["command"] else []),
        model_line,
        "",
        "| cycles | cycle consistency (all 4 attributes on all 8 frames) "
        "| frame agreement with cycle majority | same character on all 72 frames "
        "| action acc. | frame acc. | action & frame | direction acc. | distinct characters "
        "| of them held-out combinations |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    names = {"generated_attributes_prior": "generated, 4 attributes drawn uniformly",
             "generated_normal_prior": "generated, z ~ N(0, I)",
             "generated_mixture_prior": "generated, z ~ fitted mixture",
             "generated_mixture_refined_prior": "generated, mixture + decode-encode refinement",
             "held_out_from_one_frame": "held-out characters from one frame",
             "real_held_out": "real held-out cycles (ruler's ceiling)"}
    names = {k: v for k, v in names.items() if k in info["scores"]}
    for key, label in names.items():
        s = info["scores"][key]["all"]
        lines.append(f"| {label} | {s['cycle_consistency']:.1%} | {s['frame_agreement']:.1%} | "
                     f"{s['character_consistency']:.1%} | {s['action_accuracy']:.1%} | "
                     f"{s['frame_accuracy']:.1%} | "
                     f"{s['action_frame_accuracy']:.1%} | {s['direction_accuracy']:.1%} | "
                     f"{s['distinct_characters']} | {s['held_out_combination_fraction']:.1%} |")
    one = info["scores"]["held_out_from_one_frame"]
    lines += ["", f"Held-out characters from one frame: all 4 attributes read as the true ones on "
              f"{one['all_attributes_correct']:.1%} of frames "
              f"({', '.join(f'{k} {v:.1%}' for k, v in one['attribute_accuracy'].items())}).", ""]
    main = "generated_attributes_prior" if attributes else "generated_mixture_refined_prior"
    if attributes:
        g = info["scores"][main]
        per = ", ".join(f"{k} {v:.1%}" for k, v in g["requested_attributes_read"].items())
        lines += [f"Generated characters: all 4 requested attributes read on {g['all_requested_read']:.1%} "
                  f"of frames ({per}).",
                  ""]
    lines += [f"Per action ({names[main]}):", "",
              "| action | cycle consistency | frame agreement | action acc. | frame acc. |",
              "| --- | --- | --- | --- | --- |"]
    for action, s in info["scores"][main]["by_action"].items():
        lines.append(f"| {action} | {s['cycle_consistency']:.1%} | {s['frame_agreement']:.1%} | "
                     f"{s['action_accuracy']:.1%} | {s['frame_accuracy']:.1%} |")
    m = info["motion"]
    lines += ["", f"Motion VAE: {m['clips']} varied clips, {m['steps']} steps, {m['wall_minutes']} min wall; "
              "codes sampled from an ex-post mixture per (action, direction). "
              "900 generated clips (100 per action and direction) against 900 held-out real clips:", "",
              "| clips | bone-length variation | ground contact (px, walk+wave) | joint speed (px/frame) "
              "| loop closure | nearest training clip (RMSE px) |",
              "| --- | --- | --- | --- | --- | --- |"]
    for key, label in (("real_held_out", "real, held out"), ("generated", "generated")):
        s = m[key]
        lines.append(f"| {label} | {s['bone_length_variation']:.4f} | {s['ground_contact_px']:.3f} | "
                     f"{s['joint_speed_px']:.3f} | {s['loop_closure']:.3f} | "
                     f"{m['nearest_training_clip_rmse_px'][key]:.3f} |")
    lines += ["", f"Headline animation: `{info['figure']}` ({info['figure_bytes'] / 1024:.0f} KB).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
