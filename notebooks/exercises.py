"""Exercise checks: a clear pass, or a hint that points the way without giving the answer away.

Self-study needs feedback. Each course exercise that has a definite answer has a ``check_...``
function here: call it with your answer, and it says whether the answer is right. When it is not, it
gives a hint: what kind of mistake the answer looks like (a common slip, a wrong unit, a swapped
argument) and where to look, but never the expected value itself, so that the solution, hidden in the
notebook's collapsible ``Solution`` block, stays the place to look it up. The checks compute the truth
from ``charlib`` itself, not from stored numbers, so they stay right if the data or the code changes.

Every check returns a :class:`Feedback`, which prints as one line starting with ``PASS`` or
``NOT YET``, and is truthy exactly when the answer passes. An answer left as ``None`` gets a reminder
rather than an error.

This module lives beside the notebooks rather than in ``charlib``: it grades this course's
exercises and is no use outside them. A notebook's kernel starts in the notebook's folder, so
``import exercises`` finds it there (the classroom copy, ``make student``, carries it along).
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from charlib.config import PROFILES, Profile
from charlib.data import skeleton as sk
from charlib.data import sprites

NOT_ANSWERED = "No answer yet: replace the None (or ...) with your answer and run the cell again."


@dataclass(frozen=True)
class Feedback:
    """The outcome of a check: ``passed`` and a message (praise, or a hint that hides the answer)."""

    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return f"{'PASS' if self.passed else 'NOT YET'}: {self.message}"

    def __repr__(self) -> str:
        return str(self)


def _ok(message: str) -> Feedback:
    return Feedback(True, message)


def _hint(message: str) -> Feedback:
    return Feedback(False, message)


def _unanswered(*answers: object) -> bool:
    return any(a is None or a is Ellipsis for a in answers)


class _LearnerError(Exception):
    """The learner's code raised: the check answers with a hint instead of crashing."""


def _learner(fn: Callable, *args: Any, what: str = "function") -> Any:
    """``fn(*args)``, a function the learner wrote; an error it raises becomes the check's hint."""
    try:
        return fn(*args)
    except Exception as err:
        raise _LearnerError(f"Your {what} raised {type(err).__name__}: {err}") from err


def _check(*answers: str) -> Callable:
    """Make a check of a function: when any argument named in ``answers`` is still None (or ...),
    the reminder :data:`NOT_ANSWERED`; when the learner's code raises (see :func:`_learner`), a
    hint with the error; else what the function says."""

    def decorate(check: Callable[..., Feedback]) -> Callable[..., Feedback]:
        signature = inspect.signature(check)

        @functools.wraps(check)
        def checked(*args: Any, **kwargs: Any) -> Feedback:
            given = signature.bind(*args, **kwargs).arguments
            if _unanswered(*(given.get(name) for name in answers)):
                return _hint(NOT_ANSWERED)
            try:
                return check(*args, **kwargs)
            except _LearnerError as err:
                return _hint(str(err))

        return checked

    return decorate


def _number(value: object) -> float | None:
    # A plain float from a Python number, a NumPy scalar, a size-1 array or a TF scalar; else None.
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if arr.size != 1 or not np.isfinite(arr).all():
        return None
    return float(arr.reshape(()))


def _close(value: float, truth: float, rel: float = 1e-3, abs_: float = 1e-4) -> bool:
    return math.isclose(value, truth, rel_tol=rel, abs_tol=abs_)


# ----------------------------------------------------------------------------------- 00_setup


@_check("profile")
def check_full_profile(profile: object) -> Feedback:
    """00_setup, exercise 1: ``profile`` should be the full profile, asked for by name."""
    if not isinstance(profile, Profile):
        return _hint(f"Expected a charlib.config.Profile, got {type(profile).__name__}. "
                     "charlib.config.profile(...) returns one.")
    if profile.name != "full":
        return _hint(f"This is the {profile.name!r} profile. charlib.config.profile accepts a name as "
                     "its argument; which name gives the real sizes?")
    if profile != PROFILES["full"]:
        return _hint("Named 'full' but with different sizes: use the profile charlib.config gives you, "
                     "unchanged.")
    return _ok(f"the full profile: {profile.n_sprites} sprites of {profile.image_size}x"
               f"{profile.image_size}, batch {profile.batch_size}.")


@_check("sample")
def check_test_walkers(sample: object, n: int) -> Feedback:
    """00_setup, exercise 3: ``sample`` (a ``sprites.Sprites``) should hold ``n`` test characters
    walking left."""
    if not isinstance(sample, sprites.Sprites):
        return _hint(f"Expected what sprites.sample_sprites returns, got {type(sample).__name__}.")
    labels = sample.labels
    if len(sample) != n:
        return _hint(f"There are {len(sample)} sprites, and the exercise asks for {n}: check the first "
                     "argument of sample_sprites.")
    _, test = sprites.identity_split()
    if not np.isin(labels.mode, test).all():
        return _hint("Some of these characters are training characters. sample_sprites has an "
                     "argument that restricts the identities to one split.")
    if not (labels.action == sk.ACTIONS.index("walk")).all():
        return _hint("Not every sprite is walking: restrict the actions (a tuple of names).")
    if not (labels.direction == sk.DIRECTIONS.index("left")).all():
        return _hint("Not every sprite faces left: restrict the directions (a tuple of names).")
    return _ok(f"{n} test characters, all walking left.")


# ------------------------------------------------------------------------------------ 01_data


@_check("n_images")
def check_sprite_world_size(n_images: object) -> Feedback:
    """01_data, exercise 1: the number of labelled sprite images at one image size."""
    value = _number(n_images)
    truth = sprites.N_MODES * len(sk.ACTIONS) * len(sk.DIRECTIONS) * sk.N_FRAMES
    if value is None:
        return _hint("Give one whole number.")
    if value == truth:
        return _ok(f"{truth:,} labelled images: modes x actions x directions x frames.")
    if value == sprites.N_MODES:
        return _hint("That counts characters only. Each character can also take several poses.")
    if value in (sprites.N_MODES * len(sk.ACTIONS), sprites.N_MODES * len(sk.ACTIONS) * sk.N_FRAMES,
                 sprites.N_MODES * len(sk.DIRECTIONS) * sk.N_FRAMES):
        return _hint("Close: one of the pose labels is missing from your product.")
    if value > truth:
        return _hint("Too many. Count the choices per label: sprites.N_MODES, len(sk.ACTIONS), "
                     "len(sk.DIRECTIONS) and sk.N_FRAMES, and multiply them once each.")
    return _hint("Too few. Multiply the number of choices of every label: the mode (which already "
                 "combines the four attributes), the action, the direction and the frame.")


