"""Remedies for mode collapse, as named recipes: the same DCGAN trainer with one switch changed.

A GAN *collapses* when its generator finds a few outputs that fool the discriminator and stops
exploring: samples look fine one by one, but most of the data's modes never appear. Each remedy
attacks a cause. **Minibatch standard deviation** and **PacGAN packing** let the discriminator see
several samples at once, so a batch with too little variety is easy to reject. **Spectral
normalisation** and **WGAN-GP** keep the discriminator smooth, so its gradients point the generator
towards every part of the data rather than the nearest one. **Two-timescale updates** (TTUR: a
faster discriminator) keep D close to optimal, which the theory behind GANs assumes.

Each recipe in :data:`SPRITE_RECIPES` is a dict of :class:`~charlib.training.gan.GanConfig`
overrides on top of the full profile, so a run is ``train_gan(recipe_config("pacgan2"), out)`` and
its config.json says exactly what was switched on. ``benchmarks/remedies_sprites.py`` trains them
all for the same number of steps and scores them with :mod:`charlib.diagnostics`.

Recipes whose rows stay in ``benchmarks/results/remedies_sprites.json`` but which no longer run are
listed there under ``"removed"`` (:func:`removed_recipes`): they measured no better than
``pacgan2-decay``, so the package dropped the options they switched on; each names the commit of the
course that still runs it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from charlib.config import profile
from charlib.errors import CharlibError
from charlib.training.gan import GanConfig

__all__ = ["SPRITE_RECIPES", "recipe_config", "removed_recipes"]

RESULTS = Path(__file__).resolve().parent / "results" / "remedies_sprites.json"

SPRITE_RECIPES: dict[str, dict[str, Any]] = {
    # the full profile's plain DCGAN (BatchNorm D, non-saturating loss, equal learning rates)
    "dcgan": {},
    # the setting that collapsed in our first runs: a wider latent and no weight averaging
    "collapse-prone": {"latent_dim": 128, "ema_decay": None},
    "minibatch-std": {"minibatch_std": True},
    "pacgan2": {"pack": 2},
    "pacgan2-batch128": {"pack": 2, "batch_size": 128},
    "sn-hinge-ttur": {"d_norm": "spectral", "loss": "hinge", "lr_d": 4e-4, "lr_g": 1e-4},
    "wgan-gp": {"loss": "wgan-gp", "lr_d": 1e-4, "lr_g": 1e-4, "beta_1": 0.5, "beta_2": 0.9},
    # the pair that stops the 64x64 collapse (benchmarks/results/speed_coverage.md), here at 32x32
    "diffaugment-pacgan2": {"augment": "translation,cutout", "pack": 2},
    # PacGAN2 whose learning rates fall linearly to 0 over the second half of the run
    "pacgan2-decay": {"pack": 2, "lr_decay": 0.5},
    # the plain DCGAN with the same falling learning rates
    "dcgan-decay": {"lr_decay": 0.5},
    "pacgan2-batch128-decay": {"pack": 2, "batch_size": 128, "lr_decay": 0.5},
    # pacgan2-decay with D smoothed by an R1 penalty
    "pacgan2-decay-r1": {"pack": 2, "lr_decay": 0.5, "r1": 0.1},
}


def removed_recipes() -> dict[str, dict[str, str]]:
    """Recipes that were measured and then dropped with the options they switched on, as the
    ``"removed"`` entry of ``benchmarks/results/remedies_sprites.json`` records them: name ->
    {"commit": the commit of the course that still runs it, "why": ...}."""
    return json.loads(RESULTS.read_text()).get("removed", {}) if RESULTS.is_file() else {}


def recipe_config(name: str, **overrides: Any) -> GanConfig:
    """The full-profile :class:`GanConfig` with recipe ``name`` switched on, then ``overrides``.

    Raises:
        CharlibError: for an unknown or removed recipe name, listing the known ones.
    """
    gone = removed_recipes().get(name)
    if gone is not None:
        raise CharlibError(f"Recipe {name!r} was removed ({gone['why']}); its rows stay in "
                           f"benchmarks/results/remedies_sprites.json, and commit {gone['commit']} of the "
                           "course still runs it.")
    if name not in SPRITE_RECIPES:
        raise CharlibError(f"Unknown recipe {name!r}; choose one of {sorted(SPRITE_RECIPES)}.")
    base = GanConfig.from_profile(profile("full"))
    return replace(base, **{**SPRITE_RECIPES[name], **overrides})
