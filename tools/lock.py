"""Write the install lock: exact versions of every package that installing ``charlib[dev]`` pulls in.

Run it with the Python of an environment where ``pip install -e ".[dev]"`` has just been done
(``make lock`` builds such an environment from scratch, with no constraints, and runs this script in
it). It reads ``pip freeze --all --exclude-editable`` and keeps only the packages that charlib and its
``dev`` extra need, directly or through their own dependencies, so that nothing installed by hand
into the environment ends up in the lock.

Usage: python tools/lock.py --out requirements/lock-py311-cpu.txt
"""

from __future__ import annotations

import argparse
import platform
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PYTHON = "3.11"

HEADER = """\
# Exact versions of everything `pip install -e ".[dev]"` installs, for Python {python} on {machine}.
# `make` installs with `pip install -c <this file> -e ".[dev]"`, so every install gets these versions.
# Refresh with `make lock` (a fresh environment installs the ranges in pyproject.toml, then this file
# is rewritten from its `pip freeze`); tests/test_environment.py checks it against pyproject.toml.
"""


TWIN_COMMENT = "# tensorflow-cpu's twin, for the GPU environment and machines that are not x86_64:"


def canonical(name: str) -> str:
    """A package name as pip compares them: lower case, runs of ``-_.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def needed(root: str = "charlib", extras: tuple[str, ...] = ("dev",)) -> set[str]:
    """Canonical names of the installed packages that ``root[extras]`` requires, transitively."""
    seen: set[str] = set()
    visited: set[tuple[str, tuple[str, ...]]] = set()
    todo: list[tuple[str, tuple[str, ...]]] = [(root, extras)]
    while todo:
        name, wanted = todo.pop()
        if (canonical(name), wanted) in visited:
            continue
        visited.add((canonical(name), wanted))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a requirement whose marker holds but which is not installed: pip check's job
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in ("", *wanted)):
                continue
            seen.add(canonical(req.name))
            todo.append((req.name, tuple(sorted(req.extras))))
    seen.discard(canonical(root))
    return seen


def freeze() -> list[str]:
    """``pip freeze --all --exclude-editable`` of this environment (setuptools and wheel included)."""
    out = subprocess.run([sys.executable, "-m", "pip", "freeze", "--all", "--exclude-editable"],
                         capture_output=True, text=True, check=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip() and not line.startswith("#")]


def lock_lines(frozen: list[str], keep: set[str]) -> list[str]:
    """The ``name==version`` lines of ``frozen`` whose package is in ``keep``, sorted by name."""
    lines = []
    for line in frozen:
        if "==" not in line:
            raise SystemExit(f"cannot lock {line!r}: not an exact version from an index")
        name, version = line.split("==", 1)
        if canonical(name) in keep:
            lines.append(f"{canonical(name)}=={version.strip()}")
    missing = keep - {canonical(line.split("==")[0]) for line in lines}
    if missing:
        raise SystemExit(f"needed but not installed: {', '.join(sorted(missing))}; run pip install -e .[dev]")
    return sorted(lines, key=lambda line: line.split("==")[0])


def gpu_twin(lines: list[str]) -> list[str]:
    """A pin of ``tensorflow`` (the GPU wheel, also the one used off x86) at tensorflow-cpu's version,
    so the GPU environment and other machines get the same TensorFlow as the CPU lock."""
    cpu = [line for line in lines if line.startswith("tensorflow-cpu==")]
    if not cpu or any(line.startswith("tensorflow==") for line in lines):
        return []
    return [TWIN_COMMENT, "tensorflow==" + cpu[0].split("==", 1)[1]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "requirements" / "lock-py311-cpu.txt")
    args = parser.parse_args()
    python = ".".join(platform.python_version_tuple()[:2])
    if python != PYTHON:
        raise SystemExit(f"the lock is for Python {PYTHON}; this is Python {python} "
                         f"(make lock PYTHON=python{PYTHON})")
    lines = lock_lines(freeze(), needed())
    lines += gpu_twin(lines)
    machine = f"{platform.system()} {platform.machine()}"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(HEADER.format(python=PYTHON, machine=machine) + "\n".join(lines) + "\n")
    pins = [line for line in lines if not line.startswith("#")]
    print(f"Wrote {len(pins)} pinned packages to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
