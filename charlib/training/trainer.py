"""What every trainer shares: the run config, the data, the batch stream, start/resume and export.

A model kind (GAN, VAE, conditional VAE) subclasses :class:`RunConfig` and passes to :func:`train`
a function that builds the compiled model from the config and one that draws the sample grid.
Everything else (the run folder, seeding, data, batches that a resumed run sees exactly as an
uninterrupted one would, the loop with its checkpoints and guards, the export) is written once, here.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import keras
import numpy as np
import tensorflow as tf

from charlib import __version__
from charlib.base.io import export_model
from charlib.base.run import RemovedOptionError, RunFolder, RunFolderError, config_of, read_run_config
from charlib.config import code_version, course_root, output_dir, seed_everything
from charlib.data.pipeline import make_dataset, to_uint8
from charlib.errors import CharlibError
from charlib.training import hardware
from charlib.training.loop import Checkpointer, LoopSettings, run_loop

MIN_IMAGES = 8  # fewest usable images a folder may hold: with fewer, nothing trains (no run folder)
FEW_IMAGES = 100  # below this many a folder still trains, with a warning: expect the model to copy them

C = TypeVar("C", bound="RunConfig")


@dataclass(frozen=True)
class RunConfig:
    """Settings every run has; a model kind adds its own fields (see ``GanConfig``, ``VaeConfig``)."""

    kind: ClassVar[str] = "model"
    architecture: ClassVar[tuple[str, ...]] = ("image_size", "latent_dim")
    """The fields that decide the networks' weight shapes (what ``init_from`` must match)."""
    removed: ClassVar[dict[str, tuple[Any, str]]] = {}
    """Options earlier versions had: name -> (the value that left it off, what it did). A config.json
    holding that value still loads; one that switched it on is refused, naming ``removed_at``."""
    removed_at: ClassVar[str] = ""  # the commit of the course that still has them, and why they went

    image_size: int = 64
    latent_dim: int = 128
    batch_size: int = 64
    steps: int = 3000
    flip: bool = True
    data: str = "sprites"
    split: str = "train"
    n_data: int = 20_000
    seed: int = 0
    log_every: int = 10
    sample_every: int = 250
    ckpt_every: int = 250
    n_samples: int = 64
    max_minutes: float | None = None
    profile: str = "custom"
    # how the step runs (charlib.training.hardware); each falls back, with a notice, where it cannot help
    jit_compile: bool = False  # XLA
    precision: str = "float32"  # or "mixed_float16" (GPU, loss-scaled), "mixed_bfloat16"
    distribute: bool = False  # tf.distribute.MirroredStrategy over every GPU (one replica on a CPU)

    @classmethod
    def from_dict(cls: type[C], data: dict[str, Any]) -> C:
        """The config saved as ``data`` (a config.json's entries); entries it has no field for are
        ignored, and a :attr:`removed` option switched on raises :class:`RemovedOptionError`."""
        for name, (off, what) in cls.removed.items():
            if data.get(name, off) != off:
                raise RemovedOptionError(f"{name}={data[name]!r} ({what}): the charlib package no longer "
                                         f"has this option; {cls.removed_at}")
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def to_dict(self) -> dict[str, Any]:
        versions = {"charlib": __version__, "tensorflow": tf.__version__, "keras": keras.__version__,
                    "python": platform.python_version()}
        return {"model": self.kind, **asdict(self), "versions": versions}


def resolve_data_path(data: str) -> Path:
    """A folder named in ``RunConfig.data``: as given, or else relative to the course's top folder
    (so ``data/sample_characters`` works from the repo root, from ``notebooks/`` and on resume)."""
    path = Path(data).expanduser()
    root = course_root() or course_root(Path(__file__).parent)
    if not path.is_absolute() and not path.exists() and root is not None and (root / path).exists():
        return root / path
    return path


def load_training_images(config: RunConfig, verbose: bool = True) -> np.ndarray:
    """The uint8 images (N, S, S, 3) a config trains on: procedural sprites or an image folder,
    whose report (what was skipped and why) is printed once, before training."""
    if config.data == "sprites":
        from charlib.data.sprites import sample_sprites

        # the training identities only, so the test split's characters stay unseen
        return sample_sprites(config.n_data, size=config.image_size, seed=config.seed,
                              split=config.split).images
    from charlib.data.folders import load_image_folder

    images, report = load_image_folder(resolve_data_path(config.data), size=config.image_size)
    if verbose:
        print(report.summary())
    if len(images) < MIN_IMAGES:
        raise CharlibError(
            f"Only {len(images)} usable image{'' if len(images) == 1 else 's'} in {config.data}; "
            f"training needs at least {MIN_IMAGES} (and about {FEW_IMAGES} or more to learn more "
            "than copies). Add images to the folder; nothing was trained."
        )
    if len(images) < FEW_IMAGES and verbose:
        print(f"Warning: {len(images)} images is very few for a generative model (about {FEW_IMAGES} "
              "or more is a start): expect it to copy them. DiffAugment (augment=...), fine-tuning "
              "a course run (init_from=...) and charlib.diagnostics.memorisation help.")
    return images


