"""nbval on two pytest-xdist workers (``make nbval``): each worker's kernels get their own outputs
folder, so two notebooks running at once never share a run folder that one of them is training.
A notebook run alone trains what it needs, so each worker's notebooks pass in any split."""

import os

from charlib.config import ENV_OUTPUTS, output_dir

_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker:
    os.environ[ENV_OUTPUTS] = str(output_dir(f"nbval-{_worker}"))
