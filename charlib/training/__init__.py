"""Training: run folders, the shared training loop, and the GAN (and later VAE) trainers.

A trainer turns a config into a run folder (see :mod:`charlib.training.run`) and runs the shared
loop (:mod:`charlib.training.loop`) with the model's compiled ``train_step``: progress bars, sample
grids, TensorBoard, atomic checkpoints, resume and a NaN guard come with every model.
"""
