"""Secrets are read from the environment and kragrec.toml and never written: not into a run folder, an
evaluation, a quality plan or anything under the data dir, and not into an error message."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kragrec.benchmark.quality import QualityBudget, run_quality
from kragrec.cli import app
from kragrec.config import SECRET_FIELDS, Secret, Settings, load_settings, settings_record
from kragrec.recommenders.registry import open_run

from conftest import TINY

PASSWORD = "pw-7c1e-do-not-write"
API_KEY = "qk-93ab-do-not-write"


@pytest.fixture
def secret_env(clean_env, monkeypatch) -> Path:
    """A working folder; KRAGREC_NEO4J_PASSWORD in the environment, qdrant_api_key in the kragrec.toml
    KRAGREC_CONFIG names."""
    toml = clean_env / "kragrec.toml"
    toml.write_text(f'qdrant_api_key = "{API_KEY}"\n', encoding="utf-8")
    monkeypatch.setenv("KRAGREC_CONFIG", str(toml))
    monkeypatch.setenv("KRAGREC_NEO4J_PASSWORD", PASSWORD)
    return clean_env


def files_holding_a_secret(*folders: Path) -> list[Path]:
    """Every file under the folders whose bytes hold the password or the API key."""
    secrets = (PASSWORD.encode(), API_KEY.encode())
    files = [path for folder in folders for path in sorted(folder.rglob("*")) if path.is_file()]
    assert files
    return [path for path in files if any(secret in path.read_bytes() for secret in secrets)]


def test_the_settings_record_leaves_every_secret_out():
    settings = Settings(neo4j_password=Secret(PASSWORD), qdrant_api_key=Secret(API_KEY))
    record = settings_record(settings)
    assert {"neo4j_password", "qdrant_api_key"} == SECRET_FIELDS
    assert not SECRET_FIELDS & record.keys()
    assert set(record) == {f.name for f in dataclasses.fields(Settings)} - SECRET_FIELDS
    assert PASSWORD not in json.dumps(record) and API_KEY not in json.dumps(record)


def test_train_eval_and_a_quality_plan_write_no_secret(tiny_setup, secret_env):
    settings, root = tiny_setup
    assert load_settings().neo4j_password.reveal() == PASSWORD  # the CLI below reads both secrets
    assert load_settings().qdrant_api_key.reveal() == API_KEY
    run_dir = secret_env / "run"
    common = ["--data-dir", str(settings.data_dir), "--dataset", "tiny"]
    arguments = ["train", "--run-dir", str(run_dir), *common, "--candidates", "10", "--llm", str(root / "tiny-llama")]
    arguments += ["--batch-size", "3", "--max-train", "6", "--epochs", "1", "--gnn-hidden", "16", "--gnn-layers", "2"]
    trained = CliRunner().invoke(app, [*arguments, "--num-workers", "0"])
    assert trained.exit_code == 0, trained.output
    evaluated = CliRunner().invoke(app, ["eval", str(run_dir), *common, "--max-samples", "4"])
    assert evaluated.exit_code == 0, evaluated.output
    with_secrets = dataclasses.replace(settings, neo4j_password=Secret(PASSWORD), qdrant_api_key=Secret(API_KEY))
    budget = QualityBudget(max_train=8, max_valid=6, batch_size=2, test_users=None, fictional=3)
    work = settings.data_dir / "quality-secrets"
    rows = run_quality(with_secrets, budget, work, ablations=False, fresh=True, only=("popularity",))
    assert [row["entry"]["name"] for row in rows] == ["popularity"]

    assert (run_dir / "eval" / "test" / "metrics.json").is_file() and (work / "plan.json").is_file()
    assert files_holding_a_secret(run_dir, settings.data_dir) == []
    recorded = json.loads((run_dir / "config.json").read_text())["settings"]
    assert "neo4j_password" not in recorded and "qdrant_api_key" not in recorded
    reopened = open_run(run_dir, with_secrets)  # a run read back takes its connection secrets from the caller
    assert reopened.settings.neo4j_password.reveal() == PASSWORD and reopened.settings.candidates == 10


@pytest.mark.parametrize(
    "arguments",
    [
        ["load-kg", "--backend", "neo4j", "--neo4j-uri", "bolt://127.0.0.1:1"],
        ["index", "--qdrant-url", "http://127.0.0.1:1"],
    ],
)
def test_a_failing_connection_does_not_echo_a_secret(secret_env, arguments):
    data_dir = ["--data-dir", str(secret_env / "d")]
    fetched = CliRunner().invoke(app, ["data", "fetch", "--from", str(TINY), "tiny", *data_dir])
    loaded = CliRunner().invoke(app, ["load-kg", "--dataset", "tiny", *data_dir])
    assert fetched.exit_code == loaded.exit_code == 0
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    result = subprocess.run(
        [sys.executable, "-m", "kragrec", *arguments, "--dataset", "tiny", *data_dir],
        capture_output=True,
        text=True,
        env=environment,
    )
    assert result.returncode == 1
    assert PASSWORD not in result.stdout + result.stderr and API_KEY not in result.stdout + result.stderr
