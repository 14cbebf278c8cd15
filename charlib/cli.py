"""The ``charlib`` command (also ``python -m charlib``): the course's tools from a terminal.

Subcommands (``charlib COMMAND --help`` lists each one's options):

* ``sprites``: draw N sprites into a folder as PNG files, with ``labels.csv`` and ``sheet.png``.
* ``train gan|vae|conditional --out DIR``: train a DCGAN (``--nets r3gan``: the modern baseline), a
  VAE or the conditional VAE that animates characters in a run folder (``--resume`` continues it,
  ``--init-from RUN`` fine-tunes from an earlier run). Each field of the model's config dataclass
  is a flag ``--field-name`` whose default is the profile's; a flag of another model's config is
  refused.
* ``sample``: samples of a GAN or VAE run as a PNG grid, a folder of PNGs or an ``.npz`` array.
* ``animate``: new characters of a conditional run performing an action (GIF or MP4), or a looping
  latent walk of a GAN or VAE run.
* ``info``: versions, devices and the active profile; ``--gpu`` checks that TensorFlow computes on
  a GPU (exit status 1, with the reason, when it does not).
* ``bench``: time the GAN training step for a grid of speed options against the TF-tutorial DCGAN.
* ``diagnose``: mode coverage, reverse KL, precision/recall/density/coverage and FCD of a run.

Bad input ends with a one-line ``error:`` message and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import importlib
import io
import json
import os
import shutil
import sys
import tempfile
import types
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from charlib.config import DEFAULT_PROFILE, ENV_PROFILE, PROFILES
from charlib.errors import CharlibError


class _Parser(argparse.ArgumentParser):
    """A parser whose errors are one line (no usage block), with where to read the options."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


CHECKS: dict[str, tuple[Callable[[Any], bool], tuple[str, ...]]] = {  # what a value must be: fields
    "must be > 0": (lambda v: v > 0, (  # comparisons with nan are false: nan is refused
        "latent_dim", "batch_size", "steps", "n_data", "log_every", "sample_every", "ckpt_every", "n_samples",
        "max_minutes", "g_width", "d_width", "lr_g", "lr_d", "pack", "reg_every", "width", "sigma", "lr")),
    "must be >= 0": (lambda v: v >= 0, ("r1", "r2", "beta", "kl_warmup_steps", "free_bits", "palette")),
    "must be a fraction in [0, 1]": (lambda v: 0 <= v <= 1, ("beta_1", "beta_2", "lr_decay", "ema_decay")),
}
WORDS = {int: "a whole number", float: "a number", str: "text"}


def _value(kind: type, check: str | None = None, optional: bool = False) -> Callable[[str], Any]:
    """An argparse ``type``: text to ``kind`` (``none`` to None if ``optional``), then :data:`CHECKS`."""

    def convert(text: str) -> Any:
        if optional and text.lower() == "none":
            return None
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {WORDS[kind]}, got {text!r}") from None
        if check is not None and not CHECKS[check][0](value):
            raise argparse.ArgumentTypeError(f"{check}, got {value}")
        return value

    return convert


_positive = _value(int, "must be > 0")


def _check_folder(path: Path, advice: str, overwrite: bool = False) -> None:
    """Refuse ``path`` unless it is a new or empty folder (or ``overwrite``), before anything is written."""
    if path.exists() and not path.is_dir():
        raise CharlibError(f"{path} exists and is not a folder (nothing was written)")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise CharlibError(f"{path} is not empty; choose a new {advice} (nothing was written)")


