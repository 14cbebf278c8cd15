"""Helpers the benchmark scripts share (this folder is on ``sys.path`` when a script runs)."""

from __future__ import annotations

import numpy as np


def memorisation_numbers(report) -> dict[str, float | str | None]:
    """The summary numbers of a :class:`charlib.diagnostics.memorisation.MemorisationReport`, for
    JSON: the medians of both distances, the NN ratio and the copy fraction."""
    return {"space": report.space, "sample_nn_median": float(np.median(report.sample_nn)),
            "heldout_nn_median": None if report.heldout_nn is None else float(np.median(report.heldout_nn)),
            "nn_ratio": report.nn_ratio, "copy_fraction": report.copy_fraction}
