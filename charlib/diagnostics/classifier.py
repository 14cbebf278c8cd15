"""An attribute and pose classifier for sprites: the ruler that mode counting and PRDC measure with.

To count the modes a generator covers we must say which character every generated image shows.
Stacked MNIST does this with a digit classifier; here a small CNN with seven softmax heads reads a
sprite's four appearance attributes (skin, hair, top, bottom: 6 values each, so 6**4 = 1296
appearance modes) and its pose (action, direction, frame). It is trained only on the 1000
*training* identities and scored on the 296 held-out ones, so a high held-out accuracy means it
reads attributes, not memorised characters. Its penultimate layer is the feature space in which
:mod:`charlib.diagnostics.prdc` computes precision/recall, density/coverage and the Fréchet distance.

:func:`course_classifier` trains it once per image size (a minute or two on an idle 2-core CPU at
32×32, several times that at 64×64), caches it under ``output_dir("classifier_<size>")`` as a
safe-mode ``.keras`` file with a JSON of its held-out accuracies, and afterwards only loads it.
Each model is trained on native renders mixed with resized renders of the other size, and resizes
32×32 and 64×64 sprites to its own size (area averaging down, nearest neighbour up).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from charlib.base.images import check_images
from charlib.config import output_dir, seed_everything
from charlib.data import skeleton as sk
from charlib.data import sprites as sp
from charlib.errors import CharlibError, ShapeError
from charlib.training import hardware
from charlib.training.loop import fit_steps
from charlib.training.trainer import in_batches

__all__ = [
    "APPEARANCE_HEADS", "HEADS", "HEAD_SIZES", "POSE_HEADS", "QUICK_RECIPE", "RECIPE",
    "AttributeClassifier", "course_classifier", "evaluate_classifier", "labels_of", "make_classifier_model",
    "resize_images", "train_classifier"
]

APPEARANCE_HEADS: tuple[str, ...] = sp.ATTRIBUTE_NAMES  # skin, hair, top, bottom
POSE_HEADS: tuple[str, ...] = ("action", "direction", "frame")
HEADS: tuple[str, ...] = APPEARANCE_HEADS + POSE_HEADS
HEAD_SIZES: dict[str, int] = {
    **dict(zip(APPEARANCE_HEADS, sp.ATTRIBUTE_SIZES, strict=True)),
    "action": len(sk.ACTIONS), "direction": len(sk.DIRECTIONS), "frame": sk.N_FRAMES,
}  # fmt: skip
SIZES = (32, 64)

# Bump "version" whenever the recipe changes: a cached classifier with another recipe is retrained.
RECIPE: dict[str, object] = {
    "version": 3, "n_train": 24_000, "epochs": 4, "batch_size": 128, "lr": 2e-3,
    "other_size_fraction": 0.25, "noise_std": 0.04, "feature_dim": 128, "seed": 0,
}  # fmt: skip
# A few seconds of CPU instead of a minute, for smoke runs: its accuracy is far lower (skin ~75%,
# whole mode ~60-70% on held-out identities), so its numbers only check that the pipeline works.
QUICK_RECIPE: dict[str, object] = {**RECIPE, "n_train": 6000, "epochs": 2, "batch_size": 64}


# --------------------------------------------------------------------------------------------------
# images and labels


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 sprites (N, H, H, 3) to float32 pixel values (N, size, size, 3) in [0, 255].

    Shrinking averages pixel areas (a 64 → 32 halving is an exact 2×2 mean); enlarging repeats
    pixels (nearest neighbour), which keeps pixel art crisp. Same size: just a cast.
    """
    arr = check_images(images)
    h, w = arr.shape[1:3]
    if h != w or h < 16:
        raise ShapeError(f"sprites must be square and at least 16 pixels wide, got {h}x{w}")
    x = arr.astype(np.float32)
    if h == size:
        return x
    return tf.image.resize(x, (size, size), method="area" if h > size else "nearest").numpy()


def labels_of(labels: sp.SpriteLabels) -> dict[str, np.ndarray]:
    """The seven heads' integer targets from sprite labels: {head: (N,) int32}."""
    out = {**dict(zip(APPEARANCE_HEADS, labels.attributes.T, strict=True)),
           **{h: getattr(labels, h) for h in POSE_HEADS}}
    return {h: v.astype(np.int32) for h, v in out.items()}


