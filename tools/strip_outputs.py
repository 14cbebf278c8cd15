"""Keep committed notebooks readable: strip outputs, except the text of regression-checked cells.

Policy (see README, "Notebook outputs"): notebooks are committed without outputs, execution counts
or widget state, so diffs show only what a person wrote. The one exception is a cell tagged
``nbval-check-output``: its text outputs (stream and text/plain) are kept, because nbval compares
them on every test run. Figures are never committed inside notebooks; ``make course`` writes
executed copies with every figure to ``outputs/notebooks/``.

Usage: python tools/strip_outputs.py notebooks/*.ipynb [--check]
  --check  exit 1 (and list the files) if any notebook is not already stripped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

CHECK_TAG = "nbval-check-output"
TEXT_MIMES = ("text/plain",)


def _text_only(output: dict) -> dict | None:
    if output.get("output_type") == "stream":
        return output
    if output.get("output_type") in ("execute_result", "display_data"):
        data = {k: v for k, v in output.get("data", {}).items() if k in TEXT_MIMES}
        if not data:
            return None
        output = dict(output, data=data, metadata={})
        if "execution_count" in output:
            output["execution_count"] = None
        return output
    return None


def strip(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return the notebook with outputs stripped according to the policy above.

    Tagged cells are numbered 1, 2, ... in order: nbval refuses a stored output without an
    execution count, and a fixed numbering keeps the diff stable.
    """
    checked = 0
    for cell in nb.cells:
        cell.get("metadata", {}).pop("execution", None)
        if cell.cell_type != "code":
            continue
        cell.execution_count = None
        if CHECK_TAG in cell.get("metadata", {}).get("tags", []):
            checked += 1
            cell.execution_count = checked
            kept = [_text_only(o) for o in cell.outputs]
            cell.outputs = [nbformat.from_dict(o) for o in kept if o is not None]
        else:
            cell.outputs = []
    nb.metadata.pop("widgets", None)
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    dirty = []
    for path in args.paths:
        original = path.read_text(encoding="utf-8")
        nb = strip(nbformat.reads(original, as_version=4))
        text = nbformat.writes(nb) + "\n"
        if text != original:
            dirty.append(path)
            if not args.check:
                path.write_text(text, encoding="utf-8")
    if args.check and dirty:
        print("not stripped:", *dirty, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
