"""The classroom kit stays true: errata and course-map links land on real notebook sections, the
glossary is bilingual, the course map lists the notebooks that exist and reads its times from the results,
and the fault table names tests that exist."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LINK = re.compile(r"\]\(([^)\s]+)\)")
CJK = re.compile(r"[\u4e00-\u9fff]")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _markdown_headings(text: str) -> set[str]:
    anchors, fenced = set(), False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            anchors.add(slug(line.lstrip("#")))
    return anchors


def _anchors(path: Path) -> set[str]:
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        return set().union(*(_markdown_headings(c.source) for c in nb.cells if c.cell_type == "markdown"))
    return _markdown_headings(path.read_text(encoding="utf-8"))


def _local_links(doc: Path) -> list[tuple[Path, str]]:
    out = []
    for target in LINK.findall(doc.read_text(encoding="utf-8")):
        if "://" in target or target.startswith("mailto:"):
            continue
        file_part, _, anchor = target.partition("#")
        out.append(((doc.parent / file_part).resolve() if file_part else doc, anchor))
    return out


def test_slug_follows_githubs_rules():
    assert slug(" 5. Logits, not probabilities: the `from_logits` pitfall") == (
        "5-logits-not-probabilities-the-from_logits-pitfall")
    assert slug(" Why the generator *upsamples*") == "why-the-generator-upsamples"
    assert slug(" 7. The `tf.data` pipeline") == "7-the-tfdata-pipeline"


@pytest.mark.parametrize("doc", ["errata.md", "introduction.md", "instructor_guide.md", "glossary.md",
                                 "results.md", "faults.md", "../notebooks/README.md"])
def test_every_local_link_reaches_an_existing_file_and_heading(doc):
    path = (DOCS / doc).resolve()
    assert path.exists(), f"{doc} is missing"
    for target, anchor in _local_links(path):
        assert target.exists(), f"{doc} links to a missing file: {target.relative_to(ROOT)}"
        if anchor and target.suffix in (".md", ".ipynb"):
            assert anchor in _anchors(target), (
                f"{doc} links to #{anchor}, which is not a heading of {target.relative_to(ROOT)}")


def test_every_test_the_fault_table_names_exists():
    table = (DOCS / "faults.md").read_text(encoding="utf-8")
    named = re.findall(r"`(tests/test_\w+\.py)::(test_\w+)`", table)
    assert len(named) >= 10
    for file, test in named:
        source = (ROOT / file).read_text(encoding="utf-8")
        assert re.search(rf"^def {test}\(", source, re.M), f"docs/faults.md names {file}::{test}, not there"


def test_every_errata_row_quotes_the_article_and_links_to_a_notebook_section_or_says_why_not():
    text = (DOCS / "errata.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if re.match(r"\| [CFA]\d+ \|", line)]
    assert len(rows) >= 15
    assert any(row.startswith("| A") for row in rows), "the application/reference rows are missing"
    for row in rows:
        linked = re.search(r"\]\(\.\./notebooks/\d\d_\w+\.ipynb#[\w-]+\)", row)
        assert linked or "Not yet taught" in row, f"errata row without a notebook section: {row[:60]}"
        quoted = row.strip("|").split("|")[1]
        assert CJK.search(quoted), f"errata row without the article's own words: {row[:60]}"


def test_glossary_rows_are_bilingual_define_in_both_languages_and_name_a_notebook():
    text = (DOCS / "glossary.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines()
            if line.startswith("| ") and not line.startswith(("| English", "| ---"))]
    assert len(rows) >= 60
    for row in rows:
        english, chinese, meaning, notebook, chinese_meaning = (
            cell.strip() for cell in row.strip("|").split("|")[:5])
        assert english and meaning and not CJK.search(english), row
        assert CJK.search(chinese_meaning), f"no Chinese definition in: {row}"
        assert CJK.search(chinese), f"no Chinese term in: {row}"
        assert re.search(r"\d\d|intro", notebook), f"no notebook in: {row}"


def test_course_map_lists_each_existing_notebook_and_takes_its_times_from_the_results():
    text = (ROOT / "notebooks" / "README.md").read_text(encoding="utf-8")
    rows = {m.group(1): line for line in text.splitlines()
            if (m := re.match(r"\| \[(\d\d_\w+)\]", line))}
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert nb.stem in rows, f"notebooks/README.md has no row for {nb.stem}"
    for name in rows:
        assert (ROOT / "notebooks" / f"{name}.ipynb").exists() or "planned" in rows[name].lower(), name
    assert "<!-- results:course_times -->" in text, "the times must come from tools/render_docs.py"
    order = text.split("## Order", 1)[1].split("\n## ", 1)[0]
    assert not re.search(r"\d+(\.\d+)? ?(s|min)\b", order), "a time typed by hand in the order table"


def test_further_reading_says_what_to_read_each_paper_for():
    text = (DOCS / "introduction.md").read_text(encoding="utf-8")
    reading = text.split("## Further reading", 1)[1]
    entries = [e for e in reading.split("\n- ")[1:]]
    assert len(entries) >= 20
    for entry in entries:
        assert re.search(r"\((19|20)\d\d\)", entry), f"no year: {entry[:60]}"
        assert "**Read for:**" in entry, f"no reason to read: {entry[:60]}"
    for needed in ("Goodfellow", "Kingma and Welling", "Radford", "Gulrajani", "PacGAN", "VEEGAN",
                   "Unrolled", "Naeem", "Kynkäänniemi", "Differentiable Augmentation"):
        assert needed in reading, needed
