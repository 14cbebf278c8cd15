"""What this machine has: Python and library versions, CPU cores, GPUs TensorFlow can see.

The first notebook prints this so a learner (or a teacher helping one) sees at a glance whether the
set-up worked and which profile is active; ``charlib info`` prints the same from a terminal.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

from charlib import __version__
from charlib.config import profile

PACKAGES = ("tensorflow", "tensorflow-cpu", "keras", "numpy", "matplotlib", "pillow", "imageio",
            "ipywidgets", "jupyterlab", "tqdm")


def package_versions() -> dict[str, str]:
    """Installed versions of the course's main packages (``"missing"`` for absent ones)."""
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


def devices() -> dict[str, list[str]]:
    """Devices TensorFlow sees, by type, e.g. ``{"CPU": ["/physical_device:CPU:0"], "GPU": []}``."""
    import tensorflow as tf

    return {kind: [d.name for d in tf.config.list_physical_devices(kind)] for kind in ("CPU", "GPU")}


def report(include_devices: bool = True, profile_name: str | None = None) -> dict[str, object]:
    """Everything above in one dict (TensorFlow is imported only when ``include_devices``).

    ``profile_name`` is the profile a notebook chose (default: the one ``$CHARLIB_PROFILE`` gives).
    """
    info: dict[str, object] = {
        "charlib": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_cores": os.cpu_count(),
        "profile": profile(profile_name).name,
        "packages": package_versions(),
    }
    if include_devices:
        info["devices"] = devices()
    return info


def format_report(info: dict[str, object]) -> str:
    """A few aligned lines for printing."""
    lines = []
    for key, value in info.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines.extend(f"  {k:<15} {v}" for k, v in value.items())
        else:
            lines.append(f"{key:<17} {value}")
    return "\n".join(lines)
