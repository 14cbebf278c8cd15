"""Diagnose a trained run: every mode-collapse measurement of a GAN or VAE run folder in one call.

:func:`diagnose` draws N images from a run's generator (a GAN's, or a VAE's decoder fed with prior
samples z ~ N(0, I)) and N real sprites of its image size from the identities it was trained on,
and measures both through the sprite classifier: modes covered and reverse KL
(:mod:`charlib.diagnostics.modes`), precision, recall, density, coverage and the Fréchet classifier
distance (:mod:`charlib.diagnostics.prdc`); ``charlib diagnose --checkpoint DIR`` prints them.
:func:`real_floor` puts a second set of real sprites in place of the generated ones: the best any
generator can score with that N. A run trained on an image folder has no appearance labels, so
mode counting is skipped (and says so); the other metrics use the folder's images.

As in the papers, modes are counted on 26,000 samples (PacGAN and VEEGAN on Stacked MNIST) and the
k-NN metrics and the Fréchet distance, whose cost grows with N², use the first 10,000 (the
density-and-coverage paper). ``kl_floor`` is the reverse KL a perfect generator's N samples would
still show: the plug-in estimate from a K-bin histogram of N draws is about (K − 1) / (2N) nats.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from charlib.data import sprites as sp
from charlib.diagnostics import classifier as clf_mod
from charlib.diagnostics.modes import count_modes, split_modes
from charlib.diagnostics.prdc import frechet_distance, prdc
from charlib.errors import CharlibError, ShapeError

__all__ = ["diagnose", "format_diagnosis", "real_floor"]

MIN_N = 16
N_MODES_DEFAULT = 26_000  # samples whose modes are counted (PacGAN, VEEGAN)
N_KNN_DEFAULT = 10_000  # of them, the ones the k-NN metrics and the Fréchet distance use
_MODE_KEYS = ("modes_covered", "n_modes", "mode_coverage", "kl", "outside_fraction")


def kl_floor(n_modes: int, n: int) -> float:
    """Expected plug-in reverse KL of a perfect generator: n samples over n_modes modes, (K - 1) / (2n)."""
    return (n_modes - 1) / (2 * n)


def _classifier_for(classifier, progress: bool):
    """The given classifier, else the course's 32×32 one for every run size: larger samples are
    averaged down to 32×32 (its held-out accuracy on native 64×64 renders is measured too), it
    trains in a fraction of the 64×64 model's time, and runs of both sizes share one feature space."""
    return clf_mod.course_classifier(32, progress=progress) if classifier is None else classifier


def _metrics(real: np.ndarray, fake: np.ndarray, clf, k: int, batch_size: int) -> dict[str, float]:
    real_f, fake_f = clf.features(real, batch_size), clf.features(fake, batch_size)
    out = prdc(real_f, fake_f, k=k)
    out["frechet_distance"] = frechet_distance(real_f, fake_f)
    return {name: round(float(v), 6) for name, v in out.items()}


def _sample(run_dir: Path, n: int, seed: int, batch_size: int) -> tuple[np.ndarray, dict]:
    from charlib.base.run import RunFolder
    from charlib.training.sampling import load_sampler

    config = RunFolder.open(run_dir).config
    sample, latent_dim = load_sampler(str(run_dir))
    rng = np.random.default_rng(seed)  # the same z for a seed, whatever the batch size
    parts = [rng.standard_normal((min(batch_size, n - start), latent_dim)).astype(np.float32)
             for start in range(0, n, batch_size)]
    return np.concatenate([sample(z) for z in parts]), config


def _reference(config: dict, n: int, seed: int) -> tuple[np.ndarray, str]:
    size = int(config["image_size"])
    if config.get("data", "sprites") == "sprites":
        split = config.get("split", "train")
        return sp.sample_sprites(n, size=size, seed=seed, split=split).images, split
    from charlib.data.folders import load_image_folder
    from charlib.training.trainer import resolve_data_path

    folder = resolve_data_path(config["data"])  # relative folders work from any working folder
    if not folder.is_dir():
        raise CharlibError(f"the run was trained on the image folder {folder}, which is no longer "
                           "there; the reference images are needed for precision/recall/FCD")
    images, _ = load_image_folder(folder, size=size)
    return images[:n], str(folder)


