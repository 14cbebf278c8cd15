"""Write a student copy of the course notebooks: every exercise and its check, no solutions.

A teacher hands these out; the learners fill in the exercise cells and run the ``exercises.check_...``
lines, which still print ``PASS`` or ``NOT YET`` with a hint. What is removed from each notebook:

- every collapsible solution, a ``<details>`` block whose ``<summary>`` says *Solution* or
  *Answer* (any case, bold or not, with attributes such as ``<details open>``, also 答案 / 解答);
  the rest of its cell (often the next exercise's statement) is kept, and a cell left empty is
  dropped;
- a markdown cell whose first line is only a *Solution* / *Answer* heading or bold label;
- a code cell tagged ``solution`` (or any tag containing "solution"), marked as an nbgrader
  solution without ``BEGIN SOLUTION`` lines, or whose first line is a ``# Solution`` comment;
- the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` in any cell, replaced by
  ``# your code here``;
- every stored output and execution count (the course keeps the text output of its regression
  cells; a student copy starts clean).

Everything else (the first code cell, the prose, the exercise cells and their check calls, the cell
tags) is unchanged. A notebook whose solutions cannot be removed safely (a ``<details>`` block
that never closes, a ``BEGIN SOLUTION`` without its ``END SOLUTION``, or a solution marker left
over after removal) stops the tool with one line naming the notebook and cell; nothing is written.

Usage: python tools/make_student.py OUT_DIR [--overwrite] [--source DIR]
  OUT_DIR      a new or empty folder, outside the course's notebooks/ folder
  --overwrite  write into a folder that already holds files (files of the same name are replaced,
               other files are left alone)
  --source     the folder of the notebooks to copy (default: the course's notebooks/)
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from charlib.errors import CharlibError  # noqa: E402

NOTEBOOKS = ROOT / "notebooks"
PATTERN = "[0-9][0-9]_*.ipynb"
SUPPORT = ("exercises.py",)
README = "README.md"

_ANSWER_WORD = r"(?:solutions?|answers?|答案|解答|参考答案)"
_SUMMARY_SAYS_ANSWER = re.compile(rf"(?i)(?<![a-z]){_ANSWER_WORD}(?![a-z])")
_DETAILS_TAG = re.compile(r"(?i)<(/?)details\b[^>]*>")
_SUMMARY = re.compile(r"(?is)\s*<summary\b[^>]*>(.*?)</summary>")
_HEADING_ONLY = re.compile(
    rf"(?i)\A\s*(?:#{{1,6}}\s*)?[*_]{{0,2}}\s*{_ANSWER_WORD}"
    r"(?:\s+(?:to|for|of)\s+(?:exercise|ex\.?)\s*\d+)?\s*[.:)]?\s*[*_]{0,2}\s*[.:]?\s*\Z")
_CODE_SOLUTION_COMMENT = re.compile(rf"(?i)\A#+\s*{_ANSWER_WORD}\b")
_BEGIN = re.compile(r"(?im)^[ \t]*#+\s*BEGIN SOLUTION\b.*$")
_END = re.compile(r"(?im)^[ \t]*#+\s*END SOLUTION\b.*$")
PLACEHOLDER = "# your code here"


class StudentCopyError(CharlibError):
    """The student copy cannot be written: a refused folder, or a solution that cannot be removed."""


@dataclass
class Removed:
    """What was taken out of one notebook."""

    solution_blocks: int = 0
    cells: int = 0
    regions: int = 0
    outputs: int = 0
    where: list[str] = field(default_factory=list)

    @property
    def answers(self) -> int:
        return self.solution_blocks + self.cells + self.regions


def _summary_text(html: str) -> str:
    return re.sub(r"<[^>]+>|[*_`]", "", html).strip()


def strip_details(source: str, where: str) -> tuple[str, int]:
    """Remove the ``<details>`` blocks whose summary names a solution; return the text and the count.

    Blocks are matched by depth, so a solution holding a nested ``<details>`` goes as one piece,
    and a non-solution block (e.g. "Going further") is kept with everything inside it.
    """
    spans: list[tuple[int, int]] = []
    depth, start = 0, 0
    for tag in _DETAILS_TAG.finditer(source):
        if tag.group(1) == "":
            if depth == 0:
                start = tag.start()
            depth += 1
        else:
            if depth == 0:
                raise StudentCopyError(f"{where}: a </details> closes a block that never opened")
            depth -= 1
            if depth == 0:
                opening = _DETAILS_TAG.match(source, start)
                assert opening is not None
                summary = _SUMMARY.match(source, opening.end())
                if summary and _SUMMARY_SAYS_ANSWER.search(_summary_text(summary.group(1))):
                    spans.append((start, tag.end()))
    if depth:
        raise StudentCopyError(f"{where}: a <details> block never closes, so its solution cannot be "
                               "removed safely; add the missing </details>")
    for begin, end in reversed(spans):
        source = source[:begin].rstrip("\n") + "\n\n" + source[end:].lstrip("\n")
    return (source.strip("\n") if spans else source), len(spans)


def strip_regions(source: str, where: str) -> tuple[str, int]:
    """Replace each ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region by a placeholder line."""
    count = 0
    while (begin := _BEGIN.search(source)) is not None:
        end = _END.search(source, begin.end())
        if end is None:
            raise StudentCopyError(f"{where}: BEGIN SOLUTION without END SOLUTION; nothing was written")
        indent = re.match(r"[ \t]*", begin.group(0)).group(0)  # type: ignore[union-attr]
        source = source[:begin.start()] + indent + PLACEHOLDER + source[end.end():]
        count += 1
    if _END.search(source):
        raise StudentCopyError(f"{where}: END SOLUTION without BEGIN SOLUTION; nothing was written")
    return source, count


def is_solution_cell(cell: nbformat.NotebookNode) -> bool:
    """A whole cell that is an answer: by tag, nbgrader metadata, or a solution heading/comment."""
    tags = [str(t).lower() for t in cell.get("metadata", {}).get("tags", [])]
    if any("solution" in t or t in ("answer", "answers") for t in tags):
        return True
    first = cell.source.strip().split("\n", 1)[0] if cell.source.strip() else ""
    if cell.cell_type == "markdown":
        return bool(_HEADING_ONLY.match(first))
    if cell.cell_type == "code":
        grader = cell.get("metadata", {}).get("nbgrader", {})
        if grader.get("solution") and not _BEGIN.search(cell.source):
            return True
        return bool(_CODE_SOLUTION_COMMENT.match(first))
    return False


def leftover_markers(nb: nbformat.NotebookNode) -> list[str]:
    """Solution markers still present in a notebook (``cell N: ...``); empty for a clean copy."""
    found = []
    for index, cell in enumerate(nb.cells):
        for summary in re.finditer(r"(?is)<summary\b[^>]*>(.*?)</summary>", cell.source):
            if _SUMMARY_SAYS_ANSWER.search(_summary_text(summary.group(1))):
                found.append(f"cell {index}: a <summary> that names a solution")
        if _BEGIN.search(cell.source) or _END.search(cell.source):
            found.append(f"cell {index}: a BEGIN/END SOLUTION line")
        if is_solution_cell(cell):
            found.append(f"cell {index}: a solution cell")
    return found


def student_notebook(nb: nbformat.NotebookNode,
                     name: str = "notebook") -> tuple[nbformat.NotebookNode, Removed]:
    """The student version of a notebook (a new object; ``nb`` is not changed) and what was removed."""
    nb = nbformat.from_dict(nb)
    removed = Removed()
    kept = []
    for index, cell in enumerate(nb.cells):
        where = f"{name} cell {index}"
        if is_solution_cell(cell):
            removed.cells += 1
            removed.where.append(f"cell {index}")
            continue
        source = cell.source
        if cell.cell_type == "markdown":
            source, n = strip_details(source, where)
            removed.solution_blocks += n
            if n:
                removed.where.append(f"cell {index}")
        source, n = strip_regions(source, where)
        removed.regions += n
        if n:
            removed.where.append(f"cell {index}")
        if source != cell.source and not source.strip():
            continue
        cell.source = source
        if cell.cell_type == "code":
            removed.outputs += len(cell.outputs)
            cell.outputs = []
            cell.execution_count = None
        cell.get("metadata", {}).pop("execution", None)
        kept.append(cell)
    nb.cells = kept
    nb.metadata.pop("widgets", None)
    left = leftover_markers(nb)
    if left:
        raise StudentCopyError(f"{name}: a solution marker survived ({left[0]}); nothing was written")
    return nb, removed


def check_out_dir(out: Path, overwrite: bool, source: Path = NOTEBOOKS) -> Path:
    """Refuse the course's notebooks/ folder (or one inside it), a file, or a non-empty folder."""
    resolved = out.expanduser().resolve()
    for protected in {NOTEBOOKS.resolve(), source.resolve()}:
        if resolved == protected or protected in resolved.parents:
            raise StudentCopyError(f"refusing to write the student copy into {protected} (the course's own "
                                   "notebooks, which keep their solutions); choose another folder")
    if resolved.exists() and not resolved.is_dir():
        raise StudentCopyError(f"{out} exists and is not a folder")
    if resolved.is_dir() and any(resolved.iterdir()) and not overwrite:
        raise StudentCopyError(f"{out} is not empty; choose a new folder or pass --overwrite "
                               "(it replaces files of the same name and leaves the others)")
    return resolved


