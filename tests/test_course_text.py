"""The course text keeps its shape: every exercise has a check or a stated reason for none, no
markdown cell is a wall of text, and every title cell says how long the notebook takes and what it
teaches.

Words are counted as whitespace-separated tokens of what a reader scrolls past: the ``<!-- ... -->``
markers of results blocks are left out (the text they render stays in), and so are the collapsible
solutions (``<details><summary>Solution</summary> ... </details>``), which a reader opens on purpose
after trying the exercise.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import render_docs  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_WORDS = 450

OPEN_ENDED = {
    ("00_setup", 2): "a machine's core count and thread timings differ from one computer to the next",
    ("00_setup", 4): "a judgement about statements, argued in words",
    ("01_data", 4): "the learner's own pictures: nothing to compare with",
    ("03_dcgan", 4): "a comparison of two sample animations by eye",
    ("05_vae", 2): "a comparison of pictures and sharpness numbers, explained in words",
    ("07_gpu_training", 3): "throughput measured on the learner's own machine",
    ("08_mode_collapse", 4): "a plan for an experiment, argued in words",
}
"""Exercises with no check, and why none can be written."""

SOLUTION = re.compile(r"(?is)<details>\s*<summary>\s*(?:solution|answer)s?\s*</summary>.*?</details>")
MARKER = re.compile(r"<!--.*?-->", re.S)
EXERCISE = re.compile(r"(?m)^(?:#{2,4}\s*Exercise\s+(\d+)|\*\*Exercise\s+(\d+)\b)")
CHECK_CALL = re.compile(r"\bexercises\.(check_\w+)\(")


def words(markdown: str) -> int:
    """The words a reader scrolls past in one markdown cell (solutions and markers left out)."""
    return len(MARKER.sub(" ", SOLUTION.sub(" ", markdown)).split())


def exercise_checks(nb: nbformat.NotebookNode) -> dict[int, list[str]]:
    """Each exercise's number and the check functions its code cells call (until the next one)."""
    found: dict[int, list[str]] = {}
    current = None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for match in EXERCISE.finditer(SOLUTION.sub("", cell.source)):
                current = int(match.group(1) or match.group(2))
                found.setdefault(current, [])
        elif current is not None:
            found[current] += CHECK_CALL.findall(cell.source)
    return found


def unchecked(name: str, nb: nbformat.NotebookNode, open_ended: dict[tuple[str, int], str]) -> list[str]:
    """Problems with a notebook's exercises: no check and no reason, or a reason for a checked one."""
    problems = []
    for number, checks in exercise_checks(nb).items():
        listed = (name, number) in open_ended
        if not checks and not listed:
            problems.append(f"{name} exercise {number} has no check and is not listed as open-ended")
        if checks and listed:
            problems.append(f"{name} exercise {number} has a check but is listed as open-ended")
    return problems


def long_cells(nb: nbformat.NotebookNode) -> list[tuple[int, int]]:
    """(cell index, words) of every markdown cell over :data:`MAX_WORDS`."""
    return [(i, words(c.source)) for i, c in enumerate(nb.cells)
            if c.cell_type == "markdown" and words(c.source) > MAX_WORDS]


def title_problems(name: str, nb: nbformat.NotebookNode) -> list[str]:
    """What the title cell lacks: a '# ' title, the time block of the results, 'What you will learn'."""
    first = nb.cells[0]
    problems = []
    if first.cell_type != "markdown" or not first.source.startswith("# "):
        return [f"{name}: the first cell is not a markdown title"]
    key = re.escape(name)
    block = rf"<!-- results:notebook_time:{key} -->.+?<!-- /results:notebook_time:{key} -->"
    if not re.search(rf"\*\*Time:\*\*\s*{block}", first.source, re.S):
        problems.append(f"{name}: the title cell does not state its time (**Time:** and the results block)")
    if not re.search(r"(?is)\*\*What you will learn\*\*\s*\n\s*\n?\s*[*-] ", first.source):
        problems.append(f"{name}: the title cell has no 'What you will learn' list")
    return problems