def _sprites(args: argparse.Namespace) -> int:
    from charlib.data import skeleton as sk
    from charlib.data.sprites import sample_sprites
    from charlib.viz import image_grid, save_png

    out = Path(args.out)
    _check_folder(out, "folder or pass --overwrite", args.overwrite)
    if args.size < 16:
        raise CharlibError(f"--size must be at least 16, got {args.size}")
    sprites = sample_sprites(args.n, size=args.size, seed=args.seed, split=args.split,
                             actions=tuple(args.actions) if args.actions else None,
                             directions=tuple(args.directions) if args.directions else None)
    out.mkdir(parents=True, exist_ok=True)
    width = max(5, len(str(args.n - 1)))
    names = [f"sprite_{i:0{width}d}.png" for i in range(args.n)]
    for name, image in zip(names, sprites.images, strict=True):
        save_png(image, out / name)
    rows = sprites.labels.rows()
    joint_cols = [f"{j}_{c}" for j in sk.JOINTS for c in ("x", "y")]
    with open(out / "labels.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", *rows[0].keys(), *joint_cols])
        for name, row, joints in zip(names, rows, sprites.labels.skeleton, strict=True):
            writer.writerow([name, *row.values(), *np.round(joints.reshape(-1), 2)])
    sheet = image_grid(sprites.images[: args.sheet], ncols=min(16, args.n))
    save_png(sheet, out / "sheet.png", scale=2 if args.size <= 32 else 1)
    print(f"Wrote {args.n} sprites ({args.size}x{args.size}), labels.csv and sheet.png to {out}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from charlib.config import profile

    config_cls = config_class(args.model)
    module, _, trainer, _ = TRAINERS[args.model]
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(config_cls)
                 if hasattr(args, f.name)}  # the flags given
    steps, chosen = overrides.pop("steps", None), overrides.pop("profile", None)
    speed = {k: overrides.pop(k) for k in SPEED if k in overrides}
    if args.model == "conditional" and "data" in overrides:
        raise CharlibError("the conditional VAE needs pose labels, so it trains on the sprites only; "
                           "drop --data")
    if args.resume and args.init_from:
        raise CharlibError("--init-from starts a new run; a resumed run already has its weights")
    if args.resume and overrides:
        raise CharlibError(f"--resume continues the run as configured in {args.out}/config.json; drop "
                           f"{', '.join(_flags(k)[0] for k in overrides)} (only --steps may change)")
    if overrides.get("nets") == "r3gan" and "loss" in overrides:
        raise CharlibError("--nets r3gan trains with its own pairing loss (rpgan); drop --loss")
    if args.resume and speed:  # how a step runs (XLA, replicas) may change, e.g. on a GPU server
        from charlib.base.run import RunFolder

        folder = RunFolder(args.out, resume=True, lock=True)  # not while another process trains there
        try:
            folder.update_config(**speed)
        finally:
            folder.release()
    if args.resume:
        config = None
    elif overrides.get("nets") == "r3gan":  # the profile's sizes and steps, with R3GAN's recipe
        from charlib.training.gan import r3gan_config

        config = r3gan_config(profile(chosen), **overrides, **speed)
    else:
        config = config_cls.from_profile(profile(chosen), **overrides, **speed)
    if args.init_from:  # the networks' shapes come from the source run unless given on the command line
        from charlib.training.trainer import adopt_architecture

        config = adopt_architecture(config, args.init_from, keep=tuple(overrides))
    train = getattr(importlib.import_module(module), trainer)
    result = train(config, args.out, resume=args.resume, steps=steps, progress=not args.quiet,
                   init_from=args.init_from)
    last = result.history[-1] if result.history else {}
    summary = ", ".join(f"{k} {v:.3f}" for k, v in last.items() if k != "step")
    print(f"Finished {result.config.steps} steps in {args.out} ({summary}).")
    print(f"Samples: {result.run.samples_dir}; TensorBoard: tensorboard --logdir {result.run.logs_dir}")
    return 0


# charlib train MODEL: a flag --field-name for each field of MODEL's config dataclass (and the older
# names below), typed by its annotation; a flag not given keeps the profile's value (from_profile)
TRAINERS: dict[str, tuple[str, str, str, str]] = {  # model -> module, config, trainer, who it is for
    "gan": ("charlib.training.gan", "GanConfig", "train_gan", "GANs"),
    "vae": ("charlib.training.vae", "VaeConfig", "train_vae", "VAEs"),
    "conditional": ("charlib.training.conditional", "ConditionalConfig", "train_conditional",
                    "the conditional VAE")}
