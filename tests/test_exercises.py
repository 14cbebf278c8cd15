"""notebooks/exercises.py: right answers pass, wrong ones get a hint that does not give the answer away."""

from __future__ import annotations

import math

import numpy as np
import pytest

from charlib import animation as an
from charlib.config import PROFILES, data_dir
from charlib.data import skeleton as sk
from charlib.data import sprites
from charlib.data.folders import load_image_folder
from charlib.diagnostics import modes
from charlib.training.gan import GanConfig

import exercises as ex

WORLD = sprites.N_MODES * len(sk.ACTIONS) * len(sk.DIRECTIONS) * sk.N_FRAMES


def _skirt_modes() -> np.ndarray:
    _, test = sprites.identity_split()
    styles = np.array(sprites.ATTRIBUTES[3].styles)
    return test[styles[sprites.attributes_of(test)[:, 3]] == "skirt"]


def _assert_hint_hides(feedback: ex.Feedback, *answers: str) -> None:
    assert not feedback.passed
    assert str(feedback).startswith("NOT YET: ")
    for answer in answers:
        assert answer not in feedback.message, f"the hint reveals {answer!r}: {feedback.message}"


def test_feedback_is_truthy_only_on_pass_and_prints_one_line():
    good, bad = ex.Feedback(True, "well done"), ex.Feedback(False, "look again")
    assert good and not bad
    assert repr(good) == "PASS: well done" and str(bad) == "NOT YET: look again"


@pytest.mark.parametrize("call", [
    lambda: ex.check_full_profile(None), lambda: ex.check_sprite_world_size(None),
    lambda: ex.check_skirt_modes(...), lambda: ex.check_perfect_generator(None, 1.0),
    lambda: ex.check_disjoint_js(None), lambda: ex.check_hinge_at_zero(2.0, None),
    lambda: ex.check_sigmoid_logits_floor(None), lambda: ex.check_gaussian_kl(None),
    lambda: ex.check_reconstruction_weight(0.1, None), lambda: ex.check_front_mirror(0, None),
    lambda: ex.check_test_walkers(None, 4), lambda: ex.check_active_dimensions(np.zeros((2, 3)), 0.1, None),
    lambda: ex.check_nlerp(None, None), lambda: ex.check_loss_scale(None, False),
    lambda: ex.check_half_modes_kl(None, math.inf), lambda: ex.check_single_trace(None, 0),
    lambda: ex.check_messy_folder(None, None, None), lambda: ex.check_conjugate_posterior(None),
    lambda: ex.check_rate_limits(None, 0.0), lambda: ex.check_baseline_variance(None, 1.0, 0.5),
    lambda: ex.check_coverage_jump(np.zeros((4, 2)), np.zeros((4, 2)), None),
    lambda: ex.check_toy_mode_counts(None, [1]),
    lambda: ex.check_unseen_character(None, None, [1], None, 0.5),
    lambda: ex.check_motion_noise(np.zeros((1, 8, 15, 2)), [0], None, None, None, None),
    lambda: ex.check_remedy_runs(None, None), lambda: ex.check_shifted_copies(None, np.zeros(1), None, None),
    lambda: ex.check_wide_finetune(None, None, "runs/wide"), lambda: ex.check_width_growth(None, "Dense"),
    lambda: ex.check_train_step(None),
])
def test_an_unanswered_exercise_gets_a_reminder_not_an_error(call):
    feedback = call()
    assert not feedback and feedback.message == ex.NOT_ANSWERED


def test_full_profile_check_passes_the_full_profile_and_hints_at_the_smoke_one():
    assert ex.check_full_profile(PROFILES["full"])
    _assert_hint_hides(ex.check_full_profile(PROFILES["smoke"]), "'full'")
    assert not ex.check_full_profile("full")


def test_test_walkers_check_catches_the_wrong_split_action_direction_or_count():
    good = sprites.sample_sprites(6, size=16, seed=1, split="test", actions=("walk",),
                                  directions=("left",))
    assert ex.check_test_walkers(good, 6)
    assert "split" in ex.check_test_walkers(
        sprites.sample_sprites(40, size=16, seed=1, split="train", actions=("walk",),
                               directions=("left",)), 40).message
    assert "walking" in ex.check_test_walkers(
        sprites.sample_sprites(40, size=16, seed=1, split="test", directions=("left",)), 40).message
    assert "left" in ex.check_test_walkers(
        sprites.sample_sprites(40, size=16, seed=1, split="test", actions=("walk",)), 40).message
    assert not ex.check_test_walkers(good, 7)