# --------------------------------------------------------------------------------------------------
# the model


def make_classifier_model(image_size: int = 32, width: int = 32, feature_dim: int = 128) -> keras.Model:
    """A small CNN with one softmax head per attribute and pose label: ``{head: logits (N, classes)}``.

    Input: float32 pixel values (N, S, S, 3) in [0, 255] (rescaled inside to [-1, 1]). A full
    resolution 3×3 conv, then stride-2 convs (doubling the channels, at most 128) down to 4×4,
    flatten, the Dense ``"features"`` layer (N, feature_dim) with ReLU, and a linear head per label.
    """
    if image_size not in SIZES:
        raise ShapeError(f"the classifier is built for sizes {SIZES}, got {image_size}")
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0)(inputs)

    def conv(x, filters: int, strides: int):
        x = keras.layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization(momentum=0.9)(x)  # short runs still get usable stats
        return keras.layers.ReLU()(x)

    channels, side, pooled = width // 2, image_size, []
    x = conv(x, channels, 1)
    while side > 4:
        channels = min(2 * channels, 128)
        x = conv(x, channels, 2)
        side //= 2
        if side == 16:  # one extra conv at 16x16, where limbs and hair shapes are a few pixels wide
            x = conv(x, channels, 1)
        if side == 8:  # colours are where they are in any pose: a position-free summary helps
            pooled.append(keras.layers.GlobalAveragePooling2D()(x))
    x = keras.layers.Concatenate()([keras.layers.Flatten()(x), *pooled])
    features = keras.layers.Dense(feature_dim, activation="relu", name="features")(x)
    outputs = {h: keras.layers.Dense(HEAD_SIZES[h], name=h)(features) for h in HEADS}
    return keras.Model(inputs, outputs, name=f"sprite_classifier_{image_size}")


# --------------------------------------------------------------------------------------------------
# the classifier object