def fit_batch_size(config: C, n_images: int, verbose: bool = True) -> C:
    """``config`` with its batch size lowered to fit ``n_images`` when they are fewer than a batch
    (a multiple of ``pack`` when the config has one: PacGAN)."""
    if n_images >= config.batch_size:
        return config
    pack = int(getattr(config, "pack", 1))
    size = n_images - n_images % pack
    if verbose:
        print(f"Batch size lowered from {config.batch_size} to {size} to fit {n_images} images.")
    return replace(config, batch_size=size)


def batch_stream(images: np.ndarray, batch_size: int, seed: int, flip: bool,
                 start_step: int = 0) -> Iterator[tf.Tensor]:
    """Endless batches (batch_size, H, W, 3) in [-1, 1], shuffled with seed + epoch; starting at
    ``start_step`` gives exactly the batches an uninterrupted run would have seen then."""
    per_epoch = len(images) // batch_size
    if per_epoch == 0:
        raise CharlibError(f"{len(images)} images are fewer than one batch of {batch_size}")
    epoch, skip = divmod(start_step, per_epoch)
    while True:
        ds = make_dataset(images, batch_size=batch_size, seed=seed + epoch, flip=flip, cache=False)
        yield from ds.skip(skip)
        epoch, skip = epoch + 1, 0


@dataclass
class TrainedRun:
    """What a trainer returns: the run folder, the trained model, its config and loss history."""

    run: RunFolder
    model: keras.Model
    config: RunConfig
    history: list[dict[str, float]]


def train(config_cls: type[C], config: C | None, out: str | Path, *, resume: bool, steps: int | None,
          images: np.ndarray | None, progress: bool, build: Callable[[C], keras.Model],
          sampler: Callable[[keras.Model, C], Callable[[], np.ndarray]],
          exported: Callable[[keras.Model], keras.Model], init_from: str | Path | None = None,
          batches: Callable[[C, int], Iterator[Any]] | None = None, name: str = "") -> TrainedRun:
    """Train (or resume) a model of kind ``config_cls.kind`` in the run folder ``out``.

    ``build(config)`` returns a compiled model with ``train_step`` and ``checkpoint_objects()``;
    ``sampler(model, config)``, the function that draws the fixed sample grid; ``exported(model)``,
    the network saved as ``generator.keras``; ``init_from`` starts from another run's weights
    (:func:`init_weights`); ``batches(config, start)``, for a model with data of its own, gives the
    batches from step ``start`` (default: :func:`batch_stream`).
    """
    if not resume:
        config = config or config_cls()
        if steps is not None:
            config = replace(config, steps=steps)
        if batches is None:  # read the data first: a bad or too small folder stops before a run folder
            images = load_training_images(config) if images is None else images
            config = fit_batch_size(config, len(images))
            if init_from is not None:
                check_same_architecture(config, read_run_config(config_cls, init_from), init_from)
    run = RunFolder(out, resume=True, lock=True) if resume else RunFolder(out, config.to_dict(), lock=True)
    try:  # the lock is released however training ends
        if resume:  # the run's own config, ``steps`` replacing its own
            config = config_of(config_cls, run)
            if steps is not None and steps != config.steps:
                config = replace(config, steps=steps)
                run.update_config(steps=steps)
        seed_everything(config.seed)
        if batches is None:
            data = images if images is not None else load_training_images(config)

            def batches(cfg: C, start: int) -> Iterator[tf.Tensor]:
                return batch_stream(data, cfg.batch_size, cfg.seed, cfg.flip, start_step=start)
        speed = speed_plan(run, config)
        with speed.scope():  # dtype policy, and the strategy's scope when distributed
            model = build(config)
        checkpointer = Checkpointer(run, **model.checkpoint_objects())
        start = restore_to_train(run, checkpointer, config, resume)
        if init_from is not None and start == 0:
            run.update_config(init_from=init_weights(model, config_cls, init_from, build))
        budget = None if config.max_minutes is None else 60.0 * config.max_minutes
        history = run_loop(
            run=run, step_fn=speed.compile_step(model.train_step), batches=batches(config, start),
            checkpointer=checkpointer, sample_fn=sampler(model, config),
            settings=LoopSettings(config.steps, config.log_every, config.sample_every, config.ckpt_every,
                                  progress, time_budget_s=budget),
            description=f"{name or config.kind.upper()} {config.image_size}px")
        finished = int(checkpointer.step.numpy())
        if finished < config.steps:  # stopped by the time budget: the run is complete at this step
            config = replace(config, steps=finished)
            run.update_config(steps=finished)
        export_model(exported(model), run.export_path)  # the generator or decoder, saved atomically
        return TrainedRun(run, model, config, history)
    finally:
        run.release()


