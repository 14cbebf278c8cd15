"""The conditional VAE: pairs of frames, conditions, training in a run folder, resume, cycles, scores."""

from __future__ import annotations

import numpy as np
import pytest

from charlib.base.run import RunFolderError
from charlib.data import skeleton as sk
from charlib.data import sprites as sp
from charlib.diagnostics.consistency import identity_consistency, pose_accuracy, score_cycles
from charlib.errors import CharlibError, ShapeError
from charlib.models.conditional import (
    N_CONDITION,
    attribute_codes,
    attributes_from_logits,
    condition_vectors,
)
from charlib.training.conditional import (
    ConditionalConfig,
    generate_cycles,
    load_conditional,
    pair_batch,
    train_conditional,
)


def test_condition_vectors_are_three_one_hots():
    c = condition_vectors(np.array([2, 0]), 1, np.array([7, 0]))
    assert c.shape == (2, N_CONDITION) == (2, 14)
    np.testing.assert_array_equal(c.sum(axis=1), [3, 3])
    assert c[0, 2] == 1 and c[0, 3 + 1] == 1 and c[0, 6 + 7] == 1
    with pytest.raises(ShapeError):
        condition_vectors(3, 0, 0)
    with pytest.raises(ShapeError):
        condition_vectors(0, 0, 8)


def test_pairs_show_one_training_character_in_two_poses_and_repeat_by_step():
    cfg = ConditionalConfig(image_size=32, batch_size=16, seed=5)
    ref, cond, tgt, labels = pair_batch(cfg, step=3)
    assert ref.shape == tgt.shape == (16, 32, 32, 3) and cond.shape == (16, 14)
    assert labels.shape == (16, 24) and np.all(labels.sum(axis=1) == 4)
    assert ref.min() >= -1 and ref.max() <= 1
    np.testing.assert_array_equal(pair_batch(cfg, 3)[0], ref)
    assert not np.array_equal(pair_batch(cfg, 4)[0], ref)
    # the target is exactly the rendered sprite of the condition, for some training identity
    a, d, f = (cond[:, :3].argmax(1), cond[:, 3:6].argmax(1), cond[:, 6:].argmax(1))
    train_modes, _ = sp.identity_split()
    pixels = np.round((tgt[0] + 1) * 127.5).astype(np.uint8)
    found = [m for m in train_modes
             if np.array_equal(sp.render(sp.attributes_of(m), a[0], d[0], f[0], 32)[0], pixels)]
    assert found, "target is not a training character in the requested pose"
    # ...and the labels name that character
    named = sp.mode_id(attributes_from_logits(labels[:1]))[0]
    assert named in found


def test_pairs_refuse_the_test_split():
    with pytest.raises(CharlibError, match="training identities"):
        pair_batch(ConditionalConfig(split="test"), 0)


