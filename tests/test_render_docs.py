"""Prose and JSON agree: every measured number on the course's pages is what tools/render_docs.py
renders from benchmarks/results/*.json, and a changed number in the JSON shows up as a stale page."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import render_docs  # noqa: E402
import run_notebooks  # noqa: E402

TIMINGS = {"profile": "learner", "command": "make course", "machine": "2 CPU cores, x86_64",
           "setup_seconds": 90.0, "total_seconds": 1800.0,
           "notebooks": {"00_setup": 30.0, "05_vae": 330.0}}


@pytest.fixture
def results_twin(tmp_path: Path) -> Path:
    """A copy of the committed results files, to change without touching the real ones."""
    twin = tmp_path / "results"
    twin.mkdir()
    for path in render_docs.RESULTS.glob("*.json"):
        shutil.copy(path, twin / path.name)
    return twin


def test_committed_pages_are_what_the_renderer_writes(capsys):
    assert render_docs.main(["--check"]) == 0, capsys.readouterr().out


def test_every_page_with_measured_numbers_uses_a_results_block():
    for page in ("README.md", "notebooks/README.md", "docs/instructor_guide.md"):
        assert "<!-- results:course_" in (ROOT / page).read_text(encoding="utf-8"), page
    assert (ROOT / "docs" / "results.md").read_text(encoding="utf-8").startswith(render_docs.GENERATED_NOTE)


def test_a_changed_number_in_the_json_changes_the_rendering_and_check_names_the_page(results_twin, capsys):
    before = render_docs.sprite_speed(results_twin)
    data = json.loads((results_twin / "sprites_speed.json").read_text())
    data["results"][0]["cold_s"] = 9.87
    (results_twin / "sprites_speed.json").write_text(json.dumps(data))
    after = render_docs.sprite_speed(results_twin)
    assert after != before and "9.9" in after
    assert render_docs.main(["--check", "--results-dir", str(results_twin)]) == 1
    assert "docs/results.md" in capsys.readouterr().out


def test_check_writes_nothing(results_twin):
    page = ROOT / "docs" / "results.md"
    committed = page.read_text(encoding="utf-8")
    (results_twin / "gan_full.json").write_text(
        (results_twin / "gan_full.json").read_text().replace('"minutes_wall": ', '"minutes_wall": 1'))
    render_docs.main(["--check", "--results-dir", str(results_twin)])
    assert page.read_text(encoding="utf-8") == committed


def test_remedies_report_the_mean_and_range_over_seeds_not_the_best_seed(results_twin):
    data = json.loads((results_twin / "remedies_sprites.json").read_text())
    kls = [r["kl"] for r in data["rows"] if r["recipe"] == "pacgan2-decay" and r["steps"] == 10000]
    assert len(kls) > 1
    row = next(line for line in render_docs.remedies(results_twin).splitlines()
               if line.startswith("| `pacgan2-decay` | 10,000 |"))
    mean = sum(kls) / len(kls)
    assert f"{mean:.3f} ({min(kls):.3f}–{max(kls):.3f})" in row


def test_course_times_says_not_measured_without_its_file(results_twin):
    (results_twin / "course_timings.json").unlink(missing_ok=True)
    assert render_docs.course_times(results_twin) == render_docs.NOT_MEASURED
    assert "not measured yet" in render_docs.course_total(results_twin)


def test_course_times_renders_minutes_per_notebook_and_the_total(results_twin):
    (results_twin / "course_timings.json").write_text(json.dumps(TIMINGS))
    text = render_docs.course_times(results_twin)
    assert "| `00_setup` | 0.5 |" in text and "| `05_vae` | 5.5 |" in text
    assert "**30 minutes**" in text and "1.5 minutes created the virtual environment" in text
    assert render_docs.course_total(results_twin).startswith("about 30 minutes on 2 CPU cores")


def test_run_notebooks_timings_json_fits_what_course_times_reads(results_twin):
    record = run_notebooks.timings_record("learner", [("00_setup.ipynb", 12.34), ("01_data.ipynb", 60.0)])
    assert set(record) == {"profile", "machine", "notebooks"}
    assert record["notebooks"] == {"00_setup": 12.3, "01_data": 60.0}
    record.update(setup_seconds=60.0, total_seconds=200.0)
    (results_twin / "course_timings.json").write_text(json.dumps(record))
    assert "| `01_data` | 1.0 |" in render_docs.course_times(results_twin)


def test_blocks_render_inline_or_on_their_own_lines(results_twin):
    (results_twin / "course_timings.json").unlink(missing_ok=True)
    text = ("Takes <!-- results:course_total -->old<!-- /results:course_total -->.\n"
            "<!-- results:course_times -->\nold\n<!-- /results:course_times -->\n")
    out = render_docs.render_blocks(text, results_twin)
    assert f"<!-- results:course_total -->{render_docs.course_total(results_twin)}<!-- /" in out
    assert f"<!-- results:course_times -->\n{render_docs.NOT_MEASURED}\n<!-- /" in out
    assert "old" not in out


def test_an_unknown_block_or_a_missing_results_file_is_one_clear_error(results_twin, capsys):
    with pytest.raises(render_docs.RenderError, match="no renderer named 'nope'"):
        render_docs.render_blocks("<!-- results:nope --><!-- /results:nope -->", results_twin, "X.md")
    (results_twin / "vae_full.json").unlink()
    assert render_docs.main(["--check", "--results-dir", str(results_twin)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "vae_full.json is missing" in err


def test_a_notebook_states_its_reading_and_measured_running_time(results_twin):
    (results_twin / "course_timings.json").unlink(missing_ok=True)
    unmeasured = render_docs.notebook_time(results_twin, "05_vae")
    assert "minutes of reading" in unmeasured and "not measured yet" in unmeasured
    (results_twin / "course_timings.json").write_text(json.dumps(TIMINGS))
    minutes = round(TIMINGS["notebooks"]["05_vae"] / 60)
    assert f"{minutes} minutes of running" in render_docs.notebook_time(results_twin, "05_vae")


def test_reading_time_counts_prose_but_not_solutions(tmp_path):
    import nbformat

    (tmp_path / "notebooks").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("word " * 300),
                nbformat.v4.new_markdown_cell(
                    "<details><summary>Solution</summary>" + "x " * 3000 + "</details>")]
    nbformat.write(nb, tmp_path / "notebooks" / "99_x.ipynb")
    assert render_docs.reading_minutes("99_x", tmp_path) == round(300 / render_docs.READING_WORDS_PER_MINUTE)


def test_notebook_blocks_render_inside_markdown_cells_in_the_committed_format(results_twin):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("**Time:** <!-- results:notebook_time:05_vae -->?"
                                              "<!-- /results:notebook_time:05_vae -->."),
                nbformat.v4.new_code_cell("x = 1")]
    text = render_docs.render_notebook(nbformat.writes(nb) + "\n", results_twin, "t.ipynb")
    assert "of reading" in nbformat.reads(text, as_version=4).cells[0].source
    assert render_docs.render_notebook(text, results_twin, "t.ipynb") == text  # rendering twice: no change


# Percentages in notebook prose that are definitions or arithmetic, not measurements; any other
# percentage in a markdown cell must come from a results block.
DEFINITIONAL_PERCENTAGES = {
    "02_gan_maths": ["with 99.9% confidence", "e^{-9/2} \\approx 98.9\\%", "scores about 98.9% high quality"],
    "03_dcgan": ["\\approx 14\\%"],
    "06_animation": ["23% of the $6^4$ combinations"],
    "08_mode_collapse": ["e^{-9/2} \\approx 98.9\\%", "real data scores 98.9%, not 100%",
                         "puts 99% of its samples", "e^{-2} \\approx 14\\%",
                         "The bar for the best recipe is ≥ 95%", "\\approx 23\\%"],
    "09_your_own_data": ["sets 15% of the folder", "95% of held-out images are",
                         "than 95% of the held-out images"],
}
PERCENT = re.compile(r"\d+(?:\.\d+)?\\?%")


def hand_typed_percentages(name: str, markdown: str) -> list[str]:
    """The percentages of a notebook's markdown that neither a results block renders nor
    :data:`DEFINITIONAL_PERCENTAGES` lists."""
    text = re.sub(r"<!-- results:([\w:-]+) -->.*?<!-- /results:\1 -->", "", markdown, flags=re.DOTALL)
    for phrase in DEFINITIONAL_PERCENTAGES.get(name, []):
        text = text.replace(phrase, "")
    return PERCENT.findall(text)


def test_no_notebook_quotes_a_measured_percentage_by_hand():
    import nbformat

    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert hand_typed_percentages(path.stem, markdown) == [], path.name


def test_a_hand_typed_percentage_is_caught_and_a_rendered_one_is_not():
    block = "<!-- results:learner:gan:precision:pct -->56.1%<!-- /results:learner:gan:precision:pct -->"
    assert hand_typed_percentages("05_vae", "the VAE covered 98.3% of the modes") == ["98.3%"]
    assert hand_typed_percentages("05_vae", f"precision was {block}") == []


def test_value_blocks_read_one_number_and_name_a_missing_key(results_twin):
    data = json.loads((results_twin / "vae_prior.json").read_text())
    data["samplers"][3]["modes_covered"] = 123
    (results_twin / "vae_prior.json").write_text(json.dumps(data))
    assert render_docs.value(results_twin, "vae_prior:samplers:3:modes_covered:int") == "123"
    with pytest.raises(render_docs.RenderError, match="no 'nope'"):
        render_docs.value(results_twin, "vae_prior:samplers:3:nope:int")
    with pytest.raises(render_docs.RenderError, match="unknown format"):
        render_docs.value(results_twin, "vae_prior:samplers:3:modes_covered:furlongs")


def test_learner_blocks_give_the_mean_and_range_over_seeds(results_twin):
    text = render_docs.learner(results_twin, "gan:precision:pct")
    rows = [r["precision"] for r in json.loads((results_twin / "learner_quality.json").read_text())["rows"]
            if r["model"] == "gan"]
    assert text.startswith(render_docs.pct(sum(rows) / len(rows))) and f"over {len(rows)} seeds" in text


def test_outside_data_gives_each_recipe_over_seeds_with_the_floors(results_twin):
    (results_twin / "outside_data.json").unlink(missing_ok=True)
    assert "Not measured yet" in render_docs.outside_data(results_twin)

    def run(seed: int, covered: int, kl: float, won: bool) -> dict:
        return {"set": "shapes", "recipe": "r3gan", "seed": seed, "steps_asked": 900, "minutes_asked": None,
                "steps": 900, "modes_covered": covered, "n_modes": 336, "kl": kl, "readable": 0.95,
                "d_won": won, "distinct_images": 10_000, "train_minutes": 2.0}

    data = {"n": 26_000, "n_data": 10_000, "rows": [run(0, 330, 0.1, False), run(1, 310, 0.3, True)],
            "floors": {"shapes": {"perfect": {"modes_covered": 336.0, "kl": 0.0064},
                                  "real": {"modes_covered": 336, "n_modes": 336, "kl": 0.0065,
                                           "readable": 1.0, "reader_accuracy": 0.9999}}}}
    (results_twin / "outside_data.json").write_text(json.dumps(data))
    text = render_docs.outside_data(results_twin)
    assert "| `r3gan` | 2 | 900 | 320 (310–330) of 336 | 0.200 (0.100–0.300) | 95.0% | 1 of 2 |" in text
    assert "*perfect generator* (floor)" in text and "0.006" in text and "99.99%" in text
    timed = {"minutes_asked": 2.5, "steps_asked": 5000}
    data["rows"] += [{**run(0, 0, None, False), **timed, "recipe": "dcgan", "steps": 1800},
                     {**run(1, 0, None, False), **timed, "steps": 300}]
    (results_twin / "outside_data.json").write_text(json.dumps(data))
    text = render_docs.outside_data(results_twin)
    assert "| 0 of 336 | — |" in text  # no sample read as a mode: no KL, not "nan"
    assert "budget of 2.5 minutes" in text and "6.0–6.0 times as many steps" in text


def test_toy_recipe_blocks_give_each_measure_over_seeds_and_name_a_missing_recipe(results_twin):
    runs = [{"recipe": "r3gan", "toy": "ring", "seed": s, "steps": 2000, "modes_captured": m, "n_modes": 8,
             "high_quality_pct": hq, "reverse_kl": kl, "seconds": 1.0}
            for s, m, hq, kl in ((0, 8, 30.0, 0.2), (1, 6, 10.0, 0.4), (2, 0, 0.0, float("nan")))]
    data = {"n_scored": 2500, "recipes": {}, "runs": runs}
    (results_twin / "remedies_toys.json").write_text(json.dumps(data))
    text = render_docs.toy_recipe(results_twin, "r3gan:ring")
    assert text == ("4.7 (0.0–8.0) of 8 modes captured, 13.3% (0.0%–30.0%) of the samples within 3σ of a "
                    "mode, reverse KL 0.30 (0.20–0.40) (3 seeds, 2,000 steps)")
    with pytest.raises(render_docs.RenderError, match="no 'r3gan' runs on 'grid'"):
        render_docs.toy_recipe(results_twin, "r3gan:grid")


def test_outside_recipe_blocks_give_steps_minutes_and_modes_over_seeds(results_twin):
    def run(seed: int, steps: int, covered: int) -> dict:
        return {"set": "shapes", "recipe": "r3gan", "seed": seed, "steps": steps, "train_minutes": 2.5,
                "modes_covered": covered, "n_modes": 336}

    (results_twin / "outside_data.json").write_text(json.dumps({"rows": [run(0, 200, 0), run(1, 300, 4)]}))
    assert render_docs.outside_recipe(results_twin, "shapes:r3gan") == (
        "250 (200–300) steps in 2.5 minutes, 2 (0–4) of 336 modes covered (2 seeds)")
    with pytest.raises(render_docs.RenderError, match="no 'dcgan' runs"):
        render_docs.outside_recipe(results_twin, "shapes:dcgan")
