"""Models: the networks the course trains, built from standard Keras layers only.

Every builder returns a plain ``keras.Model`` (no lambdas, no custom objects), so a model saved as
``.keras`` loads back with ``safe_mode`` on. Sizes are explicit arguments with shapes in the
docstrings; the run folder's ``config.json`` records them so any later command can rebuild the model.
"""