def restore_to_train(run: RunFolder, checkpointer: Checkpointer, config: RunConfig, resume: bool) -> int:
    """Remove what a run killed during a write left (temporary files, an unfinished checkpoint),
    restore the newest readable checkpoint and say so; returns the step restored (0: new)."""
    removed = run.remove_temporary_files() + [f"ckpt/{name}" for name in checkpointer.remove_unfinished()]
    if removed:
        print(f"Removed what an interrupted write left in {run.path}: {', '.join(removed)}.")
    start = checkpointer.restore_latest()
    if resume and start:
        print(f"Resuming {run.path} from step {start} of {config.steps} "
              f"({Path(checkpointer.last).name} in {run.ckpt_dir}).")
    return start


def speed_plan(run: RunFolder, config: RunConfig) -> hardware.Plan:
    """How this machine runs the step for the run's speed options (:func:`hardware.plan`): prints the
    notice when an option is set or falls back, and records it as ``runtime`` in config.json."""
    speed = hardware.plan(config.precision, config.jit_compile, config.distribute)
    if speed.notes or config.precision != "float32" or config.jit_compile or config.distribute:
        print(speed.summary())
    run.update_config(runtime=speed.as_dict())
    return speed


def check_same_architecture(config: C, source: C, source_dir: str | Path) -> None:
    """Raise :class:`CharlibError` naming each field where ``config``'s networks differ from ``source``'s."""
    diff = [f"{name}={getattr(config, name)!r} (source: {getattr(source, name)!r})"
            for name in type(config).architecture if getattr(config, name) != getattr(source, name)]
    if diff:
        raise CharlibError(
            f"Cannot start from {source_dir}: its networks differ from this run's in {', '.join(diff)}. "
            "Use the source run's values (the CLI's --init-from does this unless you override them)."
        )


def adopt_architecture(config: C, source_dir: str | Path, keep: tuple[str, ...] = ()) -> C:
    """``config`` with the architecture fields of the run in ``source_dir`` (except those in ``keep``)."""
    source = read_run_config(type(config), source_dir)
    return replace(config, **{name: getattr(source, name) for name in type(config).architecture
                              if name not in keep})


def init_weights(model: keras.Model, config_cls: type[C], source_dir: str | Path,
                 build: Callable[[C], keras.Model]) -> dict[str, Any]:
    """Copy every network of ``model.checkpoint_objects()`` (not the optimisers or the step) from the
    one of the same name in the latest checkpoint of ``source_dir`` (an EMA generator the source
    lacks from its generator), shapes checked first; returns the provenance for config.json."""
    source_model, source_config, source_run = restore_for_inference(config_cls, source_dir, build)
    if source_model is None:
        raise RunFolderError(f"{source_dir} has no checkpoint to start from")
    source_nets = source_model.checkpoint_objects()
    pairs = []
    for name, net in model.checkpoint_objects().items():
        if not isinstance(net, keras.Model):
            continue
        src = source_nets.get(name, source_nets.get("generator") if name == "ema_generator" else None)
        if src is None:
            raise CharlibError(f"{source_dir} has no {name!r} network to start from")
        shapes, src_shapes = [w.shape for w in net.weights], [w.shape for w in src.weights]
        if shapes != src_shapes:
            raise CharlibError(
                f"Cannot start from {source_dir}: its {name} has weights of other shapes "
                f"({len(src_shapes)} arrays vs {len(shapes)}); build this run like the source run."
            )
        pairs.append((name, net, src))
    for _, net, src in pairs:
        net.set_weights(src.get_weights())
    return {"run": str(Path(source_dir).resolve()), "step": int(source_model.step.numpy()),
            "data": source_config.data, "networks": [name for name, _, _ in pairs]}