ALIASES = {"image_size": ("--size",), "jit_compile": ("--xla",)}  # field -> other flag names (shown first)
SWITCHES = {"--no-ema": ("ema_decay", None, "no moving average of the generator (--ema-decay none)")}
SPEED = ("jit_compile", "distribute")  # how a step runs: may change when a run resumes
FLAG_HELP = {  # field -> help; a field without an entry still gets a flag
    "image_size": "image side in pixels", "latent_dim": "length of the latent code z",
    "batch_size": "images per step", "steps": "total training steps (also to extend a resumed run)",
    "flip": "random horizontal flips of the training images", "split": "which sprite identities to use",
    "data": "train on this image folder instead of the procedural sprites",
    "n_data": "how many sprites to draw for training", "seed": "seed of data, noise and weights",
    "log_every": "steps between rows of history.csv", "sample_every": "steps between sample grids",
    "ckpt_every": "steps between checkpoints", "n_samples": "images in each sample grid",
    "max_minutes": "stop after this many minutes of training (none: no limit)",
    "profile": f"sizes and steps (default: ${ENV_PROFILE}, else {DEFAULT_PROFILE})",
    "jit_compile": "compile the training step with XLA",
    "precision": "mixed precision (falls back to float32, with a notice, where it cannot help)",
    "distribute": "tf.distribute.MirroredStrategy over every GPU (one replica without GPUs)",
    "g_width": "generator width (channels)", "d_width": "discriminator width (channels)",
    "d_norm": "normalisation in the discriminator", "loss": "the GAN loss (--nets r3gan has its own)",
    "lr_g": "generator learning rate", "lr_d": "discriminator learning rate",
    "beta_1": "Adam's beta_1", "beta_2": "Adam's beta_2", "lr": "learning rate",
    "lr_decay": "both learning rates fall linearly to 0 over this last fraction of the steps",
    "ema_decay": "decay of the moving average of the generator's weights (none: no average)",
    "minibatch_std": "a minibatch standard-deviation layer in the discriminator",
    "pack": "PacGAN: the discriminator scores PACK images at once (must divide the batch)",
    "augment": 'DiffAugment policy for small data, e.g. "color,translation,cutout"',
    "r1": "R1 penalty (R1/2)·E‖∇D(real)‖² on the discriminator",
    "nets": "the course's DCGAN, the TF-tutorial reference or R3GAN, the modern baseline (RpGAN loss, "
            "R1 + R2, residual nets without normalisation), which brings its own recipe",
    "r2": "--nets r3gan: R2 penalty (R2/2)·E‖∇D(fake)‖² on the discriminator",
    "reg_every": "--nets r3gan: compute the R1/R2 penalties every REG_EVERY steps, scaled by it",
    "width": "network width (channels)", "likelihood": "the decoder's likelihood p(x|z)",
    "sigma": "standard deviation of the Gaussian likelihood", "beta": "weight of the KL term",
    "kl_warmup_steps": "steps over which the KL weight ramps up from 0",
    "free_bits": "KL nats per latent dimension left free",
    "palette": "colour layers of the decoder (0: a plain RGB decoder)",
    "identity": "a continuous identity code or one categorical per appearance attribute, learnt from "
                "the sprites' labels (consistent cycles; brings its own sizes and steps)"}


def _choices() -> dict[str, tuple[Any, ...]]:
    """The fields with a fixed set of values, from the modules that define them."""
    from charlib.losses import GAN_LOSSES
    from charlib.models import dcgan, vae
    from charlib.training import conditional, gan, hardware

    return {"image_size": (32, 64), "split": ("train", "test", "all"), "profile": tuple(PROFILES),
            "precision": hardware.PRECISIONS, "d_norm": dcgan.NORMS, "loss": tuple(GAN_LOSSES),
            "nets": gan.NETS, "likelihood": vae.LIKELIHOODS, "identity": conditional.IDENTITIES}


def config_class(model: str) -> type:
    """The config dataclass of ``charlib train MODEL``."""
    return getattr(importlib.import_module(TRAINERS[model][0]), TRAINERS[model][1])


def _flags(name: str) -> list[str]:
    return [*ALIASES.get(name, ()), "--" + name.replace("_", "-")]


