"""Models: the networks the course trains, built from standard Keras layers.

Every builder returns a plain ``keras.Model`` (no lambdas); the few layers of the course's own
(``dcgan.Pack``, ``dcgan.MinibatchStdDev``) are registered Keras layers, so
a model saved as ``.keras`` loads back with ``safe_mode`` on once charlib's model modules are imported
(``charlib.training.gan`` imports them). Sizes are explicit arguments with shapes in the
docstrings; the run folder's ``config.json`` records them so any later command can rebuild the model.
"""
