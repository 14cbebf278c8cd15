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
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

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


def check_full_profile(profile: object) -> Feedback:
    """00_setup, exercise 1: ``profile`` should be the full profile, asked for by name."""
    if _unanswered(profile):
        return _hint(NOT_ANSWERED)
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


def check_test_walkers(sample: object, n: int) -> Feedback:
    """00_setup, exercise 3: ``sample`` (a ``sprites.Sprites``) should hold ``n`` test characters
    walking left."""
    if _unanswered(sample):
        return _hint(NOT_ANSWERED)
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


def check_sprite_world_size(n_images: object) -> Feedback:
    """01_data, exercise 1: the number of labelled sprite images at one image size."""
    if _unanswered(n_images):
        return _hint(NOT_ANSWERED)
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


def check_skirt_modes(modes: object) -> Feedback:
    """01_data, exercise 2: the mode ids of all test-split characters that wear a skirt."""
    if _unanswered(modes):
        return _hint(NOT_ANSWERED)
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


def check_front_mirror(frame: object, mirrored_frame: object) -> Feedback:
    """01_data, exercise 3: which frame of the front walk looks like ``frame`` mirrored sideways."""
    if _unanswered(frame, mirrored_frame):
        return _hint(NOT_ANSWERED)
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


def check_perfect_generator(d_star: object, d_loss: object) -> Feedback:
    """02_gan_maths, exercise 1: D*(x) and the discriminator's BCE loss when p_g = p_data."""
    if _unanswered(d_star, d_loss):
        return _hint(NOT_ANSWERED)
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


def check_disjoint_js(js: object) -> Feedback:
    """02_gan_maths, exercise 2: the JS divergences (nats) of disjoint uniform pairs, one or several."""
    if _unanswered(js):
        return _hint(NOT_ANSWERED)
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


# ------------------------------------------------------------------------------------ 03_dcgan


def check_hinge_at_zero(d_loss: object, g_loss: object) -> Feedback:
    """03_dcgan, exercise 1: the hinge losses of D and G when every score is 0."""
    if _unanswered(d_loss, g_loss):
        return _hint(NOT_ANSWERED)
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


def check_sigmoid_logits_floor(d_loss_min: object) -> Feedback:
    """03_dcgan, exercise 3: the smallest possible L_D when a sigmoid output is fed to the loss as a
    logit."""
    if _unanswered(d_loss_min):
        return _hint(NOT_ANSWERED)
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


# -------------------------------------------------------------------------------- 04_vae_maths


def _kl_1d(m1: float, s1: float, m2: float, s2: float) -> float:
    return math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5


def check_gaussian_kl(kl: Callable[[float, float, float, float], float]) -> Feedback:
    """04_vae_maths, exercise 1: ``kl(mu1, sigma1, mu2, sigma2)``, your formula for
    KL(N(mu1, sigma1^2) || N(mu2, sigma2^2)), tried at several points."""
    if _unanswered(kl):
        return _hint(NOT_ANSWERED)
    if not callable(kl):
        return _hint("Give a function kl(mu1, sigma1, mu2, sigma2) that returns a number.")
    points = [(0.3, 0.5, -1.0, 2.0), (0.0, 1.0, 0.0, 1.0), (1.5, 0.2, 0.0, 1.0), (-2.0, 3.0, 1.0, 0.5)]
    try:
        returned = [kl(*p) for p in points]
    except Exception as err:  # the learner's code: report, do not crash the check
        return _hint(f"Your function raised {type(err).__name__}: {err}")
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


# ------------------------------------------------------------------------------------- 05_vae


def check_reconstruction_weight(sigma: object, weight: object) -> Feedback:
    """05_vae, exercise 3: the weight of the summed squared error in the Gaussian NLL at ``sigma``."""
    if _unanswered(sigma, weight):
        return _hint(NOT_ANSWERED)
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


def check_active_dimensions(kl_per_dim: object, threshold: float, n_active: object) -> Feedback:
    """05_vae, exercises 1 and 4: ``n_active``, your count of dimensions whose mean KL over images
    exceeds ``threshold`` nats, for ``kl_per_dim`` (N, latent_dim)."""
    if _unanswered(kl_per_dim, n_active):
        return _hint(NOT_ANSWERED)
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


def checks() -> dict[str, list[str]]:
    """The check functions, by notebook: ``{"00_setup": ["check_full_profile", ...], ...}``."""
    out: dict[str, list[str]] = {}
    for name, fn in globals().items():
        if name.startswith("check_") and callable(fn):
            notebook = (fn.__doc__ or "").split(",")[0].strip()
            out.setdefault(notebook, []).append(name)
    return out

