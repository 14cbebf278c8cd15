"""The sprite attribute classifier: shapes, resizing, a short real training run, saving and caching.

The >= 99% held-out accuracy of the full recipe is measured by benchmarks/diagnostics_real.py (it
takes about a minute or more of CPU); here a short run must clearly beat chance on held-out identities.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from charlib.data import sprites as sp
from charlib.diagnostics import classifier as C
from charlib.errors import ShapeError


@pytest.fixture(scope="module")
def small_clf():
    return C.train_classifier(32, n_train=3000, epochs=2, progress=False, n_eval=600)


@pytest.mark.parametrize("size", [32, 64])
def test_model_has_seven_heads_and_a_feature_layer(size):
    model = C.make_classifier_model(size, feature_dim=16)
    out = model(np.zeros((2, size, size, 3), np.float32))
    assert {h: tuple(v.shape) for h, v in out.items()} == {h: (2, C.HEAD_SIZES[h]) for h in C.HEADS}
    assert model.get_layer("features").output.shape[-1] == 16


def test_resize_halves_by_2x2_mean_and_doubles_by_repeating_pixels():
    img = sp.sample_sprites(2, size=64, seed=0).images
    small = C.resize_images(img, 32)
    expected = img.astype(np.float32).reshape(2, 32, 2, 32, 2, 3).mean(axis=(2, 4))
    np.testing.assert_allclose(small, expected, atol=1e-3)
    big = C.resize_images(img[:, ::2, ::2], 64)
    np.testing.assert_array_equal(big, np.repeat(np.repeat(img[:, ::2, ::2], 2, 1), 2, 2))


def test_bad_images_are_refused_with_clear_errors(small_clf):
    with pytest.raises(ShapeError, match="uint8"):
        small_clf.predict(np.zeros((1, 32, 32, 3), np.float32))
    with pytest.raises(ShapeError, match="square"):
        small_clf.predict(np.zeros((1, 32, 40, 3), np.uint8))
    with pytest.raises(ShapeError, match="sizes"):
        C.course_classifier(48)


def test_short_training_run_beats_chance_on_held_out_identities(small_clf):
    for size in (32, 64):
        acc = small_clf.accuracy[f"native_{size}"]
        assert acc["direction"] > 0.8  # chance 1/3
        assert np.mean([acc[h] for h in C.APPEARANCE_HEADS]) > 0.45  # chance 1/6
        assert acc["mode"] > 0.05  # chance 1/1296


def test_predictions_modes_and_features_agree_and_work_at_both_sizes(small_clf):
    s = sp.sample_sprites(40, size=64, seed=3, split="test")
    pred = small_clf.predict(s.images)
    assert set(pred) == set(C.HEADS) and all(v.shape == (40,) for v in pred.values())
    attrs = np.stack([pred[h] for h in C.APPEARANCE_HEADS], axis=1)
    np.testing.assert_array_equal(small_clf.mode_ids(s.images), sp.mode_id(attrs))
    feats = small_clf.features(s.images)
    assert feats.shape == (40, 128) and feats.dtype == np.float32
    # batching does not change anything
    np.testing.assert_allclose(small_clf.features(s.images, batch_size=7), feats, atol=1e-4)


def test_save_then_load_gives_the_same_predictions(small_clf, tmp_path):
    s = sp.sample_sprites(30, size=32, seed=4)
    small_clf.save(tmp_path / "clf")
    loaded = C.AttributeClassifier.load(tmp_path / "clf")
    assert loaded.accuracy == json.loads(json.dumps(small_clf.accuracy))
    np.testing.assert_allclose(loaded.features(s.images), small_clf.features(s.images), atol=1e-5)


def test_course_classifier_trains_once_then_loads_and_retrains_a_stale_cache(small_clf, tmp_path,
                                                                                monkeypatch):
    calls = []

    def fake_train(image_size, quick=False, progress=True):
        calls.append((image_size, quick))
        small_clf.info = {"recipe": dict(C.QUICK_RECIPE if quick else C.RECIPE)}
        return small_clf

    monkeypatch.setattr(C, "train_classifier", fake_train)
    folder = tmp_path / "cache"
    C.course_classifier(32, folder=folder)
    C.course_classifier(32, folder=folder)
    assert calls == [(32, False)]
    meta = json.loads((folder / "classifier.json").read_text())
    meta["recipe"]["version"] = -1  # made with another recipe: must not be trusted
    (folder / "classifier.json").write_text(json.dumps(meta))
    C.course_classifier(32, folder=folder)
    (folder / "classifier.json").write_text("{ broken")
    C.course_classifier(32, folder=folder)
    assert calls == [(32, False)] * 3
    C.course_classifier(32, folder=folder, quick=True)  # another recipe: retrained
    C.course_classifier(32, folder=folder, quick=True)
    assert calls == [(32, False)] * 3 + [(32, True)]


def test_degrade_without_blur_or_jitter_is_plain_pixel_noise():
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(0).uniform(0, 255, (4, 8, 8, 3)).astype("float32"))
    seed = tf.constant([3, 4], tf.int64)
    expected = x + 5.0 * tf.random.stateless_normal(tf.shape(x), seed=seed)
    np.testing.assert_allclose(np.asarray(C.degrade(x, seed, 5.0)), np.asarray(expected), rtol=1e-6)


def test_degrade_blurs_edges_keeps_flat_colour_and_shifts_each_image_by_one_colour():
    import tensorflow as tf

    seed = tf.constant([0, 1], tf.int64)
    flat = tf.fill((8, 6, 6, 3), 100.0)  # a flat colour has nothing to blur, even at the border
    np.testing.assert_allclose(np.asarray(C.degrade(flat, seed, 0.0, blur=1.0)), 100.0, rtol=1e-5)
    dot = np.zeros((64, 7, 7, 3), "float32")
    dot[:, 3, 3] = 255.0
    blurred = np.asarray(C.degrade(tf.constant(dot), seed, 0.0, blur=1.0))
    assert (blurred[:, 3, 3] <= 255.0).all() and blurred[:, 3, 3].min() < 200.0  # some were blurred
    np.testing.assert_allclose(blurred.sum(axis=(1, 2)), 255.0, rtol=1e-4)  # blur moves, keeps light
    shifted = np.asarray(C.degrade(flat, seed, 0.0, jitter=10.0)) - 100.0
    np.testing.assert_allclose(shifted, shifted[:, :1, :1, :] * np.ones((1, 6, 6, 1)), atol=1e-4)
    assert 3.0 < float(shifted[:, 0, 0].std()) < 20.0


def test_blur_and_jitter_are_recorded_in_the_recipe_and_do_not_hit_the_course_cache(tmp_path):
    clf = C.train_classifier(32, quick=True, n_train=128, epochs=1, progress=False, n_eval=64, blur=1.0,
                             colour_jitter=0.03)
    assert clf.info["recipe"]["blur"] == 1.0 and clf.info["recipe"]["colour_jitter"] == 0.03
    assert clf.info["recipe"] != C.QUICK_RECIPE  # course_classifier would retrain rather than reuse it
