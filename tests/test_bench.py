"""``charlib bench``: interleaved timing of training-step variants, ratios, skips, JSON/CSV output."""

from __future__ import annotations

import csv
import json

import pytest

from charlib.bench import FULL, QUICK, VARIANTS, format_table, run_bench, skip_reason
from charlib.cli import main
from charlib.errors import CharlibError
from charlib.training import hardware


def test_quick_bench_writes_json_csv_and_prints_the_ratio_to_the_reference(tmp_path, capsys):
    code = main(["bench", "--quick", "--size", "16", "--steps", "1", "--warmup", "1", "--repeats", "2",
                 "--variants", "default", "fp16", "--out", str(tmp_path)])
    assert code == 0
    printed = capsys.readouterr().out
    report = json.loads((tmp_path / "bench.json").read_text())
    names = [r["name"] for r in report["results"]]
    assert names[0] == "reference" and "default" in names  # the reference is always timed first
    assert report["device"] and report["settings"]["interleaved"] is True
    default = next(r for r in report["results"] if r["name"] == "default")
    assert 0 < default["img_per_s_min"] <= default["img_per_s"] <= default["img_per_s_max"]
    assert default["ratio_min"] <= default["ratio_to_reference"] <= default["ratio_max"]
    assert default["peak_mem_mib"] > 0
    assert "x the reference's img/s" in printed
    rows = list(csv.DictReader(open(tmp_path / "bench.csv")))
    assert [r["name"] for r in rows] == names
    assert (tmp_path / "bench.md").read_text().startswith("Device:")
    if not hardware.gpus():  # float16 needs a GPU: skipped with its reason, not an error
        assert report["skipped"] == [{"name": "fp16", "reason": skip_reason(VARIANTS["fp16"])}]
        assert "skipped fp16" in printed and "Skipped fp16" in format_table(report)


def test_reference_ratio_is_one_and_each_round_is_timed(tmp_path):
    report = run_bench(("reference",), size=16, batch_size=8, steps=1, warmup=1, repeats=2,
                       log=lambda line: None)
    (ref,) = report["results"]
    assert ref["ratio_to_reference"] == ref["ratio_min"] == ref["ratio_max"] == 1.0


def test_unknown_variant_is_a_clear_error(capsys):
    with pytest.raises(CharlibError, match="unknown bench variant"):
        run_bench(("warp-speed",), size=16, log=lambda line: None)
    assert main(["bench", "--variants", "warp-speed"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown bench variant")


def test_quick_grid_is_a_subset_of_the_full_grid_and_forced_variants_are_opt_in():
    assert set(QUICK) <= set(FULL) and "reference" in QUICK
    assert "fp16-forced" in VARIANTS and "fp16-forced" not in FULL


def test_a_variant_of_your_own_times_the_course_dcgan_with_its_config_overrides():
    from charlib.bench import Variant

    small_d = Variant("small-d", overrides=(("d_width", 8),), note="D at width 8")
    report = run_bench(("default", small_d), size=16, batch_size=8, steps=1, warmup=1, repeats=1,
                       log=lambda line: None)
    rows = {r["name"]: r for r in report["results"]}
    assert list(rows) == ["reference", "default", "small-d"]
    assert rows["small-d"]["d_params"] < rows["default"]["d_params"]  # the override reached the model
    assert rows["small-d"]["g_params"] == rows["default"]["g_params"]
    assert "small-d" not in VARIANTS  # nothing registered globally
