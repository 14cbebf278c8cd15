"""environment.yml (conda) and pyproject.toml (pip) ask for the same packages and ranges."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
    pkgs = dict(_normalise(r) for r in pip_lines if not r.startswith("-e"))
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
