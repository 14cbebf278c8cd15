"""Profiles are chosen one way everywhere; outputs land under the course's outputs/ folder."""

from __future__ import annotations

import pytest

from charlib import config
from charlib.errors import CharlibError


def test_profile_defaults_to_learner_and_reads_the_environment(monkeypatch):
    monkeypatch.delenv(config.ENV_PROFILE, raising=False)
    assert config.profile().name == "learner"
    monkeypatch.setenv(config.ENV_PROFILE, "FULL")
    assert config.profile().name == "full"
    assert config.profile("smoke").name == "smoke"  # an explicit argument wins


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(config.ENV_PROFILE, "fast")
    with pytest.raises(CharlibError, match="fast"):
        config.profile()


def test_full_profile_is_bigger_than_smoke():
    smoke, full = config.PROFILES["smoke"], config.PROFILES["full"]
    assert full.n_sprites > smoke.n_sprites and full.image_size >= smoke.image_size


def test_the_tests_run_the_smoke_profile():
    assert config.profile().name == "smoke"  # set by conftest, inherited by subprocesses


@pytest.mark.parametrize("name", sorted(config.PROFILES))
def test_describe_names_the_profile_and_how_to_change_it(name):
    text = config.describe(config.profile(name))
    assert f"Profile {name!r}" in text and config.ENV_PROFILE in text
    assert ("(the default)" in text) == (name == config.DEFAULT_PROFILE)
    others = [other for other in config.PROFILES if other != name]
    assert all(f'PROFILE = "{other}"' in text for other in others)


def test_output_dir_honours_env_and_creates_folders(tmp_path, monkeypatch):
    monkeypatch.setenv(config.ENV_OUTPUTS, str(tmp_path / "outs"))
    path = config.output_dir("01_data", "figs")
    assert path == tmp_path / "outs" / "01_data" / "figs" and path.is_dir()


def test_output_dir_defaults_to_course_root(tmp_path, monkeypatch):
    monkeypatch.delenv(config.ENV_OUTPUTS, raising=False)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "charlib").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    assert config.output_dir("x") == tmp_path.resolve() / "outputs" / "x"


def test_data_dir_is_the_shipped_folder():
    assert (config.data_dir() / "sample_characters").is_dir()