def test_sprite_world_check_passes_the_product_and_names_the_kind_of_mistake():
    assert ex.check_sprite_world_size(WORLD)
    assert ex.check_sprite_world_size(np.int64(WORLD))
    for wrong in (sprites.N_MODES, sprites.N_MODES * 3 * 8, 2 * WORLD, 10, "many"):
        _assert_hint_hides(ex.check_sprite_world_size(wrong), str(WORLD), f"{WORLD:,}")
    assert "characters only" in ex.check_sprite_world_size(sprites.N_MODES).message


def test_skirt_check_accepts_any_order_and_tells_missing_from_wrong_ids():
    truth = _skirt_modes()
    assert ex.check_skirt_modes(truth[::-1].tolist())
    assert "missing" in ex.check_skirt_modes(truth[:-3]).message
    train, _ = sprites.identity_split()
    assert "training" in ex.check_skirt_modes(np.append(truth, train[0])).message
    assert "more than once" in ex.check_skirt_modes(np.append(truth, truth[0])).message
    _assert_hint_hides(ex.check_skirt_modes(truth[:-3]), str(len(truth)))


def test_front_mirror_check_uses_the_rendered_frames():
    mirrored = next(g for g in range(sk.N_FRAMES) if np.array_equal(
        sprites.cycle(sprites.attributes_of(0), "walk", "front", size=32)[g],
        sprites.cycle(sprites.attributes_of(0), "walk", "front", size=32)[0][:, ::-1]))
    assert ex.check_front_mirror(0, mirrored)
    assert not ex.check_front_mirror(0, 0)
    _assert_hint_hides(ex.check_front_mirror(0, (mirrored + 1) % sk.N_FRAMES), f"frame {mirrored}")


def test_perfect_generator_check_knows_the_sign_and_the_half_loss_slips():
    assert ex.check_perfect_generator(0.5, math.log(4))
    assert "opposite sign" in ex.check_perfect_generator(0.5, -math.log(4)).message
    assert "real half" in ex.check_perfect_generator(0.5, math.log(2)).message
    _assert_hint_hides(ex.check_perfect_generator(1.0, math.log(4)), "0.5", "1/2", "1.386")


def test_disjoint_js_check_passes_ln2_at_every_distance_and_spots_bits():
    assert ex.check_disjoint_js([math.log(2)] * 3)
    assert "bits" in ex.check_disjoint_js([1.0, 1.0]).message
    assert "change with the distance" in ex.check_disjoint_js([0.6, 0.69, 0.7]).message
    _assert_hint_hides(ex.check_disjoint_js([0.5, 0.5]), "0.693", "ln 2", "log 2")


def test_hinge_check_needs_both_terms_of_the_discriminator_loss():
    assert ex.check_hinge_at_zero(2.0, 0.0)
    assert "two terms" in ex.check_hinge_at_zero(1.0, 0.0).message
    _assert_hint_hides(ex.check_hinge_at_zero(2.0, 1.0), "0.0")


def test_sigmoid_floor_check_passes_the_softplus_sum_only():
    truth = math.log1p(math.e**-1) + math.log(2)
    assert ex.check_sigmoid_logits_floor(truth)
    assert ex.check_sigmoid_logits_floor(round(truth, 3))
    for wrong in (0.0, 1.386, 0.693):
        _assert_hint_hides(ex.check_sigmoid_logits_floor(wrong), "1.006", "1.0064")


def test_gaussian_kl_check_tries_a_learners_function_at_several_points():
    def right(m1, s1, m2, s2):
        return math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5

    assert ex.check_gaussian_kl(right)
    assert "other direction" in ex.check_gaussian_kl(lambda m1, s1, m2, s2: right(m2, s2, m1, s1)).message
    assert "must be 0" in ex.check_gaussian_kl(lambda m1, s1, m2, s2: right(m1, s1, m2, s2) + 0.5).message
    assert "raised ZeroDivisionError" in ex.check_gaussian_kl(lambda *a: 1 / 0).message
    assert not ex.check_gaussian_kl(lambda m1, s1, m2, s2: (m1 - m2) ** 2)
    assert not ex.check_gaussian_kl(3.0)
    assert "returns None" in ex.check_gaussian_kl(lambda *a: None).message



