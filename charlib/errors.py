"""Errors that charlib raises on purpose.

Every failure a learner can cause with their own input (a missing folder, a broken image, a wrong
array shape, a run that diverged) is a :class:`CharlibError` whose message names the thing at fault
and says what to do, never a stack trace from deep inside Pillow or TensorFlow.
"""

from __future__ import annotations


class CharlibError(Exception):
    """Base class of the errors charlib raises for bad input or a failed run."""


class ImageFolderError(CharlibError):
    """An image folder cannot be used: missing, not a folder, empty, or (strict mode) a bad file."""


class ShapeError(CharlibError, ValueError):
    """An array has the wrong shape, dtype or value range for the function it was given to."""


class TrainingDiverged(CharlibError):
    """A loss or a weight became NaN or infinite; training stopped and the last good checkpoint was kept."""
