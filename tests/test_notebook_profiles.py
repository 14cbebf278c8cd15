"""A notebook opened with no setting runs the learner profile and says so in its first output; every
size a notebook picks by profile names all three profiles."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from charlib import config

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _code_cells(path: Path) -> list[str]:
    return [cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_code_cell_reads_the_profile_and_prints_what_it_is(path):
    first = _code_cells(path)[0]
    lines = [line.split("#")[0].strip() for line in first.splitlines()]
    assert "PROFILE = None" in lines
    assert "profile = charlib.config.profile(PROFILE)" in lines
    read = lines.index("profile = charlib.config.profile(PROFILE)")
    prints = [i for i, line in enumerate(lines) if line.startswith("print(")]
    assert prints and lines[prints[0]] == "print(charlib.config.describe(profile))" and prints[0] > read


def _picks(source: str) -> list[set[str]]:
    """The keys of every ``{...}[profile.name]`` in a code cell (magics dropped)."""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    return [{key.value for key in node.value.keys}
            for node in ast.walk(ast.parse(code))
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Dict)
            and ast.unparse(node.slice) == "profile.name"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_sizes_chosen_by_profile_name_every_profile(path):
    for source in _code_cells(path):
        for keys in _picks(source):
            assert keys == set(config.PROFILES), f"{path.name}: a pick lacks {set(config.PROFILES) - keys}"


def test_the_pick_check_catches_a_missing_profile(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('N = {"smoke": 1, "full": 2}[profile.name]')]
    broken = tmp_path / "99_broken.ipynb"
    nbformat.write(nb, broken)
    with pytest.raises(AssertionError, match="learner"):
        test_sizes_chosen_by_profile_name_every_profile(broken)


def test_a_notebook_opened_with_no_setting_runs_the_learner_profile(monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.delenv(config.ENV_PROFILE, raising=False)  # the tests set smoke; a learner sets nothing
    nb = nbformat.read(ROOT / "notebooks" / "01_data.ipynb", as_version=4)
    first = next(i for i, cell in enumerate(nb.cells) if cell.cell_type == "code")
    nb.cells = [nb.cells[first]]
    nb.cells[0].source = "\n".join(line for line in nb.cells[0].source.splitlines()
                                   if not line.startswith("%"))
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    printed = "".join(out.get("text", "") for out in nb.cells[0].outputs if out.output_type == "stream")
    assert printed.startswith(f"Profile {config.DEFAULT_PROFILE!r} (the default)")
    assert config.DEFAULT_PROFILE == "learner"
