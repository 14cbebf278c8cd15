"""``charlib info --gpu``: whether TensorFlow sees a GPU, and one line saying why not and what to do."""

from __future__ import annotations

import pytest
import tensorflow as tf

from charlib import system
from charlib.cli import main

CPU_ONLY = {"tensorflow": "missing", "tensorflow-cpu": "2.21.0"}
GPU_WHEEL = {"tensorflow": "2.21.0", "tensorflow-cpu": "missing"}


def test_no_gpu_exits_1_with_one_line_naming_the_reason(capsys, monkeypatch):
    real = tf.config.list_physical_devices
    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda kind=None: [] if kind == "GPU" else real(kind))
    assert main(["info", "--gpu"]) == 1
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("GPU: none visible to TensorFlow, so training runs on the CPU; ")
    assert "docs/gpu.md" in last or "CUDA_VISIBLE_DEVICES" in last or "driver" in last


def test_this_cpu_environment_is_told_to_build_the_gpu_environment(capsys):
    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU TensorFlow can use")
    if system.package_versions()["tensorflow-cpu"] == "missing":
        pytest.skip("this environment has no tensorflow-cpu")
    assert main(["info", "--gpu"]) == 1
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert "tensorflow-cpu" in last and "make gpu-env" in last


def test_a_visible_gpu_that_computes_passes_the_check(capsys, monkeypatch):
    class FakeGpu:
        name = "/physical_device:GPU:0"
        device_type = "GPU"

    real = tf.config.list_physical_devices
    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda kind=None: [FakeGpu()] if kind == "GPU" else real(kind))
    monkeypatch.setattr(system, "_gpu_computes", lambda device: None)
    assert main(["info", "--gpu"]) == 0
    out = capsys.readouterr().out
    assert "/physical_device:GPU:0" in out.splitlines()[-1] and "sees 1 GPU" in out


def test_a_listed_gpu_that_cannot_compute_fails_the_check(monkeypatch):
    class FakeGpu:
        name = "/physical_device:GPU:0"

    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [FakeGpu()])
    check = system.gpu_check()  # the real product runs on the CPU here, so it is caught
    assert not check.ok and "cannot compute on it" in check.message and "\n" not in check.message


def test_without_gpu_flag_info_still_exits_0(capsys):
    assert main(["info", "--no-devices"]) == 0
    assert "GPU:" not in capsys.readouterr().out


def test_gpu_flag_with_no_devices_is_one_clear_error(capsys):
    assert main(["info", "--gpu", "--no-devices"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "--no-devices" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(("versions", "cuda", "visible", "driver", "expected"), [
    ({"tensorflow": "2.21.0", "tensorflow-cpu": "2.21.0"}, True, None, True, "overwrite each other"),
    (CPU_ONLY, False, None, True, "make gpu-env"),
    ({"tensorflow": "2.21.0"}, False, None, True, "built without CUDA"),
    (GPU_WHEEL, True, "-1", True, "CUDA_VISIBLE_DEVICES='-1'"),
    (GPU_WHEEL, True, "", True, "CUDA_VISIBLE_DEVICES=''"),
    (GPU_WHEEL, True, None, False, "no NVIDIA driver"),
    (GPU_WHEEL, True, "0", True, "supports CUDA 12.5"),
], ids=["both-wheels", "cpu-wheel", "no-cuda-build", "hidden", "hidden-empty", "no-driver", "driver"])
def test_each_reason_for_no_gpu_says_what_to_do(versions, cuda, visible, driver, expected):
    reason = system.why_no_gpu(versions, cuda, visible, driver, cuda_version="12.5")
    assert expected in reason and "\n" not in reason
