"""Run every course notebook headless, in order, and keep executed copies with their figures.

This is what ``make course`` calls. Each notebook runs with its own folder as working directory,
in the profile given by ``CHARLIB_PROFILE``; the executed copy goes to ``--out`` (default
``outputs/notebooks/``), a timing table to ``--out/timings.md`` and the same seconds to
``--out/timings.json`` (``profile``, ``machine``, ``notebooks``: name to seconds), the file that
``benchmarks/results/course_timings.json`` is made from. The run stops at the first
notebook that fails, naming it and the cell.

``--since EPOCH`` (``make course`` passes the moment it started, before creating the virtual
environment) adds ``setup_seconds`` (from then until the first notebook starts) and
``total_seconds`` (until the last one ends) to timings.json, and ``--record FILE`` writes the same
record, with the command, to FILE as well: ``make course-timings`` records a full ``make course``
into ``benchmarks/results/course_timings.json``, the one source of the course's times in the README.

Usage: python tools/run_notebooks.py [--out DIR] [--timeout SECONDS] [--since EPOCH] [--record FILE]
       [notebooks ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]


def run(path: Path, out_dir: Path, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    finally:
        nbformat.write(nb, out_dir / path.name)
    return time.perf_counter() - start


def timings_record(profile: str, rows: list[tuple[str, float]]) -> dict[str, object]:
    """What timings.json holds: the profile, the machine in words, and seconds per notebook."""
    return {"profile": profile, "machine": f"{os.cpu_count()} CPU cores, {platform.machine()}",
            "notebooks": {Path(name).stem: round(seconds, 1) for name, seconds in rows}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "outputs" / "notebooks")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    parser.add_argument("--since", type=float, default=None,
                        help="epoch seconds when the whole command began (adds setup and total)")
    parser.add_argument("--record", type=Path, default=None, help="also write the record here")
    args = parser.parse_args(argv)
    started = time.time()
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.pop("MPLBACKEND", None)  # keep Jupyter's inline backend, so figures are stored
    from charlib.config import profile as active_profile

    profile = active_profile().name
    rows = []
    for path in paths:
        print(f"[{profile}] running {path.name} ...", flush=True)
        try:
            seconds = run(path, args.out, args.timeout)
        except CellExecutionError as err:
            print(f"FAILED in {path.name} (executed copy in {args.out}):\n{err}", file=sys.stderr)
            return 1
        rows.append((path.name, seconds))
        print(f"  done in {seconds:.1f} s -> {args.out / path.name}", flush=True)
    table = ["| notebook | profile | seconds |", "| --- | --- | --- |"]
    table += [f"| {name} | {profile} | {sec:.1f} |" for name, sec in rows]
    (args.out / "timings.md").write_text("\n".join(table) + "\n")
    record = timings_record(profile, rows)
    if args.since is not None:
        record["setup_seconds"] = round(started - args.since, 1)
        record["total_seconds"] = round(time.time() - args.since, 1)
    record["command"] = "make course" + ("" if profile == "learner" else f" PROFILE={profile}")
    text = json.dumps(record, indent=2) + "\n"
    (args.out / "timings.json").write_text(text)
    if args.record is not None:
        args.record.write_text(text)
    print("\n".join(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
