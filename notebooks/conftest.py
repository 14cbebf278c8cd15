"""nbval on two pytest-xdist workers (``make nbval``): each worker's kernels get their own outputs
folder, so two notebooks running at once never share a run folder that one of them is training.
A notebook run alone trains what it needs, so each worker's notebooks pass in any split."""

import os
from pathlib import Path

_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker:
    _base = Path(os.environ.get("CHARLIB_OUTPUTS") or Path(__file__).resolve().parent.parent / "outputs")
    os.environ["CHARLIB_OUTPUTS"] = str(_base / f"nbval-{_worker}")
