"""Training: the shared training loop, and the GAN, VAE and conditional VAE trainers.

A trainer turns a config into a run folder (see :mod:`charlib.base.run`) and runs the shared
loop (:mod:`charlib.training.loop`) with the model's compiled ``train_step``: progress bars, sample
grids, TensorBoard, atomic checkpoints, resume and a NaN guard come with every model.
"""
