"""charlib: the package behind the course on generative models for virtual character animation.

The notebooks teach; this package holds the code they share, by concept: ``data`` (procedural
sprites with skeletons, image folders, tf.data pipelines), ``viz`` (grids and sheets),
``animation`` (GIFs and inline players), ``config`` (the smoke/full profiles), ``system`` (what this
machine has), ``cli`` (the ``charlib`` command) and, below them all, ``base`` (run folders, atomic
writes, image files). Importing charlib does not import TensorFlow; only the modules that need it do.
"""

__version__ = "0.1.0"

import os as _os

# TensorFlow's C++ start-up chatter (oneDNN notices, CPU feature lists) buries a learner's output;
# keep warnings and errors. Set TF_CPP_MIN_LOG_LEVEL yourself to see everything.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