def test_conjugate_posterior_check_knows_the_prior_pull_and_the_variance_slips():
    def right(x, s):
        return x / (1 + s**2), s**2 / (1 + s**2)

    assert ex.check_conjugate_posterior(right)
    assert "ignores the prior" in ex.check_conjugate_posterior(lambda x, s: (x, right(x, s)[1])).message
    sd = ex.check_conjugate_posterior(lambda x, s: (right(x, s)[0], math.sqrt(right(x, s)[1])))
    assert "standard deviation" in sd.message
    wrong_variance = ex.check_conjugate_posterior(lambda x, s: (right(x, s)[0], s**2))
    _assert_hint_hides(wrong_variance, "1 + s^2", "1 / s^2")
    assert "raised ZeroDivisionError" in ex.check_conjugate_posterior(lambda x, s: 1 / 0).message
    assert "returns None" in ex.check_conjugate_posterior(lambda x, s: None).message


def test_rate_limits_check_wants_an_unbounded_rate_then_zero_and_spots_the_swap():
    assert ex.check_rate_limits(math.inf, 0.0)
    assert ex.check_rate_limits(np.inf, 1e-6)
    assert "swapped" in ex.check_rate_limits(0.0, math.inf).message
    _assert_hint_hides(ex.check_rate_limits(5.0, 0.0), "inf")
    _assert_hint_hides(ex.check_rate_limits(math.inf, 1.0), " 0 ")
    assert "never negative" in ex.check_rate_limits(-1.0, 0.0).message


def test_baseline_variance_check_computes_the_truth_and_names_the_other_estimators():
    mu, sigma = 1.0, 0.5
    eps = np.random.default_rng(0).standard_normal(400_000)
    z = mu + sigma * eps
    monte_carlo = float(((z**2 - (mu**2 + sigma**2)) * (z - mu) / sigma**2).var())
    assert ex.check_baseline_variance(monte_carlo, mu, sigma)
    assert ex.check_baseline_variance(8 * 2.0**2 + 10 * 0.3**2, 2.0, 0.3)
    plain = float((z**2 * (z - mu) / sigma**2).var())
    assert "without the baseline" in ex.check_baseline_variance(plain, mu, sigma).message
    assert "reparameterised" in ex.check_baseline_variance(4 * sigma**2, mu, sigma).message
    _assert_hint_hides(ex.check_baseline_variance(3.0, mu, sigma), "10.5")

def test_reconstruction_weight_check_spots_the_factor_two_slip():
    assert ex.check_reconstruction_weight(0.05, 200.0)
    assert ex.check_reconstruction_weight(0.3, 1 / (2 * 0.09))
    assert "factor of 2" in ex.check_reconstruction_weight(0.05, 400.0).message
    _assert_hint_hides(ex.check_reconstruction_weight(0.05, 20.0), "200")


def test_active_dimension_check_counts_per_dimension_means():
    kl = np.array([[0.5, 0.0, 0.3, 0.05], [0.7, 0.02, 0.0, 0.05], [0.6, 0.0, 0.0, 0.05]])
    assert ex.check_active_dimensions(kl, 0.08, 2)  # dims 0 and 2 (0.1 on average)
    one_active = np.array([[1.0, 0.0, 0.0, 0.0]] * 2)
    assert "inactive" in ex.check_active_dimensions(one_active, 0.1, 3).message
    assert "wrong axis" in ex.check_active_dimensions(kl, 0.08, 3).message
    assert not ex.check_active_dimensions(kl[0], 0.08, 2)


def _nlerp(a, b, t):
    line = an.lerp(a, b, t)
    target = (1 - t)[:, None] * np.linalg.norm(a) + t[:, None] * np.linalg.norm(b)
    return line / np.linalg.norm(line, axis=1, keepdims=True) * target


def test_nlerp_check_tries_the_function_and_asks_about_the_angular_speed():
    assert ex.check_nlerp(_nlerp, False)
    assert ex.check_nlerp(_nlerp, np.False_)
    _assert_hint_hides(ex.check_nlerp(_nlerp, True), "False", "not all equal")
    assert "wrong directions" in ex.check_nlerp(an.slerp, False).message
    assert "norms are off" in ex.check_nlerp(an.lerp, False).message
    assert "start at a" in ex.check_nlerp(lambda a, b, t: _nlerp(b, a, t), False).message
    assert "raised ZeroDivisionError" in ex.check_nlerp(lambda *a: 1 / 0, False).message
    assert "shape" in ex.check_nlerp(lambda a, b, t: _nlerp(a, b, t)[:, :3], False).message
    assert not ex.check_nlerp(_nlerp, "no")