def add_config_flags(parser: argparse.ArgumentParser, config_cls: type) -> dict[str, str]:
    """A flag for each field of ``config_cls`` (type from its annotation, check from :data:`CHECKS`, help
    from :data:`FLAG_HELP` with each profile's default), left out of the namespace when not given.
    Returns flag -> field for every flag added (``--no-...`` forms included)."""
    hints, choices = typing.get_type_hints(config_cls), _choices()
    profiles = {name: config_cls.from_profile(chosen) for name, chosen in PROFILES.items()}
    group = parser.add_argument_group(f"{config_cls.__name__} fields (defaults from the profile)")
    names, added = [f.name for f in dataclasses.fields(config_cls)], []
    for name in names:
        kinds = [a for a in typing.get_args(hints[name]) if a is not type(None)]
        optional = typing.get_origin(hints[name]) in (typing.Union, types.UnionType) and len(kinds) == 1
        kind = kinds[0] if optional else hints[name]
        if kind not in (bool, *WORDS):
            raise TypeError(f"{config_cls.__name__}.{name}: no command-line form for {hints[name]}")
        shown = {p: _shown(getattr(config, name)) for p, config in profiles.items()}
        default = (f" (default {shown[DEFAULT_PROFILE]})" if len(set(shown.values())) == 1 else
                   f" (default: {', '.join(f'{p} {v}' for p, v in shown.items())})")
        text = FLAG_HELP.get(name, f"{config_cls.__name__}.{name}") + ("" if name == "profile" else default)
        check = next((rule for rule, (_, fields) in CHECKS.items() if name in fields), None)
        kw: dict[str, Any] = ({"action": argparse.BooleanOptionalAction} if kind is bool else
                              {"type": _value(kind, check, optional), "choices": choices.get(name)})
        added.append(group.add_argument(*_flags(name), dest=name, default=argparse.SUPPRESS,
                                        help=text.replace("%", "%%"), **kw))
    added += [group.add_argument(flag, dest=name, action="store_const", const=value, help=text,
                                 default=argparse.SUPPRESS)
              for flag, (name, value, text) in SWITCHES.items() if name in names]
    return {flag: action.dest for action in added for flag in action.option_strings}


def _shown(value: Any) -> str:
    return ("on" if value else "off") if isinstance(value, bool) else "none" if value is None else str(value)


class _ModelParser(_Parser):
    """``charlib train MODEL``, whose flags are made from MODEL's config (importing TensorFlow) only
    when it is parsed; a flag of another model's config raises :class:`CharlibError`."""

    def __init__(self, *args: Any, model: str, **kwargs: Any) -> None:
        super().__init__(*args, allow_abbrev=False, **kwargs)
        self.model, self.ready = model, False
        self.add_argument("--out", required=True,
                          help="run folder (new or empty, or an earlier run with --resume)")
        self.add_argument("--resume", action="store_true",
                          help="continue the run in --out from its checkpoint")
        self.add_argument("--init-from", metavar="RUN",
                          help="fine-tune: start from the weights of this earlier run folder (same kind)")
        self.add_argument("--quiet", action="store_true", help="no progress bar")

    def parse_known_args(self, args: Sequence[str] | None = None,
                         namespace: argparse.Namespace | None = None) -> tuple[argparse.Namespace, list[str]]:
        if not self.ready:
            add_config_flags(self, config_class(self.model))
            self.ready = True
        namespace, extras = super().parse_known_args(args, namespace)
        for flag in (e.split("=")[0] for e in extras if e.startswith("--")):
            owners = [m for m in TRAINERS if m != self.model and flag in
                      add_config_flags(argparse.ArgumentParser(add_help=False), config_class(m))]
            if owners:
                raise CharlibError(f"{flag} is for {' and '.join(TRAINERS[m][3] for m in owners)} "
                                   f"({', '.join('charlib train ' + m for m in owners)}); "
                                   f"charlib train {self.model} has no such option")
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras


def _sample_target(out: str) -> tuple[str, Path]:
    """What ``charlib sample --out`` writes: ("grid" | "npz" | "folder", path); checked before sampling."""
    path = Path(out)
    if out.endswith(("/", os.sep)) or path.is_dir() or not path.suffix:
        _check_folder(path, "or empty folder")
        return "folder", path
    forms = {".png": "grid", ".npz": "npz"}
    if path.suffix.lower() not in forms:
        raise CharlibError(f"cannot write samples to {out}: give a .png file (one grid), a .npz file (the "
                           "images as an array) or a folder (one PNG per sample: a name without extension, "
                           "or ending in /) (nothing was written)")
    return forms[path.suffix.lower()], path


