"""diagnostics: measure what a generative model learned, not just how good its samples look.

A GAN can produce sharp samples while ignoring most of the data (mode collapse), and its losses do
not say so. This package holds the measurements the course uses to see it: ``toys`` (2-D Gaussian
mixtures whose modes are known exactly, mode counting on them, 1-D divergences for the maths
notebook and a tiny GAN that trains in seconds); ``classifier`` (an attribute and pose classifier
for sprites, trained on the training identities); ``modes`` (the Stacked-MNIST-style protocol on
sprites: modes covered and reverse KL); ``prdc`` (precision/recall, density/coverage and a
Fréchet distance in the classifier's features); and :func:`diagnose`, all of it for a run folder.
"""

from __future__ import annotations

from pathlib import Path


def diagnose(run_dir: str | Path, *args, **kwargs) -> dict[str, object]:
    """Mode coverage, reverse KL, precision/recall/density/coverage and FCD of a GAN or VAE run.

    See :func:`charlib.diagnostics.report.diagnose` (imported lazily: TensorFlow loads on first use).
    """
    from charlib.diagnostics.report import diagnose as _diagnose

    return _diagnose(run_dir, *args, **kwargs)
