"""Training: the one training loop, and the GAN, VAE, conditional VAE and motion VAE trainers.

Every trainer runs its steps through :func:`charlib.training.loop.fit_steps` (progress, logging, a
NaN guard); those with a run folder (see :mod:`charlib.base.run`) through its ``run_loop``, which adds
sample grids, TensorBoard, atomic checkpoints and resume.
"""