def readme(rows: list[tuple[str, Removed]]) -> str:
    """The README written beside the student notebooks: what was removed, notebook by notebook."""
    lines = [
        "# Student copy of the course notebooks",
        "",
        "These notebooks are the course's notebooks with the answers taken out, so that they can be",
        "handed out in a class. Made with `python tools/make_student.py` (or `make student`).",
        "",
        "What was removed:",
        "",
        "- every hidden solution (the collapsible *Solution* blocks under the exercises);",
        "- any other cell marked as a solution;",
        "- every stored output, so each notebook starts clean.",
        "",
        "What is still there: all the prose, code and figures' code, the first code cell, every exercise",
        "with its code cell, and the `exercises.check_...` lines, which print `PASS`, or `NOT YET` with a",
        "hint that does not give the answer away.",
        "",
        "Open them where the course is installed (`make install` in the course folder, which installs",
        "`charlib`): they find the course's `data/` folder through it. Their links to the course's pages",
        "are relative (`../docs/...`), so they work where this folder sits beside `notebooks/`. The",
        "solutions stay in the course's own `notebooks/`.",
        "",
        "| notebook | solutions removed |",
        "| --- | --- |",
    ]
    lines += [f"| {name} | {removed.answers} |" for name, removed in rows]
    return "\n".join(lines) + "\n"


