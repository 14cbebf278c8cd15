"""Cluster conditioning: colour histograms, k-means, the cluster code and labeller, and training with them."""

from __future__ import annotations

import json
from dataclasses import replace

import keras
import numpy as np
import pytest
from PIL import Image

from charlib.data.pipeline import to_float
from charlib.data.sprites import sample_sprites
from charlib.errors import CharlibError, ShapeError
from charlib.models import clusters as cl
from charlib.models import dcgan
from charlib.training.gan import GanConfig, train_gan

TINY = dict(image_size=16, latent_dim=8, g_width=4, d_width=4, batch_size=8, n_data=64,
            sample_every=3, ckpt_every=3, log_every=1, n_samples=4)


@pytest.fixture(scope="module")
def sprites():
    return sample_sprites(400, size=16, seed=0, split="train")


def test_colour_histogram_rows_have_unit_length_and_ignore_where_colours_are(sprites):
    h = cl.colour_histograms(sprites.images)
    assert h.shape == (400, cl.HIST_BINS**3)
    np.testing.assert_allclose((h**2).sum(1), 1.0, atol=1e-5)
    flipped = cl.colour_histograms(sprites.images[:, :, ::-1])
    np.testing.assert_array_equal(h, flipped)
    shifted = cl.colour_histograms(np.roll(sprites.images, 3, axis=1))
    np.testing.assert_array_equal(h, shifted)
    with pytest.raises(ShapeError, match="N, H, W, 3"):
        cl.colour_histograms(sprites.images[..., 0])


def test_kmeans_finds_separated_blobs_and_uses_every_cluster():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], np.float32)
    truth = rng.integers(0, 4, 400)
    x = centres[truth] + 0.3 * rng.standard_normal((400, 2)).astype(np.float32)
    labels, found = cl.kmeans(x, 4, seed=1)
    # each found cluster is exactly one true blob
    assert all(len(np.unique(truth[labels == j])) == 1 for j in range(4))
    assert len(np.unique(labels)) == 4
    np.testing.assert_allclose(np.sort(found, axis=0), np.sort(centres, axis=0), atol=0.2)
    again, _ = cl.kmeans(x, 4, seed=1)
    np.testing.assert_array_equal(labels, again)
    # more clusters than blobs: none is left empty
    many, _ = cl.kmeans(x, 12, seed=0)
    assert len(np.unique(many)) == 12
    with pytest.raises(CharlibError, match="k="):
        cl.kmeans(x[:3], 4)