@_check("modes")
def check_skirt_modes(modes: object) -> Feedback:
    """01_data, exercise 2: the mode ids of all test-split characters that wear a skirt."""
    try:
        given = np.asarray(modes).astype(np.int64).ravel()
    except (TypeError, ValueError):
        return _hint("Give the mode ids as a list or an array of integers.")
    _, test = sprites.identity_split()
    styles = np.array(sprites.ATTRIBUTES[3].styles)
    truth = test[styles[sprites.attributes_of(test)[:, 3]] == "skirt"]
    if len(set(given.tolist())) != len(given):
        return _hint("Some ids appear more than once; each character should appear once.")
    if np.array_equal(np.sort(given), np.sort(truth)):
        return _ok(f"all {len(truth)} test characters in skirts, and nothing else.")
    train, _ = sprites.identity_split()
    if np.isin(given, train).any():
        return _hint("Some of these are training characters: start from the test split "
                     "(sprites.identity_split()).")
    bottoms = styles[sprites.attributes_of(given)[:, 3]] if len(given) else np.array([])
    if (bottoms != "skirt").any():
        return _hint("Some of these characters do not wear a skirt. The bottom is attribute 3; "
                     "ATTRIBUTES[3].styles says which of its values are skirts.")
    return _hint("Every id you gave is right, but some are missing: there is more than one skirt "
                 "colour.")


@_check("frame", "mirrored_frame")
def check_front_mirror(frame: object, mirrored_frame: object) -> Feedback:
    """01_data, exercise 3: which frame of the front walk looks like ``frame`` mirrored sideways."""
    f, g = _number(frame), _number(mirrored_frame)
    if f is None or g is None or f != int(f) or not 0 <= f < sk.N_FRAMES:
        return _hint(f"Give two frame numbers between 0 and {sk.N_FRAMES - 1}.")
    attributes = sprites.attributes_of(0)
    frames = sprites.cycle(attributes, "walk", "front", size=32)
    mirrored = frames[int(f)][:, ::-1]
    truth = [k for k in range(sk.N_FRAMES) if np.array_equal(frames[k], mirrored)]
    if int(g) in truth:
        return _ok(f"frame {int(f)} mirrored is a picture of frame {int(g)}, so a flip would keep a "
                   "wrong frame label.")
    if int(g) == int(f):
        return _hint("A front view is not symmetric mid-stride: which leg is forward after the flip? "
                     "Compare the mirrored picture with every frame using np.array_equal.")
    return _hint("Not that one. Render the 8 frames of the front walk, mirror one with [:, ::-1] and "
                 "compare it with each frame using np.array_equal.")


# -------------------------------------------------------------------------------- 02_gan_maths


@_check("d_star", "d_loss")
def check_perfect_generator(d_star: object, d_loss: object) -> Feedback:
    """02_gan_maths, exercise 1: D*(x) and the discriminator's BCE loss when p_g = p_data."""
    d, loss = _number(d_star), _number(d_loss)
    if d is None or loss is None:
        return _hint("Give two numbers: the value of D*(x) and the BCE loss.")
    if not _close(d, 0.5):
        return _hint("Not D*(x) yet: put p_g = p_data into D* = p_data / (p_data + p_g).")
    if _close(loss, math.log(2)):
        return _hint("That is the loss on the real half only: the BCE loss adds the real and the fake "
                     "terms.")
    if _close(loss, -math.log(4)):
        return _hint("That is the value V(D*, G). The loss the discriminator minimises has the "
                     "opposite sign.")
    if not _close(loss, math.log(4)):
        return _hint("D* is right; the loss is not. Write the BCE loss with D = D* on both terms.")
    return _ok("D* is a coin toss everywhere, and the loss is log 4. A loss near it during training "
               "means D cannot tell real from fake with its current weights, not that G is perfect.")


