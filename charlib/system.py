"""What this machine has: Python and library versions, CPU cores, GPUs TensorFlow can see.

The first notebook prints this so a learner (or a teacher helping one) sees at a glance whether the
set-up worked and which profile is active; ``charlib info`` prints the same from a terminal.
``charlib info --gpu`` adds :func:`gpu_check`: whether TensorFlow sees a GPU and, when it does not,
the likeliest reason and what to do about it (docs/gpu.md).
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
from dataclasses import dataclass
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


def report(include_devices: bool = True) -> dict[str, object]:
    """Everything above in one dict, with the profile ``$CHARLIB_PROFILE`` gives (TensorFlow is
    imported only when ``include_devices``)."""
    info: dict[str, object] = {"charlib": __version__, "python": sys.version.split()[0],
                               "platform": platform.platform(), "cpu_cores": os.cpu_count(),
                               "profile": profile().name, "packages": package_versions()}
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


GPU_DOC = "docs/gpu.md"


def why_no_gpu(versions: dict[str, str], built_with_cuda: bool, cuda_visible: str | None,
               has_driver: bool, cuda_version: str | None = None) -> str:
    """The likeliest reason TensorFlow sees no GPU, and what to do, as one sentence, from
    :func:`package_versions`, ``tf.test.is_built_with_cuda()``, ``$CUDA_VISIBLE_DEVICES`` (None when
    unset), whether ``nvidia-smi`` is on the PATH, and the CUDA version TensorFlow was built for."""
    gpu_wheel = versions.get("tensorflow", "missing") != "missing"
    cpu_wheel = versions.get("tensorflow-cpu", "missing") != "missing"
    if gpu_wheel and cpu_wheel:
        return ("both tensorflow and tensorflow-cpu are installed here, and they overwrite each other's "
                "files: rebuild this environment (rm -rf .venv && make install) and make the GPU one "
                f"apart with make gpu-env ({GPU_DOC})")
    if cpu_wheel:
        return ("this environment has tensorflow-cpu, which cannot use a GPU: build the GPU environment "
                f"with make gpu-env and run .venv-gpu/bin/charlib info --gpu ({GPU_DOC})")
    if not built_with_cuda:
        return ("this TensorFlow was built without CUDA (its GPU builds are for Linux, and Windows "
                f"through WSL2): on such a machine, make gpu-env ({GPU_DOC})")
    if cuda_visible is not None and cuda_visible.strip() in ("", "-1"):
        return f"CUDA_VISIBLE_DEVICES={cuda_visible!r} hides every GPU from TensorFlow: unset it"
    if not has_driver:
        return ("no NVIDIA driver found (nvidia-smi is not on the PATH): install the NVIDIA driver, "
                "or use a machine with an NVIDIA GPU")
    cuda = f"CUDA {cuda_version}" if cuda_version else "this TensorFlow's CUDA"
    return (f"the NVIDIA driver is there but TensorFlow found no GPU: check that nvidia-smi lists one, "
            f"that its driver supports {cuda}, and the warnings TensorFlow printed above ({GPU_DOC})")


@dataclass(frozen=True)
class GpuCheck:
    """What :func:`gpu_check` found: the GPUs TensorFlow can use, and one line saying so."""

    gpus: list[str]
    message: str

    @property
    def ok(self) -> bool:
        return bool(self.gpus)


def _gpu_computes(device: str) -> str | None:
    """None when a small matrix product runs on ``device``, else why it did not."""
    import tensorflow as tf

    try:
        with tf.device(device):
            x = tf.ones((64, 64))
            y = tf.matmul(x, x)
        float(tf.reduce_sum(y))
    except Exception as err:  # the driver or a CUDA library fails at the first kernel
        return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    if "GPU" not in y.device:
        return f"the test product ran on {y.device}, not on the GPU"
    return None


def gpu_check() -> GpuCheck:
    """Whether TensorFlow sees a GPU and can compute on it, with a one-line message either way (the
    reason from :func:`why_no_gpu` when it sees none)."""
    import tensorflow as tf

    found = [d.name for d in tf.config.list_physical_devices("GPU")]
    if not found:
        info = tf.sysconfig.get_build_info()
        reason = why_no_gpu(package_versions(), tf.test.is_built_with_cuda(),
                            os.environ.get("CUDA_VISIBLE_DEVICES"), shutil.which("nvidia-smi") is not None,
                            info.get("cuda_version"))
        return GpuCheck([], f"GPU: none visible to TensorFlow, so training runs on the CPU; {reason}.")
    problem = _gpu_computes("/GPU:0")
    if problem is not None:
        return GpuCheck([], f"GPU: TensorFlow lists {len(found)} GPU but cannot compute on it ({problem}); "
                            f"check the driver and CUDA libraries ({GPU_DOC}).")
    names = ", ".join(found)
    return GpuCheck(found, f"GPU: TensorFlow sees {len(found)} GPU{'s' if len(found) > 1 else ''} ({names}) "
                           "and computes on it; charlib train uses it.")
