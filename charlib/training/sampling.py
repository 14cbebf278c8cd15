"""Sampling from a GAN or VAE run: :func:`load_sampler` rebuilds a run folder's generator (GAN) or
decoder (VAE), with which ``charlib sample``, ``charlib animate`` and ``diagnose`` draw their images.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from charlib.errors import CharlibError


def load_sampler(run_dir: str) -> tuple[Callable[[np.ndarray], np.ndarray], int]:
    """(function z -> uint8 images, latent_dim) for a GAN or VAE run folder."""
    from charlib.base.run import RunFolder

    kind = RunFolder.open(run_dir).config.get("model")
    if kind == "gan":
        from charlib.training.gan import generate, load_generator

        generator, config = load_generator(run_dir)
        return (lambda z: generate(generator, z)), config.latent_dim
    if kind == "vae":
        from charlib.training.vae import decode, load_vae

        vae, config = load_vae(run_dir)
        return (lambda z: decode(vae, z)), config.latent_dim
    raise CharlibError(f"{run_dir} holds a {kind!r} run; charlib sample knows 'gan' and 'vae'")
