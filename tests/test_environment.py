"""environment.yml (conda), pyproject.toml (pip), the version lock and the GPU requirements agree."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "lock-py311-cpu.txt"
GPU_REQUIREMENTS = ROOT / "requirements" / "gpu.txt"


def _normalise(requirement: str) -> tuple[str, str]:
    spec = requirement.split(";")[0].strip().replace(" ", "")
    name = re.match(r"[A-Za-z0-9_.\-]+", spec).group(0)
    return name.lower().replace("_", "-"), spec[len(name):]


def _pyproject() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["dev"]
    out = dict(_normalise(r) for r in reqs)
    out.pop("tensorflow", None)  # the non-x86 marker twin of tensorflow-cpu (same range)
    return out


def _environment_yml() -> tuple[dict[str, str], str]:
    text = (ROOT / "environment.yml").read_text()
    pip_lines, python = [], ""
    in_pip = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("- python="):
            python = stripped.split("=", 1)[1]
        if stripped == "- pip:":
            in_pip = True
            continue
        if in_pip and stripped.startswith("- "):
            pip_lines.append(stripped[2:])
    pkgs = dict(_normalise(r) for r in pip_lines if not r.startswith(("-e", "-c")))
    return pkgs, python


def test_environment_yml_and_pyproject_list_the_same_packages_and_ranges():
    conda, _ = _environment_yml()
    assert conda == _pyproject()


def test_both_files_agree_on_python_and_tensorflow_version():
    _, python = _environment_yml()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert python == "3.11"
    assert "3.11" in project["requires-python"] or ">=3.11" in project["requires-python"]
    tf = [r for r in project["dependencies"] if r.startswith("tensorflow")]
    assert {_normalise(r)[1] for r in tf} == {"~=2.21.0"}


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    commands = [line for line in ci if line and not line.startswith("#") and
                not line.startswith(("set ", "cd "))]
    assert commands == ["make test"]
    assert "make test" in (ROOT / "README.md").read_text()


def test_committed_notebooks_are_stripped():
    import subprocess
    import sys

    notebooks = sorted(str(p) for p in (ROOT / "notebooks").glob("*.ipynb"))
    if not notebooks:
        return
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "strip_outputs.py"), "--check",
                             *notebooks], capture_output=True, text=True, check=False)
    assert result.returncode == 0, "run `make strip`:\n" + result.stdout


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, str]:
    """The lock as {canonical name: exact version}; fails on any line that is not ``name==version``."""
    pins: dict[str, str] = {}
    for line in LOCK.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9_.\-]*)==([0-9][A-Za-z0-9_.+!\-]*)", line.strip())
        assert match, f"not an exact pin: {line!r}"
        name = _canonical(match.group(1))
        assert name not in pins, f"{name} is pinned twice"
        pins[name] = match.group(2)
    return pins


def _pyproject_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["dependencies"] + project["optional-dependencies"]["dev"]


def test_lock_pins_every_pyproject_dependency_inside_its_range():
    pins = _lock()
    for requirement in _pyproject_requirements():  # both tensorflow twins, whatever their marker
        name, spec = _normalise(requirement)
        pinned = pins.get(_canonical(name))
        assert pinned is not None, f"{name} is not in {LOCK.name}"
        assert pinned in SpecifierSet(spec), f"{name}=={pinned} is outside {spec}"


def test_lock_holds_exact_pins_of_other_packages_only():
    pins = _lock()
    assert "charlib" not in pins  # the editable package itself is never locked
    assert "pip" not in pins
    assert len(pins) > 50  # the dependencies' dependencies too, not only pyproject's list
    assert pins["tensorflow"] == pins["tensorflow-cpu"]  # the GPU wheel at the CPU wheel's version
    assert "Python 3.11" in LOCK.read_text().splitlines()[0]


def test_environment_yml_installs_at_the_locks_versions():
    text = (ROOT / "environment.yml").read_text()
    constraint = [line.strip()[2:] for line in text.splitlines() if line.strip().startswith("- -c ")]
    assert constraint == ["-c " + str(LOCK.relative_to(ROOT))]


def test_gpu_requirements_are_pyprojects_with_the_gpu_tensorflow_instead_of_tensorflow_cpu():
    lines = [line for line in GPU_REQUIREMENTS.read_text().splitlines() if line and not line.startswith("#")]
    gpu = dict(_normalise(line) for line in lines)
    assert gpu.pop("tensorflow") == "[and-cuda]~=2.21.0"
    expected = _pyproject()
    expected.pop("tensorflow-cpu")
    assert gpu == expected
    assert not any(name.startswith("tensorflow-cpu") for name in gpu)


def _make(*args: str, venv: Path) -> str:
    """What ``make`` would run (``make -n``) with ``VENV`` pointing at ``venv``."""
    result = subprocess.run(["make", "-n", "-C", str(ROOT), f"VENV={venv}", *args],
                            capture_output=True, text=True, check=False)
    return result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_installs_from_the_lock_and_again_when_the_lock_changes(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    assert f"pip install --quiet -c {LOCK.relative_to(ROOT)} -e \".[dev]\"" in _make("install", venv=venv)
    stamp = venv / ".installed-stamp"
    stamp.touch()
    later = max(LOCK.stat().st_mtime, (ROOT / "pyproject.toml").stat().st_mtime) + 60
    os.utime(stamp, (later, later))
    assert "pip install" not in _make("install", venv=venv)  # up to date: nothing to do
    assert "pip install" in _make("install", "-W", str(LOCK.relative_to(ROOT)), venv=venv)  # lock changed
    assert " -c " not in _make("install", "LOCK=", "-W", "pyproject.toml", venv=venv)  # ranges only


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_the_cpu_install_refuses_to_go_into_a_gpu_environment(tmp_path):
    venv = tmp_path / "venv-gpu"
    (venv / "bin").mkdir(parents=True)
    (venv / ".gpu-env").touch()
    result = subprocess.run(["make", "-C", str(ROOT), f"VENV={venv}", "install"],
                            capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "is a GPU environment" in result.stdout and "make gpu-env" in result.stdout
    assert not (venv / ".installed-stamp").exists()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_gpu_env_installs_charlib_without_its_dependencies(tmp_path):
    commands = subprocess.run(["make", "-n", "-C", str(ROOT), f"GPU_VENV={tmp_path / 'gpu'}", "gpu-env"],
                              capture_output=True, text=True, check=False).stdout
    pip = [line for line in commands.splitlines() if "pip install" in line]
    assert any("-r requirements/gpu.txt" in line and "-c " in line for line in pip)
    editable = [line for line in pip if "-e ." in line]
    assert editable and all("--no-deps -e ." in line for line in editable)
    assert "tensorflow-cpu" in commands  # the check that it did not land there


def test_lock_tool_keeps_only_what_charlib_needs_and_pins_the_gpu_twin():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import lock
    finally:
        sys.path.remove(str(ROOT / "tools"))
    frozen = ["Keras==3.15.1", "tensorflow_cpu==2.21.0", "cowsay==6.1"]
    lines = lock.lock_lines(frozen, {"keras", "tensorflow-cpu"})
    assert lines == ["keras==3.15.1", "tensorflow-cpu==2.21.0"]  # the hand-installed one is left out
    assert lock.gpu_twin(lines)[-1] == "tensorflow==2.21.0"
    with pytest.raises(SystemExit, match="needed but not installed: numpy"):
        lock.lock_lines(frozen, {"keras", "numpy"})