def diagnose(run_dir: str | Path, n: int = N_MODES_DEFAULT, seed: int = 0, batch_size: int = 512,
             k: int = 5, classifier=None, progress: bool = False,
             n_knn: int = N_KNN_DEFAULT) -> dict[str, object]:
    """Measure mode collapse and sample quality of a GAN or VAE run folder (its latest checkpoint).

    ``n`` generated and ``n`` real images are drawn (``seed`` seeds the latents and the real
    sprites) and all classified into modes; the first ``n_knn`` of each feed the k-NN metrics, whose
    balls reach the ``k``-th neighbour, and the Fréchet distance. ``classifier`` defaults to
    ``course_classifier(32)``, trained on first use (a minute or two; ``progress`` shows it).
    Returns a JSON-ready dict: ``run, model, image_size, n, seed, data, reference``, the metrics
    ``modes_covered, n_modes, mode_coverage, kl, kl_floor, outside_fraction`` (None for a run on an
    image folder), ``precision, recall, density, coverage, frechet_distance``, ``modes`` (marginals,
    the most over- and under-produced modes) and ``seconds``. Raises ``CharlibError`` when
    ``run_dir`` is not a run folder or holds no checkpoint, and ``ShapeError`` when ``n`` is too small.
    """
    start = time.perf_counter()
    run_dir = Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise CharlibError(f"{run_dir} is not a run folder (no config.json); give the folder that "
                           "charlib train / train_gan / train_vae wrote")
    if n < MIN_N or n <= k:
        raise ShapeError(f"n must be at least {max(MIN_N, k + 1)} to measure anything, got {n}")
    if n_knn <= k:
        raise ShapeError(f"n_knn must be more than k={k} to measure anything, got {n_knn}")
    fake, config = _sample(run_dir, n, seed, batch_size)
    if fake.shape[1] != int(config["image_size"]) or fake.shape[1] != fake.shape[2]:
        raise ShapeError(f"the run's generator makes {fake.shape[1:3]} images, but its config says "
                         f"{config['image_size']}")
    real, reference = _reference(config, n, seed + 1)
    if len(real) <= k:
        raise CharlibError(f"only {len(real)} reference images; need more than k={k}")
    clf = _classifier_for(classifier, progress)
    result: dict[str, object] = {
        "run": str(run_dir), "model": config.get("model"), "image_size": int(fake.shape[1]), "n": n,
        "seed": seed, "data": config.get("data", "sprites"), "reference": reference,
        "n_reference": int(len(real)), "k": k, "n_knn": min(n_knn, n),
    }  # fmt: skip
    if result["data"] == "sprites":
        summary = count_modes(fake, clf, split=reference, batch_size=batch_size).summary()
        result.update({key: summary[key] for key in _MODE_KEYS})
        result["kl_floor"] = round(kl_floor(int(summary["n_modes"]), n), 6)
        result["modes"] = {key: summary[key] for key in ("marginals", "over_produced", "under_produced")}
    else:
        result.update(dict.fromkeys(("modes_covered", "n_modes", "mode_coverage", "kl", "kl_floor",
                                     "outside_fraction")))
        result["modes"] = None
        result["note"] = ("mode counting needs sprites (their attributes define the modes); this run "
                          "was trained on an image folder, so only precision/recall/density/coverage "
                          "and the Fréchet distance are reported, in the sprite classifier's features")
    result.update(_metrics(real[:n_knn], fake[:n_knn], clf, k, batch_size))
    result["classifier_held_out_mode_accuracy"] = clf.accuracy.get(f"native_{fake.shape[1]}", {}).get("mode")
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result


def real_floor(image_size: int = 32, n: int = 10_000, split: str = "all", seed: int = 0, k: int = 5,
               classifier=None, progress: bool = False, copy_of: int | None = None) -> dict[str, object]:
    """The diagnosis of a perfect generator: ``n`` real sprites (seed) against ``n`` others (seed + 1).

    Same protocol and keys as :func:`diagnose`, so its numbers are the floor (KL, FCD) and ceiling
    (coverage, precision, recall) that ``n`` samples allow.

    ``copy_of=M`` scores instead a generator that copies a training set exactly: the ``n`` samples
    are drawn with replacement from M sprites (the set ``train_gan`` draws for ``n_data=M`` and
    ``seed``). Its mode histogram inherits the training set's own unevenness, so its KL is the floor
    of a generator that learns its M training sprites perfectly and nothing else.
    """
    split_modes(split)  # a clear error for an unknown split, before any work
    if copy_of is not None and copy_of < 1:
        raise ShapeError(f"copy_of is a number of training sprites, >= 1; got {copy_of}")
    clf = _classifier_for(classifier, progress)
    if copy_of is None:
        fake = sp.sample_sprites(n, size=image_size, seed=seed, split=split).images
    else:
        pool = sp.sample_sprites(copy_of, size=image_size, seed=seed, split=split).images
        fake = pool[np.random.default_rng(seed).integers(0, copy_of, n)]
    real = sp.sample_sprites(n, size=image_size, seed=seed + 1, split=split).images
    summary = count_modes(fake, clf, split=split).summary()
    out: dict[str, object] = {"model": "real sprites" if copy_of is None else f"a copy of {copy_of} sprites",
                              "image_size": image_size, "n": n, "seed": seed, "reference": split, "k": k,
                              "copy_of": copy_of}
    out.update({key: summary[key] for key in _MODE_KEYS})
    out.update(_metrics(real, fake, clf, k, 512))
    return out


def format_diagnosis(result: dict[str, object]) -> str:
    """A few readable lines from :func:`diagnose`'s dict."""
    lines = [f"{result.get('model')} run {result.get('run', '')} ({result['image_size']}px, "
             f"{result['n']} samples, seed {result['seed']}; reference: {result['reference']})"]
    if result.get("n_knn") is not None and result["n_knn"] != result["n"]:
        lines.append(f"(modes on all {result['n']} samples; precision to Fréchet on the first "
                     f"{result['n_knn']})")
    if result.get("modes_covered") is not None:
        lines.append(f"modes covered      {result['modes_covered']} / {result['n_modes']} "
                     f"({100 * float(result['mode_coverage']):.1f}%)")
        floor = result.get("kl_floor")
        lines.append(f"reverse KL         {float(result['kl']):.4f} nats" + (
            "" if floor is None else f" (a perfect generator: about {float(floor):.4f} from sampling)"))
        if float(result["outside_fraction"] or 0) > 0:
            lines.append(f"outside reference  {100 * float(result['outside_fraction']):.2f}% of samples")
    else:
        lines.append(f"modes              not counted: {result.get('note')}")
    for key, label in (("precision", "precision"), ("recall", "recall"), ("density", "density"),
                       ("coverage", "coverage"), ("frechet_distance", "Fréchet (FCD)")):
        lines.append(f"{label:<18} {float(result[key]):.4f}")
    return "\n".join(lines)