def make_student(out: Path, overwrite: bool = False, source: Path = NOTEBOOKS) -> list[tuple[str, Removed]]:
    """Write the student copy of every notebook in ``source`` and a README into ``out``.

    All notebooks are converted before anything is written, so a refused notebook writes nothing.
    """
    out = check_out_dir(out, overwrite, source)
    paths = sorted(source.glob(PATTERN))
    if not paths:
        raise StudentCopyError(f"no course notebooks ({PATTERN}) in {source}")
    converted = []
    for path in paths:
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as err:  # nbformat raises several kinds for a broken file
            raise StudentCopyError(f"{path.name} is not a readable notebook: {err}") from None
        student, removed = student_notebook(nb, path.name)
        nbformat.validate(student)
        converted.append((path.name, student, removed))
    out.mkdir(parents=True, exist_ok=True)
    for name, student, _ in converted:
        nbformat.write(student, out / name)
    for name in SUPPORT:  # the modules the notebooks import from their own folder
        if (source / name).is_file():
            shutil.copyfile(source / name, out / name)
    rows = [(name, removed) for name, _, removed in converted]
    (out / README).write_text(readme(rows), encoding="utf-8")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="a new or empty folder outside notebooks/")
    parser.add_argument("--overwrite", action="store_true", help="write into a folder that holds files")
    parser.add_argument("--source", type=Path, default=NOTEBOOKS, help="folder of the notebooks to copy")
    args = parser.parse_args(argv)
    try:
        rows = make_student(args.out, args.overwrite, args.source)
    except CharlibError as err:
        print(f"make_student: {err}", file=sys.stderr)
        return 2
    total = sum(removed.answers for _, removed in rows)
    print(f"wrote {len(rows)} student notebooks and {README} to {args.out} ({total} solutions removed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
