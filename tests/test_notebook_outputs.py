"""tools/strip_outputs.py keeps notebook diffs readable: no figures, no execution counts, no widget
state; only cells tagged for nbval keep their text output. (That every committed notebook is
stripped is checked in tests/test_environment.py.)"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import strip_outputs  # noqa: E402


def test_strip_keeps_only_the_text_of_tagged_cells():
    nb = nbformat.v4.new_notebook()
    plain = nbformat.v4.new_code_cell("print(1)", execution_count=7, outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="1\n")])
    tagged = nbformat.v4.new_code_cell("x", execution_count=9, metadata={"tags": ["nbval-check-output"]},
                                       outputs=[nbformat.v4.new_output(
                                           "execute_result", data={"text/plain": "2", "image/png": "AAAA"},
                                           execution_count=9)])
    nb.cells = [plain, tagged]
    nb.metadata["widgets"] = {"state": {}}
    out = strip_outputs.strip(nb)
    assert out.cells[0].outputs == [] and out.cells[0].execution_count is None
    assert out.cells[1].execution_count == 1
    assert [o["data"] for o in out.cells[1].outputs] == [{"text/plain": "2"}]
    assert "widgets" not in out.metadata