def write_samples(images: np.ndarray, form: str, path: Path, seed: int, scale: int | None = None) -> str:
    """Write uint8 samples (N, H, W, 3) as ``form`` (see :func:`_sample_target`), atomically (all or
    nothing, no temporary file left behind); returns what was written, in words."""
    from charlib.base.images import png_bytes
    from charlib.base.io import atomic_write_bytes
    from charlib.viz import image_grid

    if form == "grid":
        atomic_write_bytes(path, png_bytes(image_grid(images), 2 if scale is None else scale))
        return "a PNG grid"
    if form == "npz":
        buffer = io.BytesIO()
        np.savez(buffer, images=images, seed=np.int64(seed))
        atomic_write_bytes(path, buffer.getvalue())
        return f"an array images {images.shape} uint8 (and the seed)"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:  # the folder appears complete, with one rename, or not at all
        width = max(4, len(str(len(images) - 1)))
        for i, image in enumerate(images):
            (tmp / f"sample_{i:0{width}d}.png").write_bytes(png_bytes(image, scale or 1))
        if path.is_dir():
            path.rmdir()  # checked empty before sampling
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return f"a folder of {len(images)} PNGs"


def _sample(args: argparse.Namespace) -> int:
    from charlib.training.sampling import load_sampler

    form, path = _sample_target(args.out)
    sample, latent_dim = load_sampler(args.checkpoint)
    if args.prior == "mixture":
        from charlib.base.run import RunFolder
        from charlib.training.vae import latent_prior

        if RunFolder.open(args.checkpoint).config.get("model") != "vae":
            raise CharlibError("--prior mixture is for VAE runs: a GAN has no encoder to fit it to")
        z = latent_prior(args.checkpoint).sample(args.n, seed=args.seed)
    else:
        z = np.random.default_rng(args.seed).standard_normal((args.n, latent_dim)).astype("float32")
    what = write_samples(sample(z), form, path, args.seed, args.scale)
    print(f"Wrote {args.n} samples from {args.checkpoint} to {path}: {what}")
    return 0


def _animation_path(out: Path, mp4: bool) -> Path:
    """``out``, named .gif or .mp4 (``--mp4`` adds .mp4 to a name without extension)."""
    suffix = out.suffix.lower()
    if mp4 and suffix not in ("", ".mp4"):
        raise CharlibError(f"--mp4 asks for a video but {out} is named {suffix}; name it .mp4")
    if suffix not in (".gif", ".mp4") and not mp4:
        raise CharlibError(f"cannot tell the format of {out}: name it .gif or .mp4 (nothing was written)")
    return out.with_suffix(".mp4") if mp4 and not suffix else out


