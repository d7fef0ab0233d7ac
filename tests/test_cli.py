"""The command line: verbs, exit codes, one-line errors, nothing half-written."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from kragrec import __version__
from kragrec.cli import app

from conftest import BROKEN, TINY

runner = CliRunner()
VERBS = ("data", "load-kg", "kg", "index", "retrieve", "train", "eval", "recommend")


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_help_lists_every_verb(clean_env):
    result = invoke("--help")
    assert result.exit_code == 0
    for verb in VERBS:
        assert verb in result.output


def test_console_script_prints_version():
    result = subprocess.run([sys.executable, "-m", "kragrec", "--version"], capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout.strip()) == (0, f"kragrec {__version__}")


def test_bad_reregistration_keeps_the_registered_data_and_the_loaded_store(clean_env):
    assert invoke("data", "fetch", "--from", str(TINY), "tiny", "--data-dir", "d").exit_code == 0
    loaded = invoke("load-kg", "--dataset", "tiny", "--data-dir", "d")
    assert loaded.exit_code == 0, loaded.output
    registered = sorted((clean_env / "d" / "datasets" / "tiny").iterdir())
    before = {p.name: p.read_bytes() for p in registered}
    assert invoke("data", "fetch", "--from", str(BROKEN / "wrong_type"), "tiny", "--data-dir", "d").exit_code == 1
    assert {p.name: p.read_bytes() for p in registered} == before
    stats = invoke("kg", "stats", "--dataset", "tiny", "--data-dir", "d")
    assert "6 users, 30 items, 38 ratings, 101 KG triples, 20 item links" in stats.stdout


def test_full_cli_flow_on_tiny(clean_env):
    assert invoke("data", "fetch", "--from", str(TINY), "tiny", "--data-dir", "d").exit_code == 0
    prepared = invoke("data", "prepare", "--dataset", "tiny", "--candidates", "10", "--data-dir", "d")
    assert prepared.exit_code == 0
    assert "valid 6, test 6" in prepared.stdout
    first = invoke("load-kg", "--dataset", "tiny", "--data-dir", "d")
    assert "loaded: 6 users, 30 items, 38 ratings, 101 KG triples, 20 item links" in first.stdout
    assert "exact duplicate KG triples dropped: 1" in first.stdout
    second = invoke("load-kg", "--dataset", "tiny", "--data-dir", "d")
    assert "nothing written" in second.stdout
    assert "loaded: 6 users, 30 items, 38 ratings, 101 KG triples, 20 item links" in second.stdout
    query = invoke(
        "kg",
        "query",
        "MATCH (i:Item {id: $id}) RETURN i.title AS title",
        "-p",
        "id=3",
        "--json",
        "--dataset",
        "tiny",
        "--data-dir",
        "d",
    )
    assert query.stdout.strip() == '{"title": "Film 3"}'
    refused = invoke("kg", "query", "MATCH (u:User) DETACH DELETE u", "--dataset", "tiny", "--data-dir", "d")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: kg query runs read-only queries; DETACH is not allowed")


def test_eval_of_a_baseline_prints_metrics_with_intervals_and_writes_outputs(clean_env):
    assert invoke("data", "fetch", "--from", str(TINY), "tiny", "--data-dir", "d").exit_code == 0
    assert invoke("data", "prepare", "--dataset", "tiny", "--candidates", "10", "--data-dir", "d").exit_code == 0
    unprepared = invoke("eval", "--method", "random", "--dataset", "tiny", "--data-dir", "d")
    assert unprepared.exit_code == 1 and "c20-r0-s0/test.jsonl: not prepared; run `kragrec data prepare`" in (
        unprepared.stderr
    )
    result = invoke(
        "eval", "--method", "random", "--split", "valid", "--candidates", "10", "--dataset", "tiny", "--data-dir", "d"
    )
    assert result.exit_code == 0, result.stderr
    assert "valid, 6 samples (95 % bootstrap intervals)" in result.stdout
    assert all(row in result.stdout for row in ("random", "popularity", "chance"))
    folder = clean_env / "d" / "eval" / "tiny" / "random" / "valid"
    assert json.loads((folder / "metrics.json").read_text())["samples"] == 6
    assert len((folder / "predictions.jsonl").read_text().splitlines()) == 6


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give either a run folder or --method"),
        (("some-run", "--method", "random"), "give either a run folder or --method"),
        (("--method", "random", "--split", "train"), "--split 'train': use valid or test"),
        (("--method", "sasrec"), "baselines without training are random, popularity, llm-zero-shot"),
        (("some-run", "--checkpoint", "first"), "--checkpoint 'first': use best or last"),
        (("--method", "random", "--checkpoint", "last"), "--checkpoint picks a run's checkpoint"),
        (("some-run", "--llm", "x", "--answer", "letter"), "--llm, --answer: only with --method"),
        (("--method", "random", "--full-ranking", "s"), "--full-ranking re-ranks with a run"),
        (("some-run", "--full-ranking", "s", "--prior", "s"), "--prior: not with --full-ranking"),
    ],
)
def test_eval_refuses_contradicting_arguments(clean_env, args, message):
    result = invoke("eval", *args, "--data-dir", "d")
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