@dataclass(eq=False)
class AttributeClassifier:
    """A trained sprite classifier: labels, appearance modes and features of uint8 sprites.

    ``accuracy`` holds the held-out accuracies measured after training (test identities only), e.g.
    ``{"native_32": {"skin": 1.0, ...}, "native_64": {...}}``; ``info`` the recipe and timing.
    """

    model: keras.Model
    image_size: int
    accuracy: dict[str, dict[str, float]] = field(default_factory=dict)
    info: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:  # one pass gives every head's logits and the features
        outputs = {**self.model.output, "features": self.model.get_layer("features").output}
        self._net = keras.Model(self.model.input, outputs)

    def _outputs(self, images: np.ndarray, batch_size: int) -> dict[str, np.ndarray]:
        return in_batches(lambda x: self._net(resize_images(x, self.image_size), training=False),
                          check_images(images), batch_size=batch_size)

    def predict(self, images: np.ndarray, batch_size: int = 512) -> dict[str, np.ndarray]:
        """Predicted labels {head: (N,) int64} for ``skin, hair, top, bottom, action, direction, frame``."""
        out = self._outputs(images, batch_size)
        return {h: out[h].argmax(axis=1).astype(np.int64) for h in HEADS}

    def attributes(self, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """Predicted appearance attributes (N, 4) int64, in ``sprites.ATTRIBUTES`` order."""
        pred = self.predict(images, batch_size)
        return np.stack([pred[h] for h in APPEARANCE_HEADS], axis=1)

    def mode_ids(self, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """Predicted appearance modes (N,) int64 in [0, 1296), via ``sprites.mode_id``."""
        return sp.mode_id(self.attributes(images, batch_size))

    def features(self, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """Penultimate-layer features (N, D) float32, the space PRDC and the Fréchet distance use."""
        return self._outputs(images, batch_size)["features"].astype(np.float32)

    def save(self, folder: str | Path) -> Path:
        """Save atomically into ``folder``: ``classifier.keras`` then ``classifier.json`` (last)."""
        from charlib.base.io import atomic_write_bytes, export_model

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        export_model(self.model, folder / "classifier.keras")
        meta = {"image_size": self.image_size, "held_out_accuracy": self.accuracy, **self.info}
        atomic_write_bytes(folder / "classifier.json", json.dumps(meta, indent=2).encode())
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> AttributeClassifier:
        """Load a classifier saved by :meth:`save` (the model with ``safe_mode=True``)."""
        folder = Path(folder)
        meta_path, model_path = folder / "classifier.json", folder / "classifier.keras"
        if not (meta_path.is_file() and model_path.is_file()):
            raise CharlibError(f"{folder} holds no saved classifier (classifier.json + .keras)")
        meta = json.loads(meta_path.read_text())
        size, accuracy = int(meta.pop("image_size")), meta.pop("held_out_accuracy", {})
        return cls(keras.models.load_model(model_path, safe_mode=True), size, accuracy, info=meta)


# --------------------------------------------------------------------------------------------------
# training and evaluation


def _training_set(image_size: int, n: int, other_fraction: float, seed: int):
    n_other = int(round(n * other_fraction))
    parts = [sp.sample_sprites(n - n_other, size=image_size, seed=seed, split="train"),  # native renders
             sp.sample_sprites(n_other, size=64 if image_size == 32 else 32, seed=seed + 1, split="train")]
    labels = [labels_of(part.labels) for part in parts]
    return (np.concatenate([resize_images(part.images, image_size) for part in parts]),
            {h: np.concatenate([y[h] for y in labels]) for h in HEADS})


def degrade(images: tf.Tensor, seed: tf.Tensor, noise_std: float, blur: float = 0.0,
            jitter: float = 0.0) -> tf.Tensor:
    """The training-time augmentation: imperfect copies of sprites (N, H, W, 3) in [0, 255].

    Each image is mixed with a Gaussian-blurred copy of itself (σ = 1 pixel) by a weight drawn
    uniformly from [0, ``blur``], shifted by a per-image, per-channel colour offset of standard
    deviation ``jitter`` and given pixel noise of standard deviation ``noise_std`` (both in pixel
    units). Generated sprites are soft-edged and slightly off-colour; a classifier that has only
    seen crisp palette colours reads those as the nearest *darker* value (a blurred face mixes
    skin with the outline), which biases the mode histogram it is used to measure.
    """
    fold = tf.random.experimental.stateless_fold_in
    n = tf.shape(images)[0]
    x = images
    if blur:
        taps = np.exp(-0.5 * np.arange(-2.0, 3.0) ** 2)  # Gaussian, σ = 1 pixel, normalised
        taps = tf.constant(taps / taps.sum(), tf.float32)
        kernel = tf.tile((taps[:, None] * taps[None, :])[:, :, None, None], [1, 1, 3, 1])
        blurred = tf.nn.depthwise_conv2d(tf.pad(x, [[0, 0], [2, 2], [2, 2], [0, 0]], mode="SYMMETRIC"),
                                         kernel, [1, 1, 1, 1], "VALID")
        alpha = tf.random.stateless_uniform([n, 1, 1, 1], seed=fold(seed, 1), maxval=blur)
        x = (1.0 - alpha) * x + alpha * blurred
    if jitter:
        x = x + jitter * tf.random.stateless_normal([n, 1, 1, 3], seed=fold(seed, 2))
    return x + noise_std * tf.random.stateless_normal(tf.shape(x), seed=seed)


def train_classifier(image_size: int = 32, *, quick: bool = False, n_train: int | None = None,
                     epochs: int | None = None, seed: int | None = None, progress: bool = True,
                     n_eval: int = 4000, blur: float | None = None,
                     colour_jitter: float | None = None) -> AttributeClassifier:
    """Train a classifier on sprites of the 1000 training identities; score it on the 296 others.

    ``quick`` starts from :data:`QUICK_RECIPE` (seconds, much less accurate) instead of
    :data:`RECIPE`; the other settings override the recipe (``blur`` and ``colour_jitter``: see
    :func:`degrade`). ``accuracy`` is measured on ``n_eval`` held-out sprites at 32×32 and 64×64.
    The progress bar goes to stderr (stdout stays clean for ``--json`` output).
    """
    recipe = dict(QUICK_RECIPE if quick else RECIPE)
    recipe.update({k: v for k, v in {"n_train": n_train, "epochs": epochs, "seed": seed, "blur": blur,
                                     "colour_jitter": colour_jitter}.items() if v is not None})
    seed_, batch = int(recipe["seed"]), int(recipe["batch_size"])
    if int(recipe["n_train"]) < batch or int(recipe["epochs"]) < 1:
        raise CharlibError(f"need n_train >= {batch} and epochs >= 1, got {recipe['n_train']}, "
                           f"{recipe['epochs']}")
    seed_everything(seed_)
    start = time.perf_counter()
    x, y = _training_set(image_size, int(recipe["n_train"]), float(recipe["other_size_fraction"]), seed_)
    model = make_classifier_model(image_size, feature_dim=int(recipe["feature_dim"]))
    opt = keras.optimizers.Adam(float(recipe["lr"]))
    opt.build(model.trainable_variables)
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    noise_std = 127.5 * float(recipe["noise_std"])  # in pixel units, as is the colour jitter
    blur, jitter = float(recipe.get("blur", 0.0)), 127.5 * float(recipe.get("colour_jitter", 0.0))

    @hardware.graph
    def step(xb, yb, step_seed):
        xb = degrade(xb, step_seed, noise_std, blur, jitter)
        with tf.GradientTape() as tape:
            out = model(xb, training=True)
            loss = tf.add_n([ce(yb[h], out[h]) for h in HEADS])
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    rng = np.random.default_rng(seed_)
    n_batches = len(x) // batch
    total = n_batches * int(recipe["epochs"])
    lr_schedule = np.cos(np.linspace(0, np.pi / 2, total)) * float(recipe["lr"])  # decay to ~0

    def batches():  # a new order every epoch; the learning rate decays step by step
        for t in range(total):
            if t % n_batches == 0:
                order = rng.permutation(len(x))
            idx = order[(t % n_batches) * batch : (t % n_batches + 1) * batch]
            opt.learning_rate.assign(lr_schedule[t])
            yield (tf.constant(x[idx]), {h: tf.constant(y[h][idx]) for h in HEADS},
                   tf.constant([seed_, t], tf.int64))

    fit_steps(lambda b: {"loss": step(*b)}, batches(), steps=total, log_every=total, progress=progress,
              description=f"classifier {image_size}px", leave=False)
    seconds = round(time.perf_counter() - start, 1)
    clf = AttributeClassifier(model, image_size, info={"recipe": recipe, "train_seconds": seconds})
    clf.accuracy = {f"native_{s}": evaluate_classifier(clf, size=s, n=n_eval, seed=seed_ + 7)
                    for s in SIZES}
    return clf


def evaluate_classifier(classifier: AttributeClassifier, size: int = 32, n: int = 4000,
                        seed: int = 1) -> dict[str, float]:
    """Accuracy per head (and of the whole appearance mode) on ``n`` native renders at ``size`` of
    the 296 held-out identities the classifier never saw."""
    s = sp.sample_sprites(n, size=size, seed=seed, split="test")
    pred = classifier.predict(s.images)
    truth = labels_of(s.labels)
    acc = {h: float(np.mean(pred[h] == truth[h])) for h in HEADS}
    return acc | {"mode": float(np.mean(np.all([pred[h] == truth[h] for h in APPEARANCE_HEADS], axis=0)))}


def course_classifier(image_size: int = 32, progress: bool = True, folder: str | Path | None = None,
                      quick: bool = False) -> AttributeClassifier:
    """The course's classifier for ``image_size`` (32 or 64), cached in ``folder`` (default
    ``output_dir("classifier_<size>")``, ``_quick`` appended for the ``quick`` recipe of smoke runs)
    and trained again when that cache is absent, unreadable or made with another recipe."""
    if image_size not in SIZES:
        raise ShapeError(f"course_classifier is built for image sizes {SIZES}, got {image_size}; "
                         "sprites of other sizes can be resized to one of these")
    name = f"classifier_{image_size}" + ("_quick" if quick else "")
    path = Path(folder) if folder is not None else output_dir(name)
    try:
        clf = AttributeClassifier.load(path)
        if clf.info.get("recipe") == (QUICK_RECIPE if quick else RECIPE) and clf.image_size == image_size:
            return clf
    except (CharlibError, OSError, ValueError, KeyError, json.JSONDecodeError):
        pass
    clf = train_classifier(image_size, quick=quick, progress=progress)
    clf.save(path)
    return clf