@_check("js")
def check_disjoint_js(js: object) -> Feedback:
    """02_gan_maths, exercise 2: the JS divergences (nats) of disjoint uniform pairs, one or several."""
    try:
        values = np.asarray(js, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        return _hint("Give the divergences as numbers (a list for several distances).")
    if values.size == 0 or not np.isfinite(values).all():
        return _hint("Give at least one finite number.")
    if np.allclose(values, math.log(2), rtol=1e-3):
        return _ok("the same value at every distance, so its gradient with respect to the distance is "
                   "0: an optimal discriminator gives a far-away generator no direction.")
    if np.allclose(values, 1.0, rtol=1e-3):
        return _hint("That is the value in bits. toys.js_divergence and the course work in nats.")
    if np.ptp(values) > 1e-3:
        return _hint("Your values change with the distance. Do the supports overlap? Check the grid "
                     "covers both intervals and that each density integrates to 1.")
    return _hint("Constant, as it should be, but not the right constant: on disjoint supports the "
                 "mixture m is p/2 where p lives; work out KL(p || m) from that.")


@_check("result", "counts")
def check_toy_mode_counts(result: object, counts: object) -> Feedback:
    """02_gan_maths, exercises 3 and 4: ``counts``, your list of the modes captured at each snapshot
    of ``result`` (a run of toys.train_toy_gan on the ring of 8 Gaussians)."""
    snapshots = getattr(result, "snapshots", None)
    if not snapshots:
        return _hint("Pass the result of toys.train_toy_gan(...) first, then your counts.")
    from charlib.diagnostics import toys

    ring = toys.ring()
    truth = [int(ring.metrics(s.samples)["modes_captured"]) for s in snapshots]
    try:
        got = [int(c) for c in counts]  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return _hint("Give a list of whole numbers, one per snapshot (result.snapshots).")
    if len(got) != len(truth):
        return _hint(f"Your run has {len(truth)} snapshots (step 0 included); give one count for each.")
    if got == truth:
        return _ok(f"your run ends with {truth[-1]} of 8 modes. Compare the whole list with the "
                   "non-saturating run's, not only the last number.")
    if got == [int(ring.metrics(s.samples)["modes_captured"]) for s in snapshots[::-1]]:
        return _hint("The counts are in reverse order: the first snapshot is step 0.")
    return _hint("Count, at each snapshot, ring.metrics(snapshot.samples)['modes_captured'] (section 7 "
                 "prints the same for the non-saturating run).")


# ------------------------------------------------------------------------------------ 03_dcgan


@_check("d_loss", "g_loss")
def check_hinge_at_zero(d_loss: object, g_loss: object) -> Feedback:
    """03_dcgan, exercise 1: the hinge losses of D and G when every score is 0."""
    d, g = _number(d_loss), _number(g_loss)
    if d is None or g is None:
        return _hint("Give two numbers: the discriminator's and the generator's hinge loss.")
    if not _close(d, 2.0):
        if _close(d, 1.0):
            return _hint("The discriminator's hinge loss has two terms, one for real and one for fake "
                         "pictures; add both.")
        return _hint("Not L_D: put s = 0 into E[max(0, 1 - s(x))] + E[max(0, 1 + s(G(z)))].")
    if not _close(g, 0.0, abs_=1e-6):
        return _hint("L_D is right. The generator's hinge loss is minus the mean score of the fakes.")
    return _ok("hinge losses at zero scores. Neither is a cross-entropy, so their values cannot be "
               "compared with the non-saturating run's.")


WIDTHS = (8, 16, 32, 64)
"""03_dcgan, exercise 2: the widths whose parameter counts the learner compares."""


@functools.cache
def _parameter_counts(width: int) -> tuple[int, int]:
    from charlib.models import dcgan

    return (int(dcgan.make_generator(128, 64, width).count_params()),
            int(dcgan.make_discriminator(64, width).count_params()))


@_check("counts", "exception_layer")
def check_width_growth(counts: object, exception_layer: object) -> Feedback:
    """03_dcgan, exercise 2: ``counts``, ``{width: (generator, discriminator) parameters}`` at 64x64
    with a 128-D latent for the widths 8, 16, 32 and 64, and the name of the generator's layer
    whose weights grow only linearly with the width."""
    if not isinstance(counts, dict) or sorted(counts) != list(WIDTHS):
        return _hint(f"Give a dict with one entry per width {WIDTHS}: {{width: (generator, "
                     "discriminator)}}.")
    truth = {w: _parameter_counts(w) for w in WIDTHS}
    try:
        got = {w: (int(g), int(d)) for w, (g, d) in counts.items()}
    except (TypeError, ValueError):
        return _hint("Each entry should be two whole numbers: (generator, discriminator) parameters.")
    if got == {w: (d, g) for w, (g, d) in truth.items()}:
        return _hint("The two counts are swapped: the generator comes first.")
    if got != truth:
        return _hint("Not the counts of the course's networks at 64x64: build "
                     "dcgan.make_generator(128, 64, width) and dcgan.make_discriminator(64, width) "
                     "and call count_params() on each.")
    if "dense" not in str(exception_layer).lower():
        return _hint("The counts are right; the layer is not. Which generator layer does not map "
                     "channels to channels, so that only one of its sizes depends on the width?")
    d_growth = truth[64][1] / truth[32][1]
    return _ok(f"the discriminator grows {d_growth:.2f}-fold from width 32 to 64, the generator less, "
               "because its Dense layer from z is linear in the width.")


@_check("d_loss_min")
def check_sigmoid_logits_floor(d_loss_min: object) -> Feedback:
    """03_dcgan, exercise 3: the smallest possible L_D when a sigmoid output is fed to the loss as a
    logit."""
    value = _number(d_loss_min)
    if value is None:
        return _hint("Give one number.")
    softplus = lambda x: math.log1p(math.exp(x))  # noqa: E731 - a one-line formula
    truth = softplus(-1.0) + softplus(0.0)
    if _close(value, truth):
        return _ok("the floor of the broken loss: even a perfect discriminator cannot go below it, "
                   "and the gradients near it are tiny.")
    if _close(value, 0.0, abs_=1e-3):
        return _hint("0 is the floor of the correct loss. With the extra sigmoid, which 'logits' can "
                     "the loss see at most and at least?")
    return _hint("The loss sees p = sigmoid(s), which lies in (0, 1), as a logit. A perfect "
                 "discriminator pushes p to 1 on real and 0 on fake pictures; evaluate the BCE on "
                 "logits (softplus(-p) for real, softplus(p) for fake) there.")


STEP_TWINS = dict(image_size=16, latent_dim=8, g_width=4, d_width=4, batch_size=8, ema_decay=None)
"""03_dcgan, exercise 5: the tiny course DCGAN on which a learner's step is compared with charlib's."""


@functools.cache
def _twin_models() -> tuple[Any, Any, list[np.ndarray], list[np.ndarray]]:
    # Two tiny course GANs, built once, and the initial weights of their generator and discriminator.
    from charlib.training.gan import GanConfig, build_gan

    config = GanConfig(**STEP_TWINS)
    mine, reference = build_gan(config), build_gan(config)
    return mine, reference, mine.generator.get_weights(), mine.discriminator.get_weights()


def _twin_gans() -> tuple[Any, Any, Any]:
    # The twin GANs reset to identical weights, step 0 and fresh optimisers, and a batch of sprites.
    import keras
    import tensorflow as tf

    from charlib.training.gan import GanConfig, learning_rate

    config = GanConfig(**STEP_TWINS)
    mine, reference, g_weights, d_weights = _twin_models()
    for gan in (mine, reference):
        gan.generator.set_weights(g_weights)
        gan.discriminator.set_weights(d_weights)
        gan.step.assign(0)
        gan.compile(*(keras.optimizers.Adam(learning_rate(lr, config), beta_1=config.beta_1,
                                            beta_2=config.beta_2) for lr in (config.lr_g, config.lr_d)))
    images = sprites.sample_sprites(config.batch_size, size=config.image_size, seed=5).images
    return mine, reference, tf.constant(images, tf.float32) / 127.5 - 1.0


def _two_losses(out: object) -> tuple[float, float] | None:
    # (d_loss, g_loss) from a pair or a dict with those keys, as plain floats; None if neither.
    if isinstance(out, dict) and {"d_loss", "g_loss"} <= set(out):
        out = (out["d_loss"], out["g_loss"])
    if not isinstance(out, tuple | list) or len(out) != 2:
        return None
    d, g = _number(out[0]), _number(out[1])
    return None if d is None or g is None else (d, g)


def _same_weights(a: Any, b: Any) -> bool:
    pairs = zip(a.trainable_weights, b.trainable_weights, strict=True)
    return all(np.allclose(np.asarray(x), np.asarray(y), rtol=1e-4, atol=1e-6) for x, y in pairs)


@_check("train_step")
def check_train_step(train_step: Callable[[object, object], object], n_steps: int = 3) -> Feedback:
    """03_dcgan, exercise 5: your ``train_step(gan, real)``, which updates a charlib ``GAN`` on a
    batch of real images in [-1, 1] with the non-saturating loss and returns ``(d_loss, g_loss)``.
    It is compared with ``GAN.train_step`` on twin tiny GANs (same weights, same batch), then run
    ``n_steps`` more times."""
    if not callable(train_step):
        return _hint("Give a function train_step(gan, real) that returns (d_loss, g_loss).")
    mine, reference, real = _twin_gans()
    got = _two_losses(_learner(train_step, mine, real, what="step"))
    if got is None:
        return _hint("Your step should return two finite numbers, (d_loss, g_loss).")
    logs = reference.train_step(real)
    truth = float(logs["d_loss"]), float(logs["g_loss"])
    if _close(got[0], truth[1], rel=1e-4) and _close(got[1], truth[0], rel=1e-4):
        return _hint("The two losses come back swapped: return (d_loss, g_loss).")
    if not _close(got[0], truth[0], rel=1e-4):
        return _hint("The discriminator's loss differs from charlib's on the same weights and batch. "
                     "Draw z with gan.noise(n, gan.step), call the networks with training=True, "
                     "score the real and the fake batch in two separate calls (BatchNorm statistics "
                     "are per call), and use losses.d_loss_minimax on the logits.")
    if not _close(got[1], truth[1], rel=1e-4):
        return _hint("The discriminator's loss is right, the generator's is not. It is "
                     "losses.g_loss_nonsaturating(fake_logits), on the logits of the same forward "
                     "pass that gave d_loss, before D is updated.")
    if not _same_weights(mine.discriminator, reference.discriminator):
        return _hint("The losses are right, but the discriminator's weights moved differently: apply "
                     "the gradients of d_loss with gan.d_optimizer to discriminator.trainable_variables.")
    if not _same_weights(mine.generator, reference.generator):
        return _hint("The discriminator's update is right, the generator's is not. Take G's gradient "
                     "from the same forward pass, before D is updated (two tapes, or one persistent "
                     "tape), and apply it with gan.g_optimizer to generator.trainable_variables.")
    later = [_two_losses(_learner(train_step, mine, real, what="step")) for _ in range(n_steps)]
    if any(pair is None for pair in later):
        return _hint("A later step returned a loss that is not finite: check the step on its own "
                     "variables only.")
    return _ok(f"your step matches GAN.train_step to float32 round-off on the same weights and batch, "
               f"and {n_steps} more steps give finite losses.")


# -------------------------------------------------------------------------------- 04_vae_maths


def _kl_1d(m1: float, s1: float, m2: float, s2: float) -> float:
    return math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5


@_check("kl")
def check_gaussian_kl(kl: Callable[[float, float, float, float], float]) -> Feedback:
    """04_vae_maths, exercise 1: ``kl(mu1, sigma1, mu2, sigma2)``, your formula for
    KL(N(mu1, sigma1^2) || N(mu2, sigma2^2)), tried at several points."""
    if not callable(kl):
        return _hint("Give a function kl(mu1, sigma1, mu2, sigma2) that returns a number.")
    points = [(0.3, 0.5, -1.0, 2.0), (0.0, 1.0, 0.0, 1.0), (1.5, 0.2, 0.0, 1.0), (-2.0, 3.0, 1.0, 0.5)]
    returned = [_learner(kl, *p) for p in points]
    if all(_unanswered(r) for r in returned):
        return _hint("No answer yet: your function returns None. Make it return your formula's value.")
    got = [_number(r) for r in returned]
    if any(g is None for g in got):
        return _hint("Your function should return one finite number.")
    truth = [_kl_1d(*p) for p in points]
    if all(_close(g, t) for g, t in zip(got, truth, strict=True)):
        return _ok("your KL matches the closed form at every test point.")
    if not _close(got[1], 0.0, abs_=1e-6):
        return _hint("The KL of a distribution to itself must be 0; yours is not at mu1 = mu2 = 0, "
                     "sigma1 = sigma2 = 1. Check the constant term.")
    swapped = [_kl_1d(m2, s2, m1, s1) for m1, s1, m2, s2 in points]
    if all(_close(g, t) for g, t in zip(got, swapped, strict=True)):
        return _hint("That is KL(p || q), the other direction: the KL is not symmetric. The "
                     "expectation is under q = N(mu1, sigma1^2).")
    return _hint("Not yet. Write log q(z) - log p(z), then take its expectation under q using "
                 "E[(z - mu1)^2] = sigma1^2 and E[(z - mu2)^2] = sigma1^2 + (mu1 - mu2)^2.")


@_check("posterior")
def check_conjugate_posterior(posterior: Callable[[float, float], tuple[float, float]]) -> Feedback:
    """04_vae_maths, exercise 2: ``posterior(x, s)`` -> (mean, variance) of p(z | x) for
    z ~ N(0, 1) and x | z ~ N(z, s^2), tried at several points."""
    if not callable(posterior):
        return _hint("Give a function posterior(x, s) that returns two numbers, (mean, variance).")
    points = [(1.5, 0.5), (-2.0, 0.1), (0.7, 2.0), (3.0, 1.0)]
    returned = [_learner(posterior, *p) for p in points]
    if all(_unanswered(r) for r in returned):
        return _hint("No answer yet: your function returns None. Make it return (mean, variance).")
    try:
        got = [(_number(m), _number(v)) for m, v in returned]  # type: ignore[misc]
    except (TypeError, ValueError):
        return _hint("Return two numbers, (mean, variance).")
    if any(m is None or v is None for m, v in got):
        return _hint("Return two finite numbers, (mean, variance).")
    truth = [(x / (1 + s**2), s**2 / (1 + s**2)) for x, s in points]
    means_ok = all(_close(g[0], t[0]) for g, t in zip(got, truth, strict=True))
    vars_ok = all(_close(g[1], t[1]) for g, t in zip(got, truth, strict=True))
    if means_ok and vars_ok:
        return _ok("that is the true posterior: with q equal to it, the ELBO gap KL(q || p(z | x)) is 0.")
    if vars_ok and all(_close(g[0], x) for g, (x, _) in zip(got, points, strict=True)):
        return _hint("The variance is right, but the mean ignores the prior: the prior N(0, 1) pulls "
                     "the estimate of z towards 0, more so when s is large.")
    if means_ok and all(_close(g[1], math.sqrt(t[1])) for g, t in zip(got, truth, strict=True)):
        return _hint("The mean is right; the second number should be a variance, not a standard "
                     "deviation.")
    if means_ok:
        return _hint("The mean is right, the variance is not. Seeing x should make you surer of z "
                     "than either the prior (variance 1) or the likelihood (variance s^2) alone.")
    return _hint("Multiply the two Gaussian densities in z and complete the square (or compare with "
                 "true_posterior in section 2).")


@_check("rate_beta_to_0", "rate_beta_to_inf")
def check_rate_limits(rate_beta_to_0: object, rate_beta_to_inf: object) -> Feedback:
    """04_vae_maths, exercise 3: the rate R(beta) of the conjugate model, in nats, as beta -> 0 and
    as beta -> infinity (math.inf for an unbounded one)."""
    try:
        small, large = float(rate_beta_to_0), float(rate_beta_to_inf)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _hint("Give two numbers (math.inf counts).")
    if math.isnan(small) or math.isnan(large):
        return _hint("Give numbers, not NaN (math.inf counts).")
    if small < 0 or large < 0:
        return _hint("The rate is a KL divergence averaged over the data: it is never negative.")
    if math.isinf(small) and _close(large, 0.0, abs_=1e-3):
        return _ok("a vanishing KL weight lets the code grow without limit (a plain autoencoder), "
                   "and an overwhelming one collapses the posterior onto the prior.")
    if _close(small, 0.0, abs_=1e-3) and math.isinf(large):
        return _hint("The two limits are swapped: beta multiplies the rate, so which limit makes "
                     "spending nats on the code free?")
    if not math.isinf(small):
        return _hint("As beta -> 0 the posterior variance v* goes to 0: what does -log v* do in the "
                     "rate? Try rate_distortion(1e-6) and rate_distortion(1e-12).")
    return _hint("Your first limit is right. As beta grows, where do m* and v* go, and what is "
                 "the KL of the prior to itself?")


@_check("variance")
def check_baseline_variance(variance: object, mu: float, sigma: float) -> Feedback:
    """04_vae_maths, exercise 4: the variance of the score-function estimator of d/dmu E[z^2],
    z ~ N(mu, sigma^2), with the baseline b = mu^2 + sigma^2 (exact, or a Monte Carlo estimate)."""
    v = _number(variance)
    if v is None:
        return _hint("Give the variance as one finite number.")
    truth = 8 * mu**2 + 10 * sigma**2  # of 2 mu eps^2 + sigma (eps^3 - eps), eps ~ N(0, 1)
    plain = _score_variance_without_baseline(mu, sigma)
    if math.isclose(v, truth, rel_tol=0.05):
        return _ok("the baseline removes part of the variance, but not the part that only the "
                   "derivative of f (the reparameterisation trick) can remove.")
    if math.isclose(v, plain, rel_tol=0.05):
        return _hint("That is the variance without the baseline: subtract b = mu^2 + sigma^2 from "
                     "f(z) before multiplying by the score.")
    if math.isclose(v, 4 * sigma**2, rel_tol=0.05):
        return _hint("That is the reparameterised estimator's variance. The exercise asks for the "
                     "score function with a baseline.")
    return _hint("Write z = mu + sigma eps: the estimator becomes a polynomial in eps; use "
                 "E[eps^2] = 1, E[eps^4] = 3, E[eps^6] = 15 (or estimate it from z_fixed).")


def _score_variance_without_baseline(mu: float, sigma: float) -> float:
    # Var[z^2 (z - mu) / sigma^2] for z ~ N(mu, sigma^2), by Gauss-Hermite quadrature (exact here)
    eps, w = np.polynomial.hermite_e.hermegauss(20)
    w = w / w.sum()
    est = (mu + sigma * eps) ** 2 * eps / sigma
    return float(np.sum(w * est**2) - np.sum(w * est) ** 2)


# ------------------------------------------------------------------------------------- 05_vae


@_check("sigma", "weight")
def check_reconstruction_weight(sigma: object, weight: object) -> Feedback:
    """05_vae, exercise 3: the weight of the summed squared error in the Gaussian NLL at ``sigma``."""
    s, w = _number(sigma), _number(weight)
    if s is None or w is None or s <= 0:
        return _hint("Give sigma (> 0) and your weight as two numbers.")
    truth = 1.0 / (2.0 * s**2)
    if _close(w, truth):
        return _ok(f"at sigma = {s:g} each unit of squared error costs {w:g} nats, against a KL "
                   "weight of 1.")
    if _close(w, 1.0 / s**2):
        return _hint("Off by a factor of 2: look at the exponent of the Gaussian density again.")
    if _close(w, 1.0 / (2.0 * s)):
        return _hint("The density depends on the squared error over the variance, not over sigma.")
    return _hint("Write -log N(x; mean, sigma^2) for one pixel and read off the factor in front of "
                 "(x - mean)^2 (notebook 04, section 5).")


@_check("kl_per_dim", "n_active")
def check_active_dimensions(kl_per_dim: object, threshold: float, n_active: object) -> Feedback:
    """05_vae, exercises 1 and 4: ``n_active``, your count of dimensions whose mean KL over images
    exceeds ``threshold`` nats, for ``kl_per_dim`` (N, latent_dim)."""
    kl = np.asarray(kl_per_dim, dtype=np.float64)
    if kl.ndim != 2:
        return _hint(f"kl_per_dim should have shape (N, latent_dim), got {kl.shape}: use "
                     "vae.terms(x)['kl_per_dim'].numpy().")
    value = _number(n_active)
    if value is None:
        return _hint("Give the count as one whole number.")
    truth = int(np.sum(kl.mean(axis=0) > threshold))
    if value == truth:
        return _ok(f"{truth} of {kl.shape[1]} dimensions carry more than {threshold} nats on average.")
    if value == int(np.sum(kl.mean(axis=1) > threshold)):
        return _hint("You averaged over the wrong axis: average over the images (axis 0), one number "
                     "per latent dimension.")
    if value == kl.shape[1] - truth:
        return _hint("You counted the inactive ones.")
    return _hint("Average kl_per_dim over the images, one number per dimension, then count those "
                 "above the threshold.")


# ------------------------------------------------------------------------------- 06_animation


def _reference_nlerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    from charlib import animation as an

    line = an.lerp(a, b, t)
    target = (1 - t)[:, None] * np.linalg.norm(a) + t[:, None] * np.linalg.norm(b)
    return line / np.linalg.norm(line, axis=1, keepdims=True) * target


def _angular_steps(path: np.ndarray) -> np.ndarray:
    unit = path / np.linalg.norm(path, axis=1, keepdims=True)
    return np.arccos(np.clip((unit[1:] * unit[:-1]).sum(axis=1), -1.0, 1.0))


@_check("nlerp", "constant_angular_speed")
def check_nlerp(nlerp: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
                constant_angular_speed: object) -> Feedback:
    """06_animation, exercise 1: your ``nlerp(a, b, t)`` (T, D), tried on random 64-D codes, and
    whether its directions move at a constant angular speed (True or False)."""
    if not callable(nlerp):
        return _hint("Give a function nlerp(a, b, t) that returns the (T, D) path.")
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal(64), rng.standard_normal(64)
    t = np.linspace(0.0, 1.0, 9)
    got = np.asarray(_learner(nlerp, a, b, t), dtype=np.float64)
    truth = _reference_nlerp(a, b, t)
    if got.shape == () and np.isnan(got):
        return _hint("Your function returns nothing usable (None?): make it return the path.")
    if got.shape != truth.shape:
        return _hint(f"For 9 values of t and 64-D codes the path should have shape {truth.shape}, "
                     f"got {got.shape}.")
    if not (np.allclose(got[0], a) and np.allclose(got[-1], b)):
        return _hint("The path should start at a (t = 0) and end at b (t = 1).")
    norms, target = np.linalg.norm(got, axis=1), np.linalg.norm(truth, axis=1)
    if not np.allclose(norms, target, rtol=1e-4):
        return _hint("The norms are off: each point's norm should be the linear blend of |a| and |b| "
                     "at that t, like slerp's.")
    if not np.allclose(got, truth, rtol=1e-4, atol=1e-6):
        return _hint("Right norms, wrong directions: nlerp keeps the direction of the straight line "
                     "an.lerp(a, b, t) and only rescales it.")
    steps = _angular_steps(truth)
    constant = bool(np.allclose(steps, steps[0], rtol=1e-3))
    if not isinstance(constant_angular_speed, bool | np.bool_):
        return _hint("Your nlerp is right. Answer the question with True or False.")
    if bool(constant_angular_speed) != constant:
        return _hint("Your nlerp is right, but not the answer about the speed: compute the angle "
                     "between consecutive unit vectors along the path and compare the steps.")
    return _ok("nlerp matches slerp's norms, and its angular steps "
               f"{'are' if constant else 'are not'} all equal.")



def _codes_of_every_pose(model: Any, attributes: np.ndarray) -> np.ndarray:
    # The identity codes of each character's 72 frames: (72, N, D), poses in (action, direction, frame) order.
    from charlib.training import conditional as cv

    poses = [(a, d, f) for a in range(len(sk.ACTIONS)) for d in range(len(sk.DIRECTIONS))
             for f in range(sk.N_FRAMES)]
    n, size = len(attributes), int(model.config.image_size)
    a, d, f = (np.repeat(np.array(col), n) for col in zip(*poses, strict=True))
    frames = sprites.render(np.tile(attributes, (len(poses), 1)), a, d, f, size)
    return cv.encode_identity(model, frames).reshape(len(poses), n, -1)


def _read_in_every_cycle(model: Any, classifier: Any, z: np.ndarray) -> np.ndarray:
    # The attributes the classifier reads on the 9 cycles decoded from z: (N, 72, 4).
    from charlib.training import conditional as cv

    cycles = [cv.generate_cycles(model, z, a, d)
              for a in range(len(sk.ACTIONS)) for d in range(len(sk.DIRECTIONS))]
    frames = np.concatenate(cycles, axis=1)  # (N, 72, S, S, 3)
    read = classifier.attributes(frames.reshape(-1, *frames.shape[2:]))
    return np.asarray(read).reshape(len(z), -1, len(sprites.ATTRIBUTES))


@_check("modes", "z", "fraction")
def check_unseen_character(model: Any, classifier: Any, modes: object, z: object,
                           fraction: object) -> Feedback:
    """06_animation, exercise 2: ``z`` (N, D), the identity codes ``model`` gives one picture of each
    held-out character in ``modes`` (N,), and ``fraction``, the share of the frames of all 9 cycles
    decoded from ``z`` on which ``classifier`` reads all four true attributes."""
    ids = np.asarray(modes).astype(np.int64).ravel()
    train, _ = sprites.identity_split()
    if len(ids) == 0 or np.isin(ids, train).any():
        return _hint("Some of these characters were seen in training: take the modes from the test "
                     "split (sp.identity_split()[1]).")
    codes = np.asarray(z, dtype=np.float64)
    dim = int(model.config.code_dim)
    if codes.shape != (len(ids), dim):
        return _hint(f"z should hold one code per character, shape ({len(ids)}, {dim}); got "
                     f"{codes.shape}. cv.encode_identity gives it from one frame per character.")
    truth_attrs = sprites.attributes_of(ids)
    every_pose = _codes_of_every_pose(model, truth_attrs)
    gap = np.linalg.norm(every_pose - codes[None], axis=-1).min(axis=0)
    if (gap > 1e-3 * (1.0 + np.linalg.norm(codes, axis=1))).any():
        return _hint("These codes are not the encoder's codes of one picture of each character: render "
                     "the characters in one pose (sp.render) at the model's image size and pass the "
                     "frames to cv.encode_identity.")
    share = _number(fraction)
    if share is None:
        return _hint("Give the share of frames as one number between 0 and 1.")
    read = _read_in_every_cycle(model, classifier, codes.astype(np.float32))
    truth = float(np.mean(np.all(read == truth_attrs[:, None], axis=-1)))
    if _close(share, truth, abs_=1e-3):
        return _ok(f"all four attributes are read right on {truth:.1%} of the {read.shape[1]} frames "
                   "per character, from one picture the model never saw in training.")
    if _close(share, 100 * truth, abs_=0.1):
        return _hint("That looks like a percentage: give a share between 0 and 1.")
    if _close(share, float(np.mean(read == truth_attrs[:, None])), abs_=1e-3):
        return _hint("You counted each attribute on its own. A frame counts only when all four "
                     "attributes are read right at once (np.all over the last axis).")
    return _hint("Decode each code in all 9 cycles (3 actions x 3 directions, cv.generate_cycles), "
                 "read the attributes of every frame with classifier.attributes, and compare them "
                 "with sp.attributes_of(modes).")


MOTION_RECOVERY = 0.25
"""06_animation, exercise 3: a statistic of the smoothed clips *recovers* within this fraction of
its value on the real clips."""


def _motion_answer_names(names: object) -> set[str] | None:
    if isinstance(names, str):
        return {names}
    try:
        return {str(n) for n in names}  # type: ignore[union-attr]
    except TypeError:
        return None


@_check("noisy", "smoothed", "most_reactive", "recovered")
def check_motion_noise(real_clips: np.ndarray, real_actions: np.ndarray, noisy: object,
                       smoothed: object, most_reactive: object, recovered: object) -> Feedback:
    """06_animation, exercise 3: ``noisy`` (the real clips plus 1 pixel of Gaussian noise per
    joint), ``smoothed`` (each noisy frame averaged with its two neighbours, wrapping around), the
    name of the statistic of ``dm.motion_statistics`` whose value grows by the largest factor with
    the noise, and the names of those the smoothing brings back within a quarter of the real value."""
    from charlib.diagnostics import motion as dm

    real = np.asarray(real_clips, dtype=np.float64)
    try:
        noisy_a, smooth_a = np.asarray(noisy, np.float64), np.asarray(smoothed, np.float64)
    except (TypeError, ValueError):
        return _hint("noisy and smoothed should be arrays of clips, like real_clips.")
    if noisy_a.shape != real.shape or smooth_a.shape != real.shape:
        return _hint(f"noisy and smoothed should have the shape of real_clips, {real.shape}.")
    spread = float(np.std(noisy_a - real))
    if not 0.8 < spread < 1.2 or abs(float(np.mean(noisy_a - real))) > 0.1:
        return _hint(f"The noise added has a standard deviation of {spread:.2f} pixels; the exercise "
                     "asks for zero-mean Gaussian noise of 1 pixel on every coordinate.")
    average = (np.roll(noisy_a, 1, axis=1) + noisy_a + np.roll(noisy_a, -1, axis=1)) / 3
    if not np.allclose(smooth_a, average, atol=1e-6):
        if np.allclose(smooth_a[:, 1:-1], average[:, 1:-1], atol=1e-6):
            return _hint("The inner frames are right, the first and last are not: the clips loop, so "
                         "the last frame's neighbour is the first (np.roll wraps around).")
        return _hint("smoothed is not each noisy frame averaged with its two neighbours over time "
                     "(axis 1 of the clips), wrapping around at the ends.")
    stats = {name: dm.motion_statistics(c, real_actions, 64) for name, c in
             (("real", real), ("noisy", noisy_a), ("smoothed", smooth_a))}
    names = list(stats["real"])
    growth = {k: abs(stats["noisy"][k]) / max(abs(stats["real"][k]), 1e-9) for k in names}
    truth_most = max(growth, key=growth.__getitem__)
    truth_back = {k for k in names
                  if abs(stats["smoothed"][k] / max(abs(stats["real"][k]), 1e-9) - 1) < MOTION_RECOVERY}
    if most_reactive not in names:
        return _hint(f"Name one statistic as dm.motion_statistics spells it: one of {names}.")
    if most_reactive != truth_most:
        return _hint("Not the one that reacts most: compare each statistic's noisy value with its "
                     "real value as a ratio, not as a difference (they have different units).")
    given = _motion_answer_names(recovered)
    if given is None or not given <= set(names):
        return _hint(f"Give the recovered statistics as a list of names from {names}.")
    if given != truth_back:
        return _hint("Not the right set of recovered statistics: a statistic recovers when its value "
                     "on the smoothed clips is within a quarter of its value on the real clips.")
    return _ok(f"{truth_most} grows {growth[truth_most]:.0f}-fold with the noise; smoothing brings back "
               f"{', '.join(sorted(truth_back)) or 'none'}, and not the rest: averaging three noisy "
               "frames only divides the jitter by sqrt(3).")


# ---------------------------------------------------------------------------- 07_gpu_training


@_check("sgd_step", "traces")
def check_single_trace(sgd_step: object, traces: object) -> Feedback:
    """07_gpu_training, exercise 1: your ``tf.function`` ``sgd_step`` after your calls with 5
    learning rates, and ``traces``, your Python count of its traces."""
    tracing_count = getattr(sgd_step, "experimental_get_tracing_count", None)
    if tracing_count is None:
        return _hint("sgd_step is not a tf.function: decorate it with @tf.function.")
    actual = int(tracing_count())
    n = _number(traces)
    if n is None:
        return _hint("Give your trace count as one whole number.")
    if actual == 0:
        return _hint("sgd_step has not run yet: call it with your 5 learning rates first.")
    if n != actual:
        return _hint("Your counter disagrees with TensorFlow's own count "
                     "(sgd_step.experimental_get_tracing_count()): increment it inside the function "
                     "body, which Python runs only while tracing.")
    if actual > 1:
        return _hint(f"It traced {actual} times. Each new Python value among the arguments is a new "
                     "signature, so tf.function traces again: which kind of argument can change "
                     "value without that?")
    return _ok("one trace for every learning rate: the value travels as data, not as part of the "
               "signature.")


def _smallest_scale(small: float) -> int:
    # The smallest power of two s with s * small >= the smallest positive float16 (2^-24).
    tiny = float(np.finfo(np.float16).smallest_subnormal)
    return 2 ** math.ceil(math.log2(tiny / small) - 1e-12)


@_check("scale", "overflows")
def check_loss_scale(scale: object, overflows: object, small: float = 1e-10,
                     large: float = 1e-2) -> Feedback:
    """07_gpu_training, exercise 2: the smallest power-of-two loss scale that keeps a ``small``
    gradient at least the smallest positive float16, and whether the ``large`` one then overflows."""
    s = _number(scale)
    if s is None or s <= 0:
        return _hint("Give the scale as one positive number (a power of two).")
    if not float(s).is_integer() or math.log2(s) != int(math.log2(s)):
        return _hint("Loss scales are powers of two (multiplying by one is exact in floating point); "
                     "give 2**k for some whole k.")
    truth = _smallest_scale(small)
    tiny = float(np.finfo(np.float16).smallest_subnormal)
    if s < truth:
        if np.float16(small * s) != 0:
            return _hint("Too small: s x 1e-10 is still below the smallest positive float16 and only "
                         "survives by rounding up (check np.float16(...) against 2**-24).")
        return _hint("Too small: np.float16(s * 1e-10) is 0.0, the gradient is flushed to zero.")
    if s > truth:
        return _hint("That scale works, but a smaller power of two does too: solve "
                     "s x 1e-10 >= 2**-24 for s and round up to a power of two.")
    truth_overflow = not bool(np.isfinite(np.float16(large * s)))
    if not isinstance(overflows, bool | np.bool_):
        return _hint("The scale is right. Answer (b) with True or False.")
    if bool(overflows) != truth_overflow:
        return _hint("The scale is right; (b) is not. Compare s x 1e-2 with the largest float16 "
                     "(np.finfo(np.float16).max), or compute np.float16(s * 1e-2).")
    return _ok(f"s x {small:g} is at least 2**-24 = {tiny:.3g}, and the largest gradient "
               f"{'overflows' if truth_overflow else 'stays finite'}.")


# --------------------------------------------------------------------------- 08_mode_collapse


@_check("reverse_kl", "forward_kl")
def check_half_modes_kl(reverse_kl: object, forward_kl: object) -> Feedback:
    """08_mode_collapse, exercise 1: KL(q || p) and KL(p || q) in nats for a generator that draws
    every other character evenly, against the uniform p over all characters."""
    r = _number(reverse_kl)
    if r is None:
        return _hint("Give the reverse KL as one finite number (nats).")
    from charlib.diagnostics import modes

    truth = modes.mode_report(np.repeat(np.arange(0, sprites.N_MODES, 2), 10)).kl
    if not _close(r, truth):
        if _close(r, truth / math.log(2)):
            return _hint("That is the reverse KL in bits. modes.mode_report and the course work in "
                         "nats.")
        return _hint("Not the reverse KL yet: with q_k = 2/K on the used modes, sum q_k log(q_k / p_k) "
                     "over the modes where q_k > 0.")
    try:
        forward = float(forward_kl)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _hint("The reverse KL is right. Give the forward KL as a number (math.inf counts).")
    if math.isnan(forward):
        return _hint("Give the forward KL as a number, not NaN (math.inf counts).")
    if math.isfinite(forward):
        return _hint("The reverse KL is right; the forward one is not. In KL(p || q) the expectation "
                     "is under p: what happens to log(p_k / q_k) on a mode the generator never "
                     "draws?")
    if forward < 0:
        return _hint("A KL divergence is never negative.")
    return _ok("the reverse KL is finite and small, while the forward KL is infinite: reverse KL "
               "barely notices dropped modes, which is why mode dropping is hard to see with it.")


@_check("k_first")
def check_coverage_jump(real: np.ndarray, fake: np.ndarray, k_first: object) -> Feedback:
    """08_mode_collapse, exercise 2: the smallest k at which the coverage of ``fake`` against
    ``real`` (section 2.3's collapsed set) passes one half."""
    k = _number(k_first)
    if k is None or k != int(k) or k < 1:
        return _hint("Give k as one whole number, at least 1.")
    from charlib.diagnostics.prdc import prdc

    real, fake = np.asarray(real, dtype=np.float64), np.asarray(fake, dtype=np.float64)
    truth = next((j for j in range(1, len(real)) if prdc(real, fake, k=j)["coverage"] > 0.5), None)
    if truth is None:
        return _hint("Coverage never passes one half for these sets; are these section 2.3's real set "
                     "and collapsed fakes?")
    if int(k) == truth:
        return _ok(f"from k = {truth} the balls of the empty cluster reach the fakes of the other one: "
                   "coverage only means something for k well below the size of a mode.")
    if int(k) < truth:
        return _hint("At that k coverage is still at most one half: the balls of the empty cluster "
                     "have not reached a fake yet. How many points does each cluster have?")
    return _hint("Coverage already passes one half at a smaller k. Print prdc(...)['coverage'] for "
                 "every k up to yours.")



SAME_SETUP = ("steps", "seed", "image_size", "n_data", "data", "split")
"""08_mode_collapse, exercise 3: the settings a fair comparison of two GAN runs keeps equal."""
NOT_A_RECIPE = ("max_minutes", "log_every", "sample_every", "ckpt_every", "n_samples", "profile",
                "jit_compile", "precision", "distribute")
"""Settings that change how a run is logged or run, not what it learns."""


def _run_path(run: object) -> Any:
    # A run folder given as a path, or as what train_gan returns (its .run.path).
    inner = getattr(run, "run", None)
    return getattr(inner, "path", run)


def _finished_gan(run: object) -> tuple[Any, int] | str:
    # (config, last step trained) of a GAN run folder, or a hint saying what is wrong with it.
    from charlib.base.run import RunFolder
    from charlib.errors import CharlibError
    from charlib.training.gan import GanConfig
    from charlib.training.trainer import read_run_config

    path = _run_path(run)
    try:
        config = read_run_config(GanConfig, path)
        history = RunFolder.open(path).read_history()
    except (CharlibError, TypeError, OSError):
        return f"{path} is not a GAN run folder: give what train_gan returns, or its folder."
    last = int(history[-1]["step"]) if history else 0
    if last < config.steps:
        return f"The run in {path} stopped at step {last} of {config.steps}: let it finish."
    return config, last


@_check("plain", "remedied")
def check_remedy_runs(plain: object, remedied: object) -> Feedback:
    """08_mode_collapse, exercise 3: ``plain`` and ``remedied``, two finished GAN runs (what
    train_gan returns, or their folders) that differ in the remedy and in nothing of the setup."""
    runs = [_finished_gan(r) for r in (plain, remedied)]
    for run in runs:
        if isinstance(run, str):
            return _hint(run)
    (a, _), (b, _) = runs  # type: ignore[misc]
    fields = [f for f in a.__dataclass_fields__ if f not in NOT_A_RECIPE]
    changed = [f for f in fields if getattr(a, f) != getattr(b, f)]
    unfair = [f for f in changed if f in SAME_SETUP]
    if unfair:
        return _hint(f"The two runs differ in {', '.join(unfair)}: keep the setup the same, so that only "
                     "the remedy can explain a difference.")
    if not changed:
        return _hint("The two runs have the same settings: switch one remedy on in the second "
                     "(pack=2, minibatch_std=True, r1=..., ...).")
    return _ok(f"two finished runs of {a.steps} steps that differ only in {', '.join(changed)}. "
               "Now diagnose both and compare modes covered and KL, then precision and density.")


# -------------------------------------------------------------------------- 09_your_own_data


@_check("n_skipped", "batch_size")
def check_messy_folder(config: object, n_skipped: object, batch_size: object) -> Feedback:
    """09_your_own_data, exercise 1: how many files of ``data/messy_folder`` are skipped, and the
    batch size that training with ``config`` on that folder actually uses."""
    from charlib.config import data_dir
    from charlib.data.folders import load_image_folder
    from charlib.training.trainer import fit_batch_size

    k, b = _number(n_skipped), _number(batch_size)
    if k is None or b is None:
        return _hint("Give two whole numbers: the number of skipped files and the batch size.")
    size = int(getattr(config, "image_size", 32))
    images, report = load_image_folder(data_dir() / "messy_folder", size=size)
    if k != len(report.skipped):
        if k == len(report.skipped) + len(report.ignored):
            return _hint("Skipped and ignored are two lists: ignored files are not images at all and "
                         "are not counted as skipped.")
        return _hint("Count the lines that start with 'skipped' in the report printed before "
                     "training (or len(report.skipped) from load_image_folder).")
    truth = fit_batch_size(config, len(images), verbose=False).batch_size
    if b == truth:
        return _ok(f"{len(report.skipped)} files skipped, and a batch of {truth}: every batch holds "
                   "every image, so expect copies.")
    if b == int(getattr(config, "batch_size", -1)):
        return _hint("That is the batch size you asked for. Can a batch hold more images than the "
                     "folder has? Read the line about the batch size.")
    return _hint("Not the batch size used: it depends on how many good images the folder holds "
                 "(trainer.fit_batch_size).")



@_check("shifted", "reports", "catching_space")
def check_shifted_copies(shifted: object, train_images: np.ndarray, reports: object,
                         catching_space: object) -> Feedback:
    """09_your_own_data, exercise 2: ``shifted`` (the first 40 training images moved two pixels to
    the right), ``reports`` (what mem.memorisation_check returns for them, with held-out images and
    the classifier's features) and the name of the space whose NN ratio catches the copies."""
    train = np.asarray(train_images)
    got = np.asarray(shifted)
    if got.shape != train[:40].shape:
        return _hint(f"shifted should be 40 images of the training set's size, {train[:40].shape}; got "
                     f"{got.shape}.")
    if not np.array_equal(got, np.roll(train[:40], 2, axis=2)):
        for axis, step in ((2, -2), (1, 2), (1, -2)):
            if np.array_equal(got, np.roll(train[:40], step, axis=axis)):
                return _hint("Shifted, but not two pixels to the right: images are (N, height, width, "
                             "3), so the width is axis 2, and right is the positive direction.")
        return _hint("shifted is not np.roll(train_images[:40], 2, axis=2).")
    if not isinstance(reports, dict) or "pixel" not in reports:
        return _hint("reports should be the dict mem.memorisation_check returns.")
    if "features" not in reports:
        return _hint("Only pixel space was checked: pass features=classifier.features as well.")
    if any(r.nn_ratio is None for r in reports.values()):
        return _hint("The reports have no NN ratio: pass the held-out images too.")
    if any(len(r.sample_nn) != len(got) for r in reports.values()):
        return _hint("These reports are not of the 40 shifted images: pass shifted as the samples.")
    truth = min(reports, key=lambda space: reports[space].nn_ratio)
    if catching_space not in reports:
        return _hint(f"Name one of the spaces in the reports: {sorted(reports)}.")
    if catching_space != truth:
        return _hint("Not that space: print each report's NN ratio. Well below 1 means the samples sit "
                     "closer to the training images than new real images do.")
    return _ok(f"the {truth} NN ratio ({reports[truth].nn_ratio:.2f}) gives the copies away; a shift moves "
               "every edge in pixel space, while the character stays the same character.")


@_check("written", "folder")
def check_wide_finetune(error: object, written: object, folder: object) -> Feedback:
    """09_your_own_data, exercise 3: ``error``, the exception that fine-tuning with ``g_width=64``
    raised (None if none), and ``written``, whether its run ``folder`` was created (True or False)."""
    from pathlib import Path

    from charlib.errors import CharlibError

    if error is None:
        return _hint("No error caught: wrap the train_gan call in try/except CharlibError as err, "
                     "and keep err.")
    if not isinstance(error, CharlibError):
        return _hint(f"That is a {type(error).__name__}. The course checks the networks' shapes before "
                     "loading anything and raises a CharlibError naming the field: catch that one.")
    if "g_width" not in str(error):
        return _hint("That CharlibError is not about the wider generator: is g_width=64 the change?")
    if not isinstance(written, bool | np.bool_):
        return _hint("Answer whether the folder was written with True or False.")
    exists = Path(str(folder)).exists()
    if bool(written) != exists:
        return _hint("Look again: Path(...).exists() on the run folder tells whether it was written.")
    if exists:
        return _hint("The folder exists: was it left over from an earlier call? fresh(...) empties it; "
                     "run the cell again from the start.")
    return _ok("a CharlibError names g_width before anything is written: weights of one shape "
               "cannot be loaded into layers of another.")