def _load(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _twin(*cells: tuple[str, str]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for kind, source in cells:
        make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        nb.cells.append(make(source))
    return nb


def test_the_course_has_ten_notebooks_with_exercises():
    assert len(NOTEBOOKS) == 10
    for path in NOTEBOOKS:
        assert len(exercise_checks(_load(path))) >= 2, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_exercise_has_a_check_or_a_reason_for_none(path):
    assert unchecked(path.stem, _load(path), OPEN_ENDED) == []


def test_every_open_ended_entry_names_a_real_exercise_and_gives_a_reason():
    exercises = {(p.stem, n) for p in NOTEBOOKS for n in exercise_checks(_load(p))}
    for key, reason in OPEN_ENDED.items():
        assert key in exercises, key
        assert len(reason.split()) >= 5, key
    assert len(OPEN_ENDED) <= 10, "open-ended exercises are the exception"


def test_the_exercise_rule_catches_a_missing_check_and_a_stale_reason():
    nb = _twin(("markdown", "## Exercises\n\n**Exercise 1.** Compute it."),
               ("code", "answer = None\nexercises.check_it(answer)"),
               ("markdown", "<details><summary>Solution</summary>\n\n**Exercise 9.** not one\n</details>"),
               ("markdown", "### Exercise 2: and this"), ("code", "# your code"))
    assert exercise_checks(nb) == {1: ["check_it"], 2: []}
    assert unchecked("twin", nb, {}) == ["twin exercise 2 has no check and is not listed as open-ended"]
    assert unchecked("twin", nb, {("twin", 2): "a reason"}) == []
    assert unchecked("twin", nb, {("twin", 1): "x", ("twin", 2): "y"}) == [
        "twin exercise 1 has a check but is listed as open-ended"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_markdown_cell_is_longer_than_the_limit(path):
    assert long_cells(_load(path)) == []


def test_the_word_count_leaves_out_solutions_and_markers_and_catches_a_long_cell():
    assert words("one two <!-- results:value:x:y -->three<!-- /results:value:x:y --> four") == 4
    assert words("Try it.\n\n<details><summary>Solution</summary>\n\n" + "word " * 900 + "</details>") == 2
    long = _twin(("markdown", "word " * (MAX_WORDS + 1)), ("markdown", "word " * MAX_WORDS))
    assert long_cells(long) == [(0, MAX_WORDS + 1)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_title_cell_states_its_time_and_what_you_will_learn(path):
    assert title_problems(path.stem, _load(path)) == []


def test_the_title_rule_catches_a_missing_time_or_learning_list():
    good = ("# 01 · Data\n\nIntro.\n\n**What you will learn**\n\n* one thing;\n* another.\n\n**Time:** "
            "<!-- results:notebook_time:01_data -->about 5 minutes<!-- /results:notebook_time:01_data -->.")
    assert title_problems("01_data", _twin(("markdown", good))) == []
    assert "time" in title_problems("01_data", _twin(("markdown", good.split("**Time:**")[0])))[0]
    no_list = good.replace("**What you will learn**\n\n* one thing;\n* another.", "")
    assert "What you will learn" in title_problems("01_data", _twin(("markdown", no_list)))[0]
    assert title_problems("02_x", _twin(("markdown", good)))  # the block names another notebook
    assert "not a markdown title" in title_problems("01_data", _twin(("code", "x = 1")))[0]


SITTING_MINUTES = 45
"""One sitting: a notebook's reading time plus its measured running time in the learner profile."""


def sitting_minutes(nb: nbformat.NotebookNode, running_seconds: float) -> float:
    """Reading (at render_docs' words per minute, solutions and the time line left out) plus running."""
    return render_docs.reading_words(nb.cells) / render_docs.READING_WORDS_PER_MINUTE + running_seconds / 60


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_notebook_fits_one_sitting_of_reading_and_running(path):
    timings = json.loads((ROOT / "benchmarks" / "results" / "course_timings.json").read_text())
    assert sitting_minutes(_load(path), timings["notebooks"][path.stem]) <= SITTING_MINUTES


def test_the_sitting_rule_catches_a_notebook_too_long_to_read_or_to_run():
    short = _twin(("markdown", "word " * 3000), ("code", "x = 1"))
    assert sitting_minutes(short, 5 * 60) <= SITTING_MINUTES
    assert sitting_minutes(_twin(("markdown", "word " * 8000)), 60) > SITTING_MINUTES
    assert sitting_minutes(short, 40 * 60) > SITTING_MINUTES
