"""The real ML-100K + Freebase KG from the recbole wheel, through the CLI (slow: fetches and loads 200k rows)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from kragrec.cli import app

pytestmark = pytest.mark.slow
runner = CliRunner()
ML100K_SUMMARY = (
    "943 users, 1,682 items, 100,000 ratings, 91,631 KG triples, 1,598 item links, 34,628 entities, 19 genres"
)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ml100k")
    fetched = runner.invoke(app, ["data", "fetch", "ml-100k", "--data-dir", str(folder)])
    assert fetched.exit_code == 0, fetched.output
    return folder


def invoke(data_dir, *args):
    result = runner.invoke(app, [*args, "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_fetch_registers_verified_files(data_dir):
    manifest = json.loads((data_dir / "datasets" / "ml-100k" / "manifest.json").read_text())
    assert manifest["origin"] == "recbole==1.2.1:recbole/dataset_example/ml-100k"
    assert sorted(manifest["sha256"]) == ["inter", "item", "kg", "link", "user"]


def test_prepare_gives_one_valid_and_test_sample_per_user(data_dir):
    out = invoke(data_dir, "data", "prepare")
    assert "train 97,171, valid 943, test 943 samples" in out


def test_load_twice_gives_the_paper_counts_and_changes_nothing(data_dir):
    first = invoke(data_dir, "load-kg")
    assert f"loaded: {ML100K_SUMMARY}" in first
    assert "exact duplicate KG triples dropped: 0" in first
    second = invoke(data_dir, "load-kg")
    assert "nothing written" in second
    assert f"loaded: {ML100K_SUMMARY}" in second
    assert ML100K_SUMMARY in invoke(data_dir, "kg", "stats")