def _animate(args: argparse.Namespace) -> int:
    from charlib import animation as an
    from charlib.base.run import RunFolder

    out = _animation_path(Path(args.out), args.mp4)
    if not (Path(args.checkpoint) / "config.json").is_file():
        raise CharlibError(f"{args.checkpoint} is not a run folder (no config.json): give the folder of a "
                           "training run, e.g. one made by charlib train conditional --out DIR")
    kind = RunFolder.open(args.checkpoint).config.get("model")
    if kind == "conditional":
        from charlib.training import conditional as cv

        model, config = cv.load_conditional(args.checkpoint)
        action, direction = args.action or "walk", args.direction or "front"
        if config.identity == "attributes":  # 4 categorical draws: no mixture, nothing to refine
            z = cv.sample_characters(config, args.n, seed=args.seed)
        else:
            prior = cv.identity_prior(args.checkpoint, model, config) if args.prior == "mixture" else None
            z = cv.sample_identities(args.n, config.latent_dim, seed=args.seed, prior=prior)
            z = cv.refine_identities(model, z, steps=args.refine)
        frames = an.side_by_side(*cv.generate_cycles(model, z, action, direction))
        what = f"{args.n} new characters ({action}, facing {direction})"
    elif kind in ("gan", "vae"):
        if args.action or args.direction:
            raise CharlibError(f"{args.checkpoint} holds a {kind} run, which has no pose input: --action and "
                               "--direction need a conditional run (charlib train conditional --out DIR). "
                               "Without them, animate makes a looping latent walk of this run.")
        from charlib.training.sampling import load_sampler

        sample, latent_dim = load_sampler(args.checkpoint)
        walks = [sample(an.random_latent_loop(latent_dim, n_keyframes=4, steps_between=8,
                                              seed=args.seed + i)) for i in range(args.n)]
        frames = an.side_by_side(*walks)
        what = f"{args.n} latent walks (4 keyframes, slerp)"
    else:
        raise CharlibError(f"{args.checkpoint} holds a {kind!r} run; animate knows conditional, gan and vae")
    if out.suffix.lower() == ".mp4":
        path = an.save_mp4(frames, out, fps=args.fps, scale=args.scale, loops=4)
    else:
        path = an.save_gif(frames, out, fps=args.fps, scale=args.scale)
    print(f"Wrote {what} from {args.checkpoint} to {path}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from charlib.bench import FULL, QUICK, format_table, run_bench, write_report

    quick = args.quick
    report = run_bench(tuple(args.variants or (QUICK if quick else FULL)), size=args.size,
                       batch_size=args.batch_size, steps=args.steps or (5 if quick else 20),
                       warmup=args.warmup or (2 if quick else 3), repeats=args.repeats or 3,
                       log=lambda line: print(line, flush=True))
    print(format_table(report))
    for row in report["results"]:
        if row["name"] != "reference":
            print(f"{row['name']}: {row['ratio_to_reference']:.2f}x the reference's img/s")
    if args.out:
        paths = write_report(report, args.out)
        print("Wrote " + ", ".join(str(p) for p in paths))
    return 0


def _info(args: argparse.Namespace) -> int:
    from charlib.system import format_report, gpu_check, report

    if args.gpu and args.no_devices:
        raise CharlibError("--gpu asks TensorFlow for its devices; drop --no-devices")
    print(format_report(report(include_devices=not args.no_devices)))
    if not args.gpu:
        return 0
    check = gpu_check()
    print(check.message)
    return 0 if check.ok else 1


def _diagnose(args: argparse.Namespace) -> int:
    from charlib.diagnostics.report import diagnose, format_diagnosis

    result = diagnose(args.checkpoint, n=args.n, seed=args.seed, batch_size=args.batch_size,
                      progress=not args.json, n_knn=args.n_knn)
    print(json.dumps(result, indent=2) if args.json else format_diagnosis(result))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from charlib.data import skeleton as sk

    parser = _Parser(prog="charlib", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sprites", help="draw procedural character sprites into a folder")
    p.add_argument("--n", type=_positive, default=64, help="how many sprites (default 64)")
    p.add_argument("--size", type=int, default=64, help="image side in pixels (default 64)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", required=True, help="output folder (new or empty)")
    p.add_argument("--split", choices=("all", "train", "test"), default="all",
                   help="which identities to draw from (default all)")
    p.add_argument("--actions", nargs="+", choices=sk.ACTIONS, help="limit to these actions")
    p.add_argument("--directions", nargs="+", choices=sk.DIRECTIONS,
                   help="limit to these directions")
    p.add_argument("--sheet", type=_positive, default=64,
                   help="how many sprites the sheet shows (default 64)")
    p.add_argument("--overwrite", action="store_true", help="allow writing into a non-empty folder")

    p = sub.add_parser("train", help="train a model in a run folder",
                       description="Train a model in a run folder. Each field of the model's config is a "
                       "flag: charlib train MODEL --help lists them, with each profile's default.")
    models = p.add_subparsers(dest="model", required=True, parser_class=_ModelParser)
    for model, what in (("gan", "a DCGAN (or --nets r3gan, the modern baseline)"), ("vae", "a VAE"),
                        ("conditional", "the conditional VAE that animates characters")):
        models.add_parser(model, help=what, description=f"Train {what}.", model=model)

    p = sub.add_parser("sample", help="samples from a trained run folder: a grid, PNGs or an array")
    p.add_argument("--checkpoint", required=True, help="the run folder (its latest checkpoint is used)")
    p.add_argument("--n", type=_positive, default=64, help="how many samples (default 64)")
    p.add_argument("--out", required=True,
                   help="grid.png (one grid), samples.npz (array 'images' (N, H, W, 3) uint8, and 'seed'), "
                        "or a folder: a name without extension, or ending in / (sample_0000.png, ...)")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    p.add_argument("--scale", type=_positive,
                   help="enlarge pixels this many times (default 2 for a grid, 1 for a folder of PNGs)")
    p.add_argument("--prior", choices=("normal", "mixture"), default="normal",
                   help="VAE runs: draw z from N(0, I) (default) or from a Gaussian mixture fitted to "
                        "the encoder's codes of the training images (fitted once, kept in the run folder)")

    p = sub.add_parser("animate", help="animate new characters from a trained run (GIF or MP4)")
    p.add_argument("--checkpoint", required=True, help="a conditional run folder (or a GAN/VAE run)")
    p.add_argument("--action", choices=sk.ACTIONS, help="what the characters do (default walk)")
    p.add_argument("--direction", choices=sk.DIRECTIONS, help="which way they face (default front)")
    p.add_argument("--out", required=True, help="file to write: .gif or .mp4")
    p.add_argument("--mp4", action="store_true", help="write an MP4 video (also chosen by a .mp4 name)")
    p.add_argument("--n", type=_positive, default=4, help="characters side by side (default 4)")
    p.add_argument("--seed", type=int, default=0, help="which characters (default 0)")
    p.add_argument("--prior", choices=("mixture", "normal"), default="mixture",
                   help="identity codes from the fitted mixture (default) or from N(0, I); "
                        "attribute-identity runs draw the 4 attributes instead")
    p.add_argument("--refine", type=int, default=3, metavar="STEPS",
                   help="decode-encode steps that pull sampled codes to real-looking characters "
                        "(default 3; 0 keeps the raw samples)")
    p.add_argument("--fps", type=float, default=8.0, help="frames per second (default 8)")
    p.add_argument("--scale", type=_positive, default=3, help="enlarge pixels this many times")

    p = sub.add_parser("bench", help="time the GAN training step for a grid of speed options")
    p.add_argument("--quick", action="store_true",
                   help="reference vs default only, few steps (under 2 minutes on a 2-core CPU)")
    p.add_argument("--variants", nargs="+", metavar="NAME",
                   help="reference, default, xla, bf16, fp16, xla+bf16, batch128, width16 (default: "
                   "all of these), fp16-forced")
    p.add_argument("--size", type=int, default=64, choices=(16, 32, 64, 128), help="image size (64)")
    p.add_argument("--batch-size", type=_positive, default=64, help="images per step (64)")
    p.add_argument("--steps", type=_positive, help="timed steps per round (quick 5, else 20)")
    p.add_argument("--warmup", type=_positive, help="untimed steps first (quick 2, else 3)")
    p.add_argument("--repeats", type=_positive, help="interleaved rounds (3)")
    p.add_argument("--out", help="folder for bench.json, bench.csv and bench.md")

    p = sub.add_parser("info", help="versions, devices and the active profile")
    p.add_argument("--no-devices", action="store_true", help="skip importing TensorFlow")
    p.add_argument("--gpu", action="store_true",
                   help="check that TensorFlow sees a GPU and computes on it; exit status 1, with the "
                        "reason, when it does not (see docs/gpu.md)")

    p = sub.add_parser("diagnose", help="mode coverage, KL, precision/recall/density/coverage and FCD "
                                        "of a trained run")
    p.add_argument("--checkpoint", required=True, help="the run folder (its latest checkpoint is used)")
    p.add_argument("--n", type=_positive, default=26_000,
                   help="samples to draw and classify into modes (default 26000, as PacGAN and VEEGAN)")
    p.add_argument("--n-knn", type=_positive, default=10_000,
                   help="of them, how many precision/recall/density/coverage and FCD use (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="noise and reference seed (default 0)")
    p.add_argument("--batch-size", type=_positive, default=512, help="images per batch (default 512)")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON only")
    commands = {"sprites": _sprites, "train": _train, "sample": _sample, "animate": _animate,
                "bench": _bench, "info": _info, "diagnose": _diagnose}
    for name, command in sub.choices.items():
        command.set_defaults(func=commands[name])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except CharlibError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