def restore_for_inference(config_cls: type[C], run_dir: str | Path,
                          build: Callable[[C], keras.Model]) -> tuple[keras.Model | None, C, RunFolder]:
    """Rebuild a run's model from config.json and restore its newest readable checkpoint (None if
    there is none); every network the model declares must be in it."""
    run = RunFolder.open(run_dir)
    config = config_of(config_cls, run)
    model = build(config)
    checkpointer = Checkpointer(run, **model.checkpoint_objects())
    if checkpointer.manager.latest_checkpoint is None:
        return None, config, run
    checkpointer.restore_latest(partial=True)  # every network checked, older kept ones if need be
    return model, config, run


def load_trained(config_cls: type[C], run_dir: str | Path, build: Callable[[C], keras.Model]
                 ) -> tuple[keras.Model, C]:
    """:func:`restore_for_inference` for a run that must have a checkpoint: (model, config)."""
    model, config, _ = restore_for_inference(config_cls, run_dir, build)
    if model is None:
        raise RunFolderError(f"{run_dir} has no checkpoint yet")
    return model, config


def in_batches(fn: Callable[..., Any], *arrays: np.ndarray, batch_size: int = 256) -> Any:
    """``fn`` on slices of ``batch_size`` rows of ``arrays`` (one slice of each per call), its outputs
    concatenated along the rows: one array, or a tuple (or dict) of them when ``fn`` returns several.
    No rows give ``fn``'s output on no rows (an empty array of the right shape)."""
    starts = range(0, max(len(arrays[0]), 1), batch_size)
    outs = [fn(*(a[i : i + batch_size] for a in arrays)) for i in starts]
    if isinstance(outs[0], Mapping):
        return {k: np.concatenate([np.asarray(o[k]) for o in outs]) for k in outs[0]}
    if isinstance(outs[0], list | tuple):
        return tuple(np.concatenate([np.asarray(o) for o in parts]) for parts in zip(*outs, strict=True))
    return np.concatenate([np.asarray(o) for o in outs])


def generate(generator: keras.Model, z: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Run a generator (or decoder) in inference mode on z (N, latent_dim): uint8 images (N, H, W, 3)."""
    return to_uint8(in_batches(lambda zs: generator(zs, training=False), z, batch_size=batch_size))


def fixed_noise(config: RunConfig, n: int | None = None) -> np.ndarray:
    """The run's fixed latent vectors for sample grids (n, latent_dim) float32."""
    rng = np.random.default_rng(config.seed + 12345)
    return rng.standard_normal((n or config.n_samples, config.latent_dim)).astype(np.float32)


def cache_key(config: RunConfig) -> str:
    """A short hash of everything that decides a trained model: the full config, the charlib source
    (:func:`charlib.config.code_version`) and the TensorFlow and Keras versions."""
    described = {k: v for k, v in config.to_dict().items() if k != "versions"}
    described["code"] = code_version()
    described["libraries"] = {"tensorflow": tf.__version__, "keras": keras.__version__}
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:10]


def course_folder(config: RunConfig) -> Path:
    """Where the course keeps the model ``config`` trains: ``outputs/<kind>_<profile>_<cache key>``."""
    return output_dir().joinpath(f"{config.kind}_{config.profile}_{cache_key(config)}")


def train_or_load(config_cls: type[C], config: C, out: str | Path | None, train_fn: Callable[..., TrainedRun],
                  build: Callable[[C], keras.Model], progress: bool = True) -> TrainedRun:
    """A run folder used as a cache: train into ``out`` (default :func:`course_folder`) if it is new,
    resume it if it stopped early, and just load it (no data, no training) if it has finished. Says
    which, in one line."""
    out = course_folder(config) if out is None else Path(out)
    what = f"the course's {config.kind} ({config.profile} profile, {config.steps} steps)"
    if not (out / "config.json").is_file():
        print(f"Training {what} into {out}; later notebooks reuse it.", flush=True)
        return train_fn(config, out, progress=progress)
    model, saved, run = restore_for_inference(config_cls, out, build)
    if model is not None and int(model.step.numpy()) >= saved.steps:
        print(f"Reusing {what} from {out} (trained earlier with this config and code).", flush=True)
        return TrainedRun(run, model, saved, run.read_history())
    done = int(model.step.numpy()) if model is not None else 0
    print(f"Resuming {what} in {out} from step {done}.", flush=True)
    return train_fn(out=out, resume=True, progress=progress)