def test_sprite_clusters_follow_identities_not_poses(sprites):
    fitted = cl.fit_clusters(sprites.images, 40, seed=0)
    np.testing.assert_allclose(fitted.frequencies.sum(), 1.0, atol=1e-6)
    labels = fitted.assign(sprites.images)
    # one character in different poses: mostly one cluster (a colour histogram is blind to pose)
    one = sample_sprites(72, size=16, seed=3, split="train").labels.attributes[:1].repeat(72, 0)
    from charlib.data.sprites import render

    poses = render(one, action=np.arange(72) % 3, direction=(np.arange(72) // 3) % 3,
                   frame=np.arange(72) // 9, size=16)
    counts = np.bincount(fitted.assign(poses), minlength=40)
    assert counts.max() >= 0.5 * 72
    # while 400 random characters spread over many clusters
    assert len(np.unique(labels)) >= 30


def test_labeller_layer_labels_real_images_as_the_numpy_assignment(sprites):
    fitted = cl.fit_clusters(sprites.images, 25, seed=0)
    layer = cl.ClusterLabeller(25)
    layer.set_centroids(fitted.centroids)
    np.testing.assert_array_equal(np.asarray(layer(to_float(sprites.images))), fitted.assign(sprites.images))
    with pytest.raises(ShapeError, match="centroids"):
        layer.set_centroids(fitted.centroids[:3])


def test_cluster_code_draws_clusters_at_the_fitted_frequencies_from_gaussian_z():
    code = cl.ClusterCode(4)
    code.set_frequencies(np.array([0.1, 0.2, 0.3, 0.4]))
    z = np.random.default_rng(0).standard_normal((40_000, 5)).astype("float32")
    c = np.asarray(code.cluster(z))
    np.testing.assert_allclose(np.bincount(c, minlength=4) / len(c), [0.1, 0.2, 0.3, 0.4], atol=0.01)
    rest, onehot = (np.asarray(x) for x in code(z[:6]))
    assert rest.shape == (6, 4) and onehot.shape == (6, 4)
    np.testing.assert_array_equal(rest, z[:6, :4])
    np.testing.assert_array_equal(onehot.argmax(1), c[:6])
    np.testing.assert_array_equal(onehot.sum(1), 1.0)
    with pytest.raises(ShapeError, match="frequencies"):
        code.set_frequencies(np.ones(3))


def test_cluster_generator_takes_gaussian_z_and_reloads_with_its_frequencies(tmp_path):
    base = dcgan.make_generator(8 - 1 + cl.CLUSTER_EMBEDDING, 16, 4, name="base_generator")
    g = cl.make_cluster_generator(base, 8, 5)
    g.get_layer("cluster_code").set_frequencies(np.array([0, 0, 1, 0, 0]))
    z = np.random.default_rng(0).standard_normal((3, 8)).astype("float32")
    images = np.asarray(g(z))
    assert images.shape == (3, 16, 16, 3)
    g.save(tmp_path / "g.keras")
    again = keras.models.load_model(tmp_path / "g.keras", safe_mode=True)
    np.testing.assert_allclose(np.asarray(again(z)), images, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(again.get_layer("cluster_code").cluster(z)), [2, 2, 2])
    with pytest.raises(ShapeError, match="latent_dim - 1 \\+ CLUSTER_EMBEDDING"):
        cl.make_cluster_generator(base, 9, 6)


@pytest.mark.parametrize("overrides, message", [
    (dict(clusters=1), "clusters"),
    (dict(clusters=-2), "clusters"),
    (dict(clusters=100), "n_data"),
    (dict(clusters=4, cluster_weight=-1.0), "cluster_weight"),
    (dict(clusters=4, nets="reference", image_size=32), "clusters"),
])
def test_bad_cluster_settings_are_clear_errors(overrides, message):
    with pytest.raises(CharlibError, match=message):
        GanConfig(**{**TINY, **overrides})


def test_too_few_images_for_the_clusters_stops_before_a_run_folder_exists(tmp_path, sprites):
    folder = tmp_path / "art"
    folder.mkdir()
    for i, image in enumerate(sprites.images[:12]):
        Image.fromarray(image).save(folder / f"c_{i:02d}.png")
    out = tmp_path / "run"
    with pytest.raises(CharlibError, match="clusters=20 needs at least as many training images; got 12"):
        train_gan(GanConfig(**{**TINY, "steps": 2, "clusters": 20, "data": str(folder)}), out, progress=False)
    assert not out.exists()
    with pytest.raises(CharlibError, match="got 12"):  # images passed directly are checked alike
        train_gan(GanConfig(**{**TINY, "steps": 2, "clusters": 20}), out, images=sprites.images[:12],
                  progress=False)
    assert not out.exists()


def test_cluster_gan_trains_fits_its_clusters_resumes_exactly_and_exports(tmp_path, interrupted_at_batch):
    images = sample_sprites(64, size=16, seed=0, split="train").images
    config = GanConfig(steps=6, **{**TINY, "ckpt_every": 100}, clusters=4)
    straight = train_gan(config, tmp_path / "a", images=images, progress=False)
    gan = straight.model
    fitted = cl.fit_clusters(images, 4, seed=config.seed)
    np.testing.assert_allclose(np.asarray(gan.labeller.centroids), fitted.centroids, atol=1e-6)
    cdf = np.asarray(gan.sampler.get_layer("cluster_code").cdf)
    np.testing.assert_allclose(cdf, np.cumsum(fitted.frequencies), atol=1e-5)
    assert all(np.isfinite([row["cluster_loss"], row["reader_loss"]]).all() for row in straight.history)
    assert json.loads((tmp_path / "a" / "config.json").read_text())["clusters"] == 4
    # the cluster loss is in G's loss: without it G learns something else
    plain = train_gan(replace(config, cluster_weight=0.0), tmp_path / "p", images=images, progress=False)
    assert not all(np.allclose(a.numpy(), b.numpy()) for a, b in
                   zip(gan.generator.trainable_weights, plain.model.generator.trainable_weights, strict=True))
    with interrupted_at_batch(4):
        train_gan(config, tmp_path / "b", images=images, progress=False)
    resumed = train_gan(out=tmp_path / "b", resume=True, images=images, progress=False)
    for net in ("generator", "discriminator", "cluster_reader"):
        for a, b in zip(getattr(gan, net).weights, getattr(resumed.model, net).weights, strict=True):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(resumed.model.labeller.centroids.numpy(), gan.labeller.centroids.numpy())
    g = keras.models.load_model(tmp_path / "a" / "generator.keras", safe_mode=True)
    np.testing.assert_allclose(np.asarray(g.get_layer("cluster_code").cdf), cdf)
    assert g.output_shape == (None, 16, 16, 3)
