"""Input that used to be accepted silently now stops with one line and writes nothing: an empty interaction file
(at registration, or emptied afterwards) and a data preparation without samples. The other silent cases (a
missing KRAGREC_CONFIG file, query parameters missing or given twice) are rows of test_bad_input_catalogue.py."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from kragrec.cli import app

from conftest import BROKEN, TINY, one_error_line

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def loaded(clean_env):
    """The tiny dataset registered and loaded under ./d."""
    assert invoke("data", "fetch", "--from", str(TINY), "tiny", "--data-dir", "d").exit_code == 0
    assert invoke("load-kg", "--dataset", "tiny", "--data-dir", "d").exit_code == 0
    return clean_env


def test_an_interaction_file_with_only_a_header_is_not_registered(clean_env):
    line = one_error_line(invoke("data", "fetch", "--from", str(BROKEN / "header_only"), "tiny", "--data-dir", "d"))
    inter = BROKEN / "header_only" / "tiny.inter"
    assert line == f"error: {inter}:0: field 'file': no interactions: the file has a header but no rows"
    assert not (clean_env / "d" / "datasets" / "tiny").exists()


def test_an_interaction_file_emptied_after_registration_stops_prepare(clean_env):
    assert invoke("data", "fetch", "--from", str(TINY), "tiny", "--data-dir", "d").exit_code == 0
    registered = clean_env / "d" / "datasets" / "tiny" / "tiny.inter"
    registered.write_text(registered.read_text().splitlines()[0] + "\n")
    line = one_error_line(invoke("data", "prepare", "--dataset", "tiny", "--data-dir", "d"))
    assert line.endswith("tiny.inter:0: field 'file': no interactions: the file has a header but no rows")
    assert not (clean_env / "d" / "prepared" / "tiny" / "h10-c20-r0-s0").exists()


def test_a_preparation_without_any_test_sample_is_refused(clean_env):
    assert invoke("data", "fetch", "--from", str(TINY), "tiny", "--data-dir", "d").exit_code == 0
    line = one_error_line(invoke("data", "prepare", "--dataset", "tiny", "--min-rating", "6", "--data-dir", "d"))
    assert line == (
        "error: dataset 'tiny': no user has 2 or more interactions rated at least 6 (--min-rating), "
        "so no test sample to prepare"
    )
    assert not (clean_env / "d" / "prepared" / "tiny" / "h10-c20-r6-s0").exists()
