"""tools/make_student.py writes a classroom copy of the notebooks: every solution gone, every exercise
and check call kept, valid notebooks, and it refuses to write over the course's own notebooks."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import make_student  # noqa: E402

COURSE = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# The course's own way of hiding a solution (notebooks/STYLE.md), matched here independently of
# the tool, so that the tests do not share the tool's idea of what a solution is.
SOLUTION = re.compile(r"<details><summary>Solution</summary>.*?</details>", re.S)
EXERCISE = re.compile(r"Exercise \d+")
CHECK_CALL = re.compile(r"exercises\.check_\w+\(")


def sources(nb: nbformat.NotebookNode) -> list[str]:
    return [cell.source for cell in nb.cells]


def without_solutions(text: str) -> str:
    return SOLUTION.sub("", text)


def solution_lines(original: nbformat.NotebookNode) -> list[str]:
    """Lines that only a solution holds: long enough to be telling, absent from the rest."""
    text = "\n".join(sources(original))
    rest = without_solutions(text)
    lines = []
    for block in SOLUTION.findall(text):
        for line in block.splitlines()[1:-1]:
            line = line.strip()
            if len(line) >= 25 and line not in rest:
                lines.append(line)
    return lines


def leaked(original: nbformat.NotebookNode, student: nbformat.NotebookNode) -> list[str]:
    """The solution lines of ``original`` that are still in ``student`` (empty when none leaked)."""
    text = "\n".join(sources(student))
    found = [line for line in solution_lines(original) if line in text]
    if re.search(r"(?i)<summary>\s*solution", text):
        found.append("<summary>Solution")
    return found


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("student") / "class"
    make_student.make_student(out)
    return out


def load(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def test_the_course_has_solutions_to_remove():
    for path in COURSE:
        nb = load(path)
        assert len(SOLUTION.findall("\n".join(sources(nb)))) >= 2, path.name
        assert solution_lines(nb), path.name
    assert len(COURSE) >= 10


def test_every_solution_is_gone_from_every_student_notebook(student_dir):
    for path in COURSE:
        student = load(student_dir / path.name)
        assert leaked(load(path), student) == [], path.name
        assert "<details" not in "\n".join(sources(student)), path.name


def test_the_leak_check_finds_a_solution_that_survives(student_dir):
    original = load(COURSE[1])
    assert leaked(original, original), "the unchanged course notebook must count as leaking"
    student = load(student_dir / COURSE[1].name)
    block = SOLUTION.findall("\n".join(sources(original)))[0]
    body = block.split("</summary>", 1)[1].rsplit("</details>", 1)[0]
    student.cells[-1].source += "\n\n" + body  # a solution pasted in without its <details> wrapper
    assert leaked(original, student)


def test_every_exercise_and_check_call_is_kept_and_nothing_else_changes(student_dir):
    for path in COURSE:
        original, student = load(path), load(student_dir / path.name)
        expected = [without_solutions(s).strip("\n") if SOLUTION.search(s) else s for s in sources(original)]
        expected = [s for s in expected if s.strip()]
        assert sources(student) == expected, path.name
        before = without_solutions("\n".join(sources(original)))
        after = "\n".join(sources(student))
        assert len(set(EXERCISE.findall(before))) >= 2, path.name
        assert sorted(EXERCISE.findall(after)) == sorted(EXERCISE.findall(before)), path.name
        assert CHECK_CALL.findall(after) == CHECK_CALL.findall(before), path.name
    total = sum(len(CHECK_CALL.findall("\n".join(sources(load(p))))) for p in COURSE)
    assert total >= 10, "the course's exercises call their checks"


def test_student_notebooks_are_valid_keep_their_first_code_cell_and_tags_and_start_clean(student_dir):
    for path in COURSE:
        original, student = load(path), load(student_dir / path.name)
        nbformat.validate(student)
        first = next(c for c in original.cells if c.cell_type == "code")
        assert next(c for c in student.cells if c.cell_type == "code").source == first.source, path.name
        tags = [c.metadata.get("tags", []) for c in original.cells if not SOLUTION.fullmatch(c.source)]
        assert [c.metadata.get("tags", []) for c in student.cells] == tags, path.name
        for cell in student.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name


def test_the_readme_says_what_was_removed_from_each_notebook(student_dir):
    text = (student_dir / "README.md").read_text(encoding="utf-8")
    assert "solution" in text.lower() and "output" in text.lower()
    for path in COURSE:
        count = len(SOLUTION.findall("\n".join(sources(load(path)))))
        assert f"| {path.name} | {count} |" in text
    assert sorted(p.name for p in student_dir.iterdir()) == sorted(
        [p.name for p in COURSE] + ["README.md", "exercises.py"])


def test_the_copy_carries_the_exercise_checks_its_notebooks_import(student_dir):
    assert (student_dir / "exercises.py").read_bytes() == (COURSE[0].parent / "exercises.py").read_bytes()
    code = "import exercises; print(exercises.check_sprite_world_size(1))"
    done = subprocess.run([sys.executable, "-c", code], cwd=student_dir, capture_output=True, text=True,
                          check=False)
    assert done.stdout.startswith("NOT YET"), done.stderr


def test_the_command_line_writes_the_copy_and_says_so(tmp_path, capsys):
    assert make_student.main([str(tmp_path / "out")]) == 0
    assert f"{len(COURSE)} student notebooks" in capsys.readouterr().out
    assert len(list((tmp_path / "out").glob("*.ipynb"))) == len(COURSE)


@pytest.mark.parametrize("inside", ["", "student"])
def test_it_refuses_the_course_notebooks_folder_in_one_line(inside, capsys):
    target = ROOT / "notebooks" / inside if inside else ROOT / "notebooks"
    before = sorted(p.name for p in (ROOT / "notebooks").iterdir())
    assert make_student.main([str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "refusing" in err and "notebooks" in err
    assert sorted(p.name for p in (ROOT / "notebooks").iterdir()) == before
    assert not (ROOT / "notebooks" / "student").exists()


def test_it_refuses_a_non_empty_folder_unless_overwrite_and_then_keeps_other_files(tmp_path, capsys):
    out = tmp_path / "class"
    out.mkdir()
    (out / "marks.csv").write_text("name,mark\n")
    assert make_student.main([str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not empty" in err and "--overwrite" in err
    assert [p.name for p in out.iterdir()] == ["marks.csv"]
    assert make_student.main([str(out), "--overwrite"]) == 0
    assert (out / "marks.csv").read_text() == "name,mark\n"
    assert (out / "09_your_own_data.ipynb").exists()


def test_it_refuses_a_file_as_the_folder(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    with pytest.raises(make_student.StudentCopyError, match="not a folder"):
        make_student.make_student(target)
    assert target.read_text() == "keep me"


# A twin course folder whose solutions are marked in the other ways a notebook may mark them.
VARIANTS = [
    ("markdown", "<details open>\n<summary><b>Solution</b></summary>\n\nSECRET-1\n</details>", []),
    ("markdown", "<DETAILS><SUMMARY> solution to exercise 1 </SUMMARY>SECRET-2</DETAILS>", []),
    ("markdown", "<details><summary>Answer</summary>\n\n<details><summary>Why</summary>SECRET-3</details>\n"
                 "SECRET-4\n</details>\n\n**Exercise 2.** Kept after the answer.", []),
    ("markdown", "<details><summary>**Solutions**</summary>SECRET-5</details>", []),
    ("markdown", "<details><summary>参考答案</summary>SECRET-6</details>", []),
    ("markdown", "### Solution\n\nSECRET-7", []),
    ("markdown", "**Answer to exercise 2.**\n\nSECRET-8", []),
    ("code", "answer = 42  # SECRET-9", ["solution"]),
    ("code", "answer = 43  # SECRET-10", ["hide-solution"]),
    ("code", "# Solution to exercise 2\nanswer = 44  # SECRET-11", []),
    ("code", "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1  # SECRET-12\n    ### END SOLUTION\n"
             "exercises.check_twin(f)", []),
]
KEPT = [
    ("markdown", "<details><summary>Going further</summary>Extra reading, not an answer.</details>", []),
    ("markdown", "The cheapest solution is to ignore z, at a lower resolution.", []),
    ("markdown", "**Exercise 1.** Compute the answer and check it.", []),
    ("code", "# Exercise 1: your code here, then run the check.\nanswer = None\n"
             "exercises.check_twin(answer)", []),
]


def twin_notebook(cells: list[tuple[str, str, list[str]]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(nbformat.v4.new_code_cell("import charlib\nPROFILE = None"))
    for kind, source, tags in cells:
        cell = (nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell)(source)
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    grader = nbformat.v4.new_code_cell("answer = 45  # SECRET-13")
    grader.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "a", "locked": False}
    nb.cells.append(grader)
    return nb


def write_twin(folder: Path, nb: nbformat.NotebookNode, name: str = "00_twin.ipynb") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)
    return folder


def test_solutions_marked_in_other_ways_are_removed_and_the_rest_is_kept(tmp_path):
    source = write_twin(tmp_path / "course", twin_notebook(KEPT + VARIANTS))
    rows = make_student.make_student(tmp_path / "out", source=source)
    student = load(tmp_path / "out" / "00_twin.ipynb")
    text = "\n".join(sources(student))
    assert "SECRET" not in text, [s for s in sources(student) if "SECRET" in s]
    for _, kept, _ in KEPT:
        assert kept in sources(student)
    assert "**Exercise 2.** Kept after the answer." in sources(student)
    assert "def f(x):\n    # your code here\nexercises.check_twin(f)" in sources(student)
    assert sources(student)[0] == "import charlib\nPROFILE = None"
    assert rows[0][1].answers == len(VARIANTS) + 1


def test_the_twin_without_the_tool_would_leak_every_secret(tmp_path):
    nb = twin_notebook(KEPT + VARIANTS)
    assert len(re.findall(r"SECRET-\d+", "\n".join(sources(nb)))) == 13


@pytest.mark.parametrize("broken, says", [
    ("<details><summary>Solution</summary>\n\nSECRET, and the block never closes", "never closes"),
    ("x = 1\n### BEGIN SOLUTION\ny = 2  # SECRET", "without END SOLUTION"),
    ("Prose, then a stray </details>", "never opened"),
])
def test_a_solution_that_cannot_be_removed_safely_stops_the_tool_and_writes_nothing(tmp_path, broken, says):
    kind = "code" if "BEGIN" in broken else "markdown"
    source = write_twin(tmp_path / "course", twin_notebook(KEPT + [(kind, broken, [])]))
    write_twin(source, twin_notebook(KEPT), name="01_fine.ipynb")
    with pytest.raises(make_student.StudentCopyError, match=says) as err:
        make_student.make_student(tmp_path / "out", source=source)
    assert "00_twin.ipynb cell 5" in str(err.value)
    assert not (tmp_path / "out").exists()