def test_loss_scale_check_computes_the_smallest_power_of_two_with_float16():
    tiny = float(np.finfo(np.float16).smallest_subnormal)
    truth = next(2**k for k in range(64) if 2**k * 1e-10 >= tiny)
    overflow = not np.isfinite(np.float16(truth * 1e-2))
    assert ex.check_loss_scale(truth, overflow)
    assert ex.check_loss_scale(float(truth), np.bool_(overflow))
    assert "rounding up" in ex.check_loss_scale(truth // 2, overflow).message
    assert "flushed to zero" in ex.check_loss_scale(truth // 4, overflow).message
    assert "smaller power of two" in ex.check_loss_scale(truth * 2, overflow).message
    assert "powers of two" in ex.check_loss_scale(1000, overflow).message
    for wrong in ((truth // 2, overflow), (truth * 4, overflow), (truth, not overflow), (600, False)):
        _assert_hint_hides(ex.check_loss_scale(*wrong), str(truth), f"2**{int(math.log2(truth))}",
                           f"2^{int(math.log2(truth))}")


def test_single_trace_check_reads_tensorflows_own_tracing_count():
    import tensorflow as tf

    def make():
        calls = {"traces": 0}

        @tf.function
        def sgd_step(w, grad, lr):
            calls["traces"] += 1
            w.assign_sub(lr * grad)

        return sgd_step, calls

    w = tf.Variable(tf.ones(3))
    good, good_calls = make()
    for i in range(5):
        good(w, tf.ones(3), tf.constant(0.1 / (i + 1)))
    assert ex.check_single_trace(good, good_calls["traces"])
    assert "disagrees" in ex.check_single_trace(good, 3).message
    floats, float_calls = make()
    for i in range(5):
        floats(w, tf.ones(3), 0.1 / (i + 1))
    feedback = ex.check_single_trace(floats, float_calls["traces"])
    assert "traced 5 times" in feedback.message
    _assert_hint_hides(feedback, "tf.constant", "tensor", "Variable")
    assert "not run yet" in ex.check_single_trace(make()[0], 0).message
    assert "not a tf.function" in ex.check_single_trace(lambda *a: None, 1).message


def test_half_modes_check_uses_mode_report_and_wants_an_infinite_forward_kl():
    truth = modes.mode_report(np.repeat(np.arange(0, sprites.N_MODES, 2), 10)).kl
    assert ex.check_half_modes_kl(truth, math.inf)
    assert ex.check_half_modes_kl(round(truth, 3), np.inf)
    assert "bits" in ex.check_half_modes_kl(truth / math.log(2), math.inf).message
    assert "forward one is not" in ex.check_half_modes_kl(truth, truth).message
    assert not ex.check_half_modes_kl(truth, float("nan"))
    for wrong in ((0.5, math.inf), (truth, 1.0), (1.0, math.inf)):
        _assert_hint_hides(ex.check_half_modes_kl(*wrong), "0.693", "log 2", "ln 2", "log(2)")


def test_messy_folder_check_counts_skipped_files_and_the_fitted_batch():
    config = GanConfig.from_profile(PROFILES["smoke"], image_size=32, batch_size=32)
    images, report = load_image_folder(data_dir() / "messy_folder", size=32)
    skipped, batch = len(report.skipped), min(len(images), 32)
    assert ex.check_messy_folder(config, skipped, batch)
    assert "asked for" in ex.check_messy_folder(config, skipped, 32).message
    assert "ignored" in ex.check_messy_folder(config, skipped + len(report.ignored), batch).message
    for wrong in ((skipped, batch - 2), (skipped + 1, batch), (skipped, 32)):
        _assert_hint_hides(ex.check_messy_folder(config, *wrong), str(batch), str(skipped))


def test_every_check_is_listed_under_its_notebook():
    listed: dict[str, list[str]] = {}
    for name in dir(ex):
        if name.startswith("check_"):
            listed.setdefault(getattr(ex, name).__doc__.split(",")[0].strip(), []).append(name)
    assert set(listed) == {"00_setup", "01_data", "02_gan_maths", "03_dcgan", "04_vae_maths", "05_vae",
                           "06_animation", "07_gpu_training", "08_mode_collapse", "09_your_own_data"}
    assert sum(len(names) for names in listed.values()) == len(
        [n for n in dir(ex) if n.startswith("check_")])


def _two_clusters_and_a_collapsed_fake() -> tuple[np.ndarray, np.ndarray]:
    # the set-up of notebook 08, section 2.3: two real clusters of 30, all fakes on one of them
    rng = np.random.default_rng(0)
    real = np.concatenate([rng.normal([-2, 0], 0.5, (30, 2)), rng.normal([2, 0], 0.5, (30, 2))])
    rng.normal(size=(60, 2))  # the "matching" set drawn in between in the notebook
    return real, rng.normal([2, 0], 0.3, (60, 2))


def test_coverage_jump_check_finds_the_first_k_beyond_the_cluster_size():
    from charlib.diagnostics.prdc import prdc

    real, fake = _two_clusters_and_a_collapsed_fake()
    first = next(k for k in range(1, 60) if prdc(real, fake, k=k)["coverage"] > 0.5)
    assert first >= 30  # a ball cannot leave its cluster of 30 points before k = 30
    assert ex.check_coverage_jump(real, fake, first)
    too_small = ex.check_coverage_jump(real, fake, first - 1)
    assert "still at most one half" in too_small.message
    _assert_hint_hides(too_small, str(first))
    assert "smaller k" in ex.check_coverage_jump(real, fake, first + 5).message
    assert not ex.check_coverage_jump(real, fake, 2.5)


class _Run:
    def __init__(self, snapshots):
        self.snapshots = snapshots


def test_toy_mode_count_check_counts_each_snapshot_of_the_learners_run():
    from charlib.diagnostics import toys

    ring = toys.ring()
    snaps = [toys.Snapshot(0, np.zeros((50, 2))), toys.Snapshot(10, ring.centres[:3].repeat(5, axis=0)),
             toys.Snapshot(20, ring.sample(400, 0))]
    run = _Run(snaps)
    assert ex.check_toy_mode_counts(run, [0, 3, 8])
    assert "reverse order" in ex.check_toy_mode_counts(run, [8, 3, 0]).message
    assert "one count for each" in ex.check_toy_mode_counts(run, [8]).message
    _assert_hint_hides(ex.check_toy_mode_counts(run, [0, 2, 8]), "[0, 3, 8]")
    assert "train_toy_gan" in ex.check_toy_mode_counts(object(), [1]).message


class _ReadsOneCharacter:
    """A stand-in for the attribute classifier: it reads the same attributes on every frame."""

    def __init__(self, attributes: np.ndarray) -> None:
        self.read = np.asarray(attributes)

    def attributes(self, images: np.ndarray) -> np.ndarray:
        return np.tile(self.read, (len(images), 1))


def test_unseen_character_check_wants_encoder_codes_of_test_characters_and_all_four_attributes():
    from charlib.training import conditional as cv

    model = cv.build_conditional(cv.ConditionalConfig(image_size=16, latent_dim=4, width=8))
    train, test = sprites.identity_split()
    modes = test[:3]
    truth = sprites.attributes_of(modes)
    z = cv.encode_identity(model, sprites.render(truth, "wave", "left", 5, 16))
    classifier = _ReadsOneCharacter(truth[0])
    share = float(np.mean(np.all(truth[0] == truth, axis=1)))  # every frame reads character 0
    per_attribute = float(np.mean(truth[0] == truth))
    assert share != per_attribute
    assert ex.check_unseen_character(model, classifier, modes, z, share)
    assert "each attribute on its own" in ex.check_unseen_character(
        model, classifier, modes, z, per_attribute).message
    assert "percentage" in ex.check_unseen_character(model, classifier, modes, z, 100 * share).message
    assert "seen in training" in ex.check_unseen_character(model, classifier, train[:3], z, share).message
    random_codes = np.random.default_rng(0).standard_normal(z.shape)
    assert "not the encoder's codes" in ex.check_unseen_character(
        model, classifier, modes, random_codes, share).message
    assert "shape (3, 4)" in ex.check_unseen_character(model, classifier, modes, z[:2], share).message
    _assert_hint_hides(ex.check_unseen_character(model, classifier, modes, z, share + 0.2),
                       f"{share:.3f}", f"{share:.1%}")


def test_motion_noise_check_wants_the_exact_smoothing_and_reads_ratios_not_differences():
    real, actions, _ = sk.sample_motion(27, size=64, seed=1)
    noisy = real + np.random.default_rng(0).normal(0, 1.0, real.shape)
    smooth = (np.roll(noisy, 1, axis=1) + noisy + np.roll(noisy, -1, axis=1)) / 3
    # the seeded clips of notebook 06: ground contact grows most (about 14-fold); smoothing brings
    # speed and loop closure back within 25%, and leaves bone lengths and ground contact far off
    right = ("ground_contact_px", ["joint_speed_px", "loop_closure"])
    assert ex.check_motion_noise(real, actions, noisy, smooth, *right)
    assert "ratio" in ex.check_motion_noise(real, actions, noisy, smooth, "joint_speed_px",
                                            right[1]).message
    assert "recovered" in ex.check_motion_noise(real, actions, noisy, smooth, right[0],
                                                ["joint_speed_px"]).message
    assert "spell" in ex.check_motion_noise(real, actions, noisy, smooth, "speed", right[1]).message
    no_wrap = smooth.copy()
    no_wrap[:, 0], no_wrap[:, -1] = noisy[:, 0], noisy[:, -1]
    assert "first and last" in ex.check_motion_noise(real, actions, noisy, no_wrap, *right).message
    loud = real + np.random.default_rng(0).normal(0, 2.0, real.shape)
    assert "standard deviation" in ex.check_motion_noise(real, actions, loud, smooth, *right).message
    _assert_hint_hides(ex.check_motion_noise(real, actions, noisy, smooth, "loop_closure", right[1]),
                       "ground_contact_px")


def _finished_run(folder, steps: int = 10, last: int | None = None, **changes):
    from charlib.base.run import RunFolder

    config = GanConfig(image_size=16, latent_dim=8, g_width=4, d_width=4, steps=steps, **changes)
    run = RunFolder(folder, config.to_dict())
    run.write_history([{"step": float(s), "d_loss": 1.0} for s in (1, steps if last is None else last)])
    return folder


def test_remedy_runs_check_wants_two_finished_runs_that_differ_only_in_the_remedy(tmp_path):
    plain = _finished_run(tmp_path / "plain")
    packed = _finished_run(tmp_path / "pack2", pack=2)
    feedback = ex.check_remedy_runs(plain, packed)
    assert feedback and "pack" in feedback.message
    assert "same settings" in ex.check_remedy_runs(plain, _finished_run(tmp_path / "again")).message
    longer = _finished_run(tmp_path / "long", steps=20, pack=2)
    assert "differ in steps" in ex.check_remedy_runs(plain, longer).message
    stopped = _finished_run(tmp_path / "stopped", last=4, pack=2)
    assert "stopped at step 4" in ex.check_remedy_runs(plain, stopped).message
    assert "not a GAN run folder" in ex.check_remedy_runs(plain, tmp_path / "nowhere").message
    assert ex.check_remedy_runs(plain, packed.as_posix())


def test_shifted_copies_check_wants_the_right_shift_both_spaces_and_the_space_that_catches_them():
    from charlib.diagnostics import memorisation as mem

    images = sprites.sample_sprites(80, size=16, seed=3).images
    train, heldout = images[:60], images[60:]
    mean_colour = lambda x: x.reshape(len(x), -1, 3).mean(axis=1)  # noqa: E731 (blind to a wrap-around shift)
    shifted = np.roll(train[:40], 2, axis=2)
    reports = mem.memorisation_check(shifted, train, heldout, features=mean_colour)
    caught = min(reports, key=lambda space: reports[space].nn_ratio)
    assert caught == "features"
    assert ex.check_shifted_copies(shifted, train, reports, "features")
    _assert_hint_hides(ex.check_shifted_copies(shifted, train, reports, "pixel"), "features")
    down = np.roll(train[:40], 2, axis=1)
    assert "axis 2" in ex.check_shifted_copies(down, train, reports, "features").message
    pixel_only = mem.memorisation_check(shifted, train, heldout)
    assert "features=" in ex.check_shifted_copies(shifted, train, pixel_only, "features").message
    no_heldout = mem.memorisation_check(shifted, train, features=mean_colour)
    assert "held-out" in ex.check_shifted_copies(shifted, train, no_heldout, "features").message
    others = mem.memorisation_check(train[:10], train, heldout, features=mean_colour)
    assert "not of the 40" in ex.check_shifted_copies(shifted, train, others, "features").message


def test_wide_finetune_check_wants_the_courses_error_and_no_folder(tmp_path):
    from dataclasses import replace

    from charlib.errors import CharlibError
    from charlib.training.gan import train_gan
    from charlib.training.trainer import read_run_config

    source = _finished_run(tmp_path / "source")
    wide = tmp_path / "wide"
    with pytest.raises(CharlibError) as caught:
        train_gan(replace(read_run_config(GanConfig, source), g_width=8), wide, init_from=source,
                  progress=False)
    error = caught.value
    assert ex.check_wide_finetune(error, False, wide)
    assert "exists()" in ex.check_wide_finetune(error, True, wide).message
    assert "ValueError" in ex.check_wide_finetune(ValueError("shapes"), False, wide).message
    assert "No error caught" in ex.check_wide_finetune(None, False, wide).message
    assert "not about the wider" in ex.check_wide_finetune(CharlibError("other"), False, wide).message
    wide.mkdir()
    assert "left over" in ex.check_wide_finetune(error, True, wide).message


def test_width_growth_check_builds_the_networks_and_wants_the_dense_layer():
    from charlib.models import dcgan

    truth = {w: (dcgan.make_generator(128, 64, w).count_params(),
                 dcgan.make_discriminator(64, w).count_params()) for w in (8, 16, 32, 64)}
    assert ex.check_width_growth(truth, "the Dense layer from z")
    assert "swapped" in ex.check_width_growth({w: (d, g) for w, (g, d) in truth.items()}, "Dense").message
    assert "the layer is not" in ex.check_width_growth(truth, "the last Conv2DTranspose").message
    assert "one entry per width" in ex.check_width_growth({8: truth[8]}, "Dense").message
    off = {**truth, 64: (truth[64][0] + 1, truth[64][1])}
    _assert_hint_hides(ex.check_width_growth(off, "Dense"), str(truth[64][0]), f"{truth[64][0]:,}")


def _course_step(gan, real, *, concat=False, swap=False, saturating=False, alternate=False, skip_g=False):
    """A learner's GAN step, right by default; each flag is one common mistake."""
    import tensorflow as tf

    from charlib import losses

    z = gan.noise(tf.shape(real)[0], gan.step)
    d_vars, g_vars = gan.discriminator.trainable_variables, gan.generator.trainable_variables
    with tf.GradientTape(persistent=True) as tape:
        fake = gan.generator(z, training=True)
        if concat:
            logits = gan.discriminator(tf.concat([real, fake], 0), training=True)
            real_logits, fake_logits = logits[: len(real)], logits[len(real):]
        else:
            real_logits = gan.discriminator(real, training=True)
            fake_logits = gan.discriminator(fake, training=True)
        d_loss = losses.d_loss_minimax(real_logits, fake_logits)
        g_loss = (losses.g_loss_minimax if saturating else losses.g_loss_nonsaturating)(fake_logits)
    gan.d_optimizer.apply_gradients(zip(tape.gradient(d_loss, d_vars), d_vars, strict=True))
    if alternate:  # G's loss again, through the discriminator that was just updated
        with tf.GradientTape() as tape:
            g_loss = losses.g_loss_nonsaturating(gan.discriminator(gan.generator(z, training=True),
                                                                   training=True))
    if not skip_g:
        gan.g_optimizer.apply_gradients(zip(tape.gradient(g_loss, g_vars), g_vars, strict=True))
    gan.step.assign_add(1)
    return (g_loss, d_loss) if swap else (d_loss, g_loss)


def test_train_step_check_matches_charlibs_step_and_names_each_slip():
    from functools import partial

    assert ex.check_train_step(_course_step)
    assert "separate calls" in ex.check_train_step(partial(_course_step, concat=True)).message
    assert "swapped" in ex.check_train_step(partial(_course_step, swap=True)).message
    assert "g_loss_nonsaturating" in ex.check_train_step(partial(_course_step, saturating=True)).message
    assert "before D is updated" in ex.check_train_step(partial(_course_step, alternate=True)).message
    assert "generator's is not" in ex.check_train_step(partial(_course_step, skip_g=True)).message
    assert "raised ZeroDivisionError" in ex.check_train_step(lambda gan, real: 1 / 0).message
    assert "two finite numbers" in ex.check_train_step(lambda gan, real: None).message
