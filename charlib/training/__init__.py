"""Training: the one training loop (:mod:`charlib.training.loop`) and the GAN, VAE, conditional VAE
and motion VAE trainers, which all run their steps through it."""
