"""Models: the networks the course trains, built from standard Keras layers.

Every builder returns a plain ``keras.Model`` (no lambdas); the course's own layers are registered,
so a ``.keras`` file loads back with ``safe_mode`` on once these modules are imported (as
``charlib.training.gan`` does). Sizes are explicit arguments, recorded in the run folder's
``config.json`` so any later command can rebuild a model.
"""
