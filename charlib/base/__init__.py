"""The base layer: what every other part of charlib may use, and which uses none of them.

``run`` (the run folder: config.json, checkpoints' folder, history, the lock; reading a run's
config back with clear errors), ``io`` (atomic writes and model export) and ``images`` (image grids,
PNG and GIF files). ``charlib.errors`` and ``charlib.config`` belong to this layer too.
"""