def test_training_writes_a_run_and_resumes_exactly(tmp_path, tiny_conditional, tiny_conditional_trained):
    full = tiny_conditional_trained  # train_conditional(tiny_conditional(), out): 6 steps
    assert (full.run.path / "generator.keras").is_file()
    assert (full.run.path / "samples" / "step_000006.png").is_file()
    assert np.all(np.isfinite([row["loss"] for row in full.history]))
    half = train_conditional(tiny_conditional(), tmp_path / "half", steps=3, progress=False)
    assert int(half.model.step.numpy()) == 3
    resumed = train_conditional(out=tmp_path / "half", resume=True, steps=6, progress=False)
    for a, b in zip(full.model.decoder.get_weights(), resumed.model.decoder.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_cycles_of_a_loaded_run_keep_one_code_per_row(tiny_conditional_run):
    model, config = load_conditional(tiny_conditional_run)
    z = np.random.default_rng(0).standard_normal((3, config.latent_dim)).astype("float32")
    cycles = generate_cycles(model, z, "jump", "left")
    assert cycles.shape == (3, 8, 16, 16, 3) and cycles.dtype == np.uint8
    np.testing.assert_array_equal(generate_cycles(model, z[1:2], 2, 1)[0], cycles[1])
    with pytest.raises(CharlibError, match="choose from"):
        generate_cycles(model, z, "dance", "left")
    with pytest.raises(CharlibError, match="choose from"):
        generate_cycles(model, z, "walk", "up")


def test_loading_a_folder_without_a_run_is_a_clear_error(tmp_path):
    with pytest.raises(RunFolderError):
        load_conditional(tmp_path)


def test_identity_consistency_counts_strict_cycles_and_lenient_frames():
    same = np.zeros((2, 8), int)
    flicker = same.copy()
    flicker[1, 3] = 4  # one frame of cycle 1 shows another hair
    scores = identity_consistency({"skin": same, "hair": flicker, "top": same, "bottom": same})
    assert scores["cycle_consistency"] == 0.5
    assert scores["frame_agreement"] == pytest.approx(15 / 16)
    assert scores["hair_agreement"] == pytest.approx(15 / 16) and scores["skin_agreement"] == 1.0
    with pytest.raises(ShapeError):
        identity_consistency({"skin": same})


def test_pose_accuracy_compares_with_the_requested_pose():
    frames = np.tile(np.arange(8), (2, 1))
    wrong = frames.copy()
    wrong[0, :2] = 7
    pred = {"action": np.zeros((2, 8), int), "direction": np.ones((2, 8), int), "frame": wrong}
    acc = pose_accuracy(pred, np.array([[0], [0]]), np.array([[1], [2]]), np.arange(8)[None])
    assert acc["action_accuracy"] == 1.0 and acc["direction_accuracy"] == 0.5
    assert acc["frame_accuracy"] == pytest.approx(14 / 16)
    assert acc["action_frame_accuracy"] == pytest.approx(14 / 16)
    assert acc["pose_accuracy"] == pytest.approx(6 / 16)


class _LookupClassifier:
    """Reads sprites by looking their exact pixels up in a table of known renders."""

    def __init__(self, known: dict[bytes, tuple[int, ...]]) -> None:
        self.known = known

    def predict(self, images):
        rows = np.array([self.known[image.tobytes()] for image in images])
        names = ("skin", "hair", "top", "bottom", "action", "direction", "frame")
        return {k: rows[:, i] for i, k in enumerate(names)}


def test_real_cycles_score_perfectly_with_a_perfect_ruler():
    attrs = np.array([[1, 2, 3, 4], [5, 0, 1, 2]])
    poses = [(1, 2), (0, 0)]
    known, cycles = {}, []
    for attr, (a, d) in zip(attrs, poses, strict=True):
        cycle = sp.cycle(attr, sk.ACTIONS[a], sk.DIRECTIONS[d], 32)
        cycles.append(cycle)
        for f, image in enumerate(cycle):
            known[image.tobytes()] = (*attr, a, d, f)
    cycles = np.stack(cycles)
    ruler = _LookupClassifier(known)
    scores = score_cycles(ruler, cycles, np.array([1, 0]), np.array([2, 0]))
    assert scores["cycle_consistency"] == 1.0 and scores["pose_accuracy"] == 1.0
    assert scores["n_cycles"] == 2
    # asking for another action than the one shown costs the pose accuracy, not the identity
    wrong = score_cycles(ruler, cycles, np.array([2, 0]), np.array([2, 0]))
    assert wrong["action_accuracy"] == 0.5 and wrong["cycle_consistency"] == 1.0
    # a cycle whose frames are from two characters is not consistent
    mixed = cycles.copy()
    mixed[0, 4:] = cycles[1, 4:]
    assert score_cycles(ruler, mixed, np.array([1, 0]), np.array([2, 0]))["cycle_consistency"] == 0.5
    with pytest.raises(ShapeError):
        score_cycles(ruler, cycles[:, :5], 0, 0)


def test_palette_colours_depend_on_the_identity_only():
    import keras

    from charlib.models.conditional import make_conditional_decoder

    decoder = make_conditional_decoder(16, latent_dim=4, width=8, palette=6)
    palette = keras.Model(decoder.inputs, decoder.get_layer("palette").output)
    z = np.random.default_rng(0).standard_normal((1, 4)).astype("float32")
    walk = palette([z, condition_vectors(0, 0, 0)])
    jump = palette([z, condition_vectors(2, 1, 5)])
    np.testing.assert_allclose(np.asarray(walk), np.asarray(jump))
    out = np.asarray(decoder([z, condition_vectors(2, 1, 5)]))
    assert out.shape == (1, 16, 16, 3) and out.min() >= -1 and out.max() <= 1
    # every pixel is a convex mix of the 6 colours, so it lies inside their bounding box
    colours = np.asarray(jump)[0]
    assert np.all(out[0] >= colours.min(0) - 1e-5) and np.all(out[0] <= colours.max(0) + 1e-5)


def test_palette_mix_paints_every_pixel_from_its_own_k_colours_and_reloads(tmp_path):
    import keras

    from charlib.models.conditional import palette_mix

    features, code = keras.Input((16, 16, 4)), keras.Input((8,))
    model = keras.Model([features, code], palette_mix(features, code, 5))
    rng = np.random.default_rng(0)
    x = [rng.standard_normal((3, 16, 16, 4)).astype("float32"), rng.standard_normal((3, 8)).astype("float32")]
    images = np.asarray(model(x))
    assert images.shape == (3, 16, 16, 3) and float(np.abs(images).max()) <= 1.0
    parts = keras.Model(model.inputs, [model.get_layer("layers").output, model.get_layer("palette").output])
    weights, colours = (np.asarray(v) for v in parts(x))
    assert colours.shape == (3, 5, 3) and weights.shape == (3, 16, 16, 5)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(images, np.einsum("nhwk,nkc->nhwc", weights, colours), atol=1e-5)
    model.save(tmp_path / "mix.keras")
    again = keras.models.load_model(tmp_path / "mix.keras", safe_mode=True)
    np.testing.assert_allclose(np.asarray(again(x)), images, atol=1e-6)


def test_plain_decoder_and_bad_palette_sizes():
    from charlib.models.conditional import make_conditional_decoder

    plain = make_conditional_decoder(16, latent_dim=4, width=8, palette=0)
    assert plain.output_shape == (None, 16, 16, 3)
    with pytest.raises(ShapeError):
        make_conditional_decoder(16, latent_dim=4, width=8, palette=1)


def test_refining_identities_maps_codes_to_encoder_codes(tiny_conditional_run):
    from charlib.training.conditional import encode_identity, generate_poses, refine_identities

    model, config = load_conditional(tiny_conditional_run)
    z = np.random.default_rng(0).standard_normal((5, config.latent_dim)).astype("float32")
    once = refine_identities(model, z, steps=1)
    np.testing.assert_allclose(once, encode_identity(model, generate_poses(model, z, 0, 0, 0)), atol=1e-6)
    np.testing.assert_array_equal(refine_identities(model, z, steps=0), z)
    assert refine_identities(model, z, steps=2).shape == (5, config.latent_dim)


ATTR = ConditionalConfig(image_size=16, latent_dim=0, width=8, batch_size=8, steps=4, log_every=2,
                         sample_every=2, ckpt_every=2, n_samples=8, kl_warmup_steps=0,
                         identity="attributes")


def test_attribute_codes_are_four_one_hots_and_round_trip():
    attrs = np.array([[0, 5, 2, 3], [5, 0, 0, 1]])
    codes = attribute_codes(attrs)
    assert codes.shape == (2, 24) and codes.dtype == np.float32
    np.testing.assert_array_equal(codes.sum(axis=1), [4, 4])
    assert codes[0, 0] == 1 and codes[0, 6 + 5] == 1 and codes[0, 12 + 2] == 1 and codes[0, 18 + 3] == 1
    np.testing.assert_array_equal(attributes_from_logits(codes * 3.0 - 1.0), attrs)
    with pytest.raises(ShapeError):
        attribute_codes(np.array([[0, 6, 0, 0]]))
    with pytest.raises(ShapeError):
        attributes_from_logits(np.zeros((2, 23)))


def test_attribute_identity_trains_resumes_and_decodes_chosen_characters(tmp_path):
    from charlib.training.conditional import read_attributes, sample_characters

    full = train_conditional(ATTR, tmp_path / "full", progress=False)
    assert "classify" in full.history[-1]
    half = train_conditional(ATTR, tmp_path / "half", steps=2, progress=False)
    resumed = train_conditional(out=tmp_path / "half", resume=True, steps=4, progress=False)
    assert half.history[-1]["step"] == 2
    for a, b in zip(full.model.decoder.weights, resumed.model.decoder.weights, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    model, config = load_conditional(tmp_path / "full")
    assert config.identity == "attributes" and config.code_dim == 24
    chosen = np.array([[1, 2, 3, 4], [0, 0, 0, 0]])
    codes = sample_characters(config, 2, seed=3, attributes=chosen)
    np.testing.assert_array_equal(attributes_from_logits(codes[:, :24]), chosen)
    np.testing.assert_array_equal(codes, sample_characters(config, 2, seed=3, attributes=chosen))
    cycles = generate_cycles(model, codes, "wave", "right")
    assert cycles.shape == (2, 8, 16, 16, 3)
    assert read_attributes(model, cycles[:, 0]).shape == (2, 4)
    drawn = sample_characters(config, 500, seed=0)[:, :24]
    assert set(np.unique(attributes_from_logits(drawn)[:, 0])) == set(range(6))  # every skin is drawn
    with pytest.raises(CharlibError, match="shape"):
        generate_cycles(model, np.zeros((1, 4), np.float32))  # a code without all 4 attributes
    with pytest.raises(CharlibError, match="no mixture"):
        from charlib.training.conditional import identity_prior

        identity_prior(tmp_path / "full", model, config)


def test_attribute_identity_is_refused_where_it_makes_no_sense(tiny_conditional, tiny_conditional_run):
    from charlib.training.conditional import read_attributes, sample_characters

    with pytest.raises(CharlibError, match="identity must be one of"):
        ConditionalConfig(identity="labels")
    with pytest.raises(CharlibError, match="too small"):
        ConditionalConfig(latent_dim=0)
    with pytest.raises(CharlibError, match="only for identity='attributes'"):
        sample_characters(tiny_conditional(), 2, attributes=np.zeros((2, 4), int))
    with pytest.raises(CharlibError, match="gave 1 attribute rows"):
        sample_characters(ATTR, 2, attributes=np.zeros((1, 4), int))
    model, _ = load_conditional(tiny_conditional_run)
    with pytest.raises(CharlibError, match="continuous identity"):
        read_attributes(model, np.zeros((1, 16, 16, 3), np.uint8))


def test_attribute_identity_with_a_continuous_part_trains_too(tmp_path):
    from charlib.training.conditional import encode_identity, sample_characters

    cfg = ConditionalConfig(**{**ATTR.__dict__, "latent_dim": 2, "steps": 2})
    run = train_conditional(cfg, tmp_path / "run", progress=False)
    assert run.history[-1]["kl"] > 0
    codes = sample_characters(cfg, 3, seed=0)
    assert codes.shape == (3, 26)
    frames = generate_cycles(run.model, codes)[:, 0]
    assert encode_identity(run.model, frames).shape == (3, 26)
