"""The ex-post latent prior: a Gaussian mixture fitted by EM, sampled, scored and saved."""

import numpy as np
import pytest

from charlib.models.latent_prior import GaussianMixturePrior, fit_gaussian_mixture


def _two_blobs(n: int = 3000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.normal([-3.0, 0.0, 1.0], [0.5, 0.2, 0.3], size=(n // 4, 3))
    b = rng.normal([2.0, 1.0, -1.0], [0.3, 0.6, 0.4], size=(3 * n // 4, 3))
    return np.concatenate([a, b])


def test_em_recovers_means_and_weights_of_a_known_mixture():
    gmm = fit_gaussian_mixture(_two_blobs(), n_components=2, seed=0)
    order = np.argsort(gmm.means[:, 0])
    np.testing.assert_allclose(gmm.weights[order], [0.25, 0.75], atol=0.02)
    np.testing.assert_allclose(gmm.means[order], [[-3, 0, 1], [2, 1, -1]], atol=0.1)
    np.testing.assert_allclose(np.sqrt(np.diagonal(gmm.covariances[order], axis1=1, axis2=2)),
                               [[0.5, 0.2, 0.3], [0.3, 0.6, 0.4]], atol=0.05)


def test_log_prob_of_one_component_is_the_multivariate_normal_density():
    cov = np.array([[2.0, 0.3], [0.3, 0.5]])
    gmm = GaussianMixturePrior(np.array([1.0]), np.array([[1.0, -1.0]]), cov[None])
    z = np.array([[0.0, 0.0], [1.0, -1.0], [3.0, 2.0]])
    diff = z - [1.0, -1.0]
    expected = -0.5 * (np.einsum("ni,ij,nj->n", diff, np.linalg.inv(cov), diff)
                       + np.log(np.linalg.det(cov)) + 2 * np.log(2 * np.pi))
    np.testing.assert_allclose(gmm.log_prob(z), expected, rtol=1e-10)


def test_samples_follow_the_fitted_mixture_and_are_repeatable():
    gmm = fit_gaussian_mixture(_two_blobs(), n_components=2, seed=0)
    z = gmm.sample(20_000, seed=1)
    assert z.shape == (20_000, 3) and z.dtype == np.float32
    np.testing.assert_allclose(z.mean(axis=0), _two_blobs().mean(axis=0), atol=0.05)
    np.testing.assert_array_equal(z, gmm.sample(20_000, seed=1))
    assert np.std(gmm.sample(20_000, seed=1, temperature=0.5)[:, 1]) < np.std(z[:, 1])


def test_fitting_raises_the_likelihood_over_a_single_gaussian():
    data = _two_blobs()
    one = fit_gaussian_mixture(data, n_components=1)
    two = fit_gaussian_mixture(data, n_components=2)
    assert np.mean(two.log_prob(data)) > np.mean(one.log_prob(data)) + 0.5


def test_save_and_load_give_the_same_mixture(tmp_path):
    gmm = fit_gaussian_mixture(_two_blobs(500), n_components=3, seed=2)
    loaded = GaussianMixturePrior.load(gmm.save(tmp_path / "prior.npz"))
    np.testing.assert_array_equal(loaded.means, gmm.means)
    np.testing.assert_array_equal(loaded.sample(5, seed=0), gmm.sample(5, seed=0))


@pytest.mark.parametrize("bad, message", [
    (np.zeros(10), "must be"),
    (np.array([[0.0, np.nan]] * 5), "NaN"),
    (np.zeros((3, 2)), "n_components"),
])
def test_bad_latents_are_refused_with_a_clear_message(bad, message):
    with pytest.raises(ValueError, match=message):
        fit_gaussian_mixture(bad, n_components=4)
