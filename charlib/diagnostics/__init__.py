"""diagnostics: measure what a generative model learned, not just how good its samples look.

A GAN can produce sharp samples while ignoring most of the data (mode collapse), and its losses do
not say so. This package holds the measurements the course uses to see it: ``toys`` for now
(2-D Gaussian mixtures whose modes are known exactly, mode counting on them, 1-D divergences for
the maths notebook and a tiny GAN that trains in seconds); mode counting on the sprites with an
attribute classifier, and precision/recall/density/coverage (PRDC), come later.
"""
