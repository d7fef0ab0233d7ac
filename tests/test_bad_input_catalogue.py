"""The bad-input catalogue: every refused input, setting or query ends as one `error: ...` line with exit 1, no
traceback, and the data dir exactly as it was. One table: the broken dataset fixtures and the cases issue 16
found (a busy data dir, a missing config file, bad Qdrant URLs, queries that would write or reach outside, query
parameters missing or repeated, a data dir that is a file, ...) and `kg export`'s refusals (an unknown format, an
--out that would overwrite a folder); an unreachable Qdrant server, which needs an indexed data dir, is tested in
test_failures_errors.py."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kragrec.cli import app
from kragrec.data.prepare import prepare
from kragrec.data.registry import register
from kragrec.loading.loader import load_kg
from kragrec.writer_lock import LOCK_FILE

from conftest import BROKEN, TINY, make_settings, one_error_line
from test_atomic_reader import BROKEN_CASES

DATA = "{data}"  # stands for the data dir in a case's arguments
ON_TINY = ("--dataset", "tiny", "--data-dir", DATA)


@dataclass(frozen=True)
class Case:
    """A command line, a fragment its one error line must hold, and the data dir it runs on: "loaded" (the tiny
    dataset fetched, prepared and loaded), "empty" (no data dir yet) or "busy" (loaded, another process writing)."""

    args: tuple[str, ...]
    expected: str
    data: str = "loaded"
    env: dict[str, str] = field(default_factory=dict)


def _query(text: str, *params: str) -> tuple[str, ...]:
    return ("kg", "query", text, *params, *ON_TINY)


CASES = {
    **{
        f"broken dataset: {name}": Case(
            ("data", "fetch", "--from", str(BROKEN / name), "tiny", "--data-dir", DATA),
            f"{file_name}:{line}: field '{field_name}'",
            "empty",
        )
        for name, (file_name, line, field_name, _) in BROKEN_CASES.items()
    },
    "unregistered dataset": Case(
        ("data", "prepare", "--dataset", "nope", "--data-dir", DATA), "kragrec data fetch nope"
    ),
    "data dir is a file": Case(
        ("data", "fetch", "--from", str(TINY), "tiny", "--data-dir", f"{DATA}/datasets/tiny/tiny.inter"),
        "tiny.inter is a file, not a folder",
    ),
    "data dir inside a file": Case(
        ("kg", "stats", "--dataset", "tiny", "--data-dir", f"{DATA}/datasets/tiny/tiny.inter/d"),
        "lies inside the file",
    ),
    "busy data dir: load-kg --fresh": Case(("load-kg", "--fresh", *ON_TINY), "is busy: another kragrec", "busy"),
    "busy data dir: index": Case(("index", *ON_TINY), "is busy: another kragrec", "busy"),
    "busy data dir: data prepare": Case(("data", "prepare", *ON_TINY), "is busy: another kragrec", "busy"),
    "config file missing": Case(
        ("kg", "stats", *ON_TINY), "KRAGREC_CONFIG: absent.toml: no such file", env={"KRAGREC_CONFIG": "absent.toml"}
    ),
    "neo4j unreachable": Case(
        ("load-kg", "--backend", "neo4j", "--neo4j-uri", "bolt://127.0.0.1:1", *ON_TINY),
        "cannot reach the Neo4j server set by neo4j_uri (ServiceUnavailable)",
    ),
    "qdrant url not a url": Case(
        ("retrieve", "--user", "1", "--qdrant-url", "not a url", *ON_TINY), "'not a url' is not an http(s) URL"
    ),
    "unknown vector backend": Case(
        ("retrieve", "--user", "1", "--vector-backend", "faiss", *ON_TINY),
        "setting 'vector_backend': 'faiss' is not one of edge, local",
    ),
    "retrieve before index": Case(("retrieve", "--user", "1", *ON_TINY), "no up-to-date index"),
    "query CHECKPOINT": Case(_query("CHECKPOINT"), "CHECKPOINT is not allowed"),
    "query EXPORT DATABASE": Case(_query(f"EXPORT DATABASE '{DATA}/export'"), "EXPORT is not allowed"),
    "query COPY TO": Case(_query(f"COPY (MATCH (i:Item) RETURN i.id) TO '{DATA}/x.csv'"), "COPY is not allowed"),
    "query LOAD FROM": Case(
        _query("LOAD FROM '/etc/passwd' (file_format='csv', delim=':') RETURN *"), "LOAD is not allowed"
    ),
    "query INSTALL": Case(_query("INSTALL httpfs"), "INSTALL is not allowed"),
    "query DETACH DELETE": Case(_query("MATCH (u:User) DETACH DELETE u"), "DETACH is not allowed"),
    "query parameter missing": Case(_query("MATCH (i:Item {id: $id}) RETURN i.title"), "no value for $id"),
    "query parameter twice": Case(
        _query("MATCH (i:Item {id: $id}) RETURN i.title", "-p", "id=1", "-p", "id=3"), "'id' is given twice"
    ),
    "export in an unknown format": Case(
        ("kg", "export", "--format", "xml", "--out", "g.xml", *ON_TINY), "--format 'xml': expected one of cypher"
    ),
    "export csv over the data dir": Case(
        ("kg", "export", "--format", "csv", "--out", DATA, *ON_TINY), "is a folder that holds other files"
    ),
    "export a file over a folder": Case(
        ("kg", "export", "--format", "cypher", "--out", DATA, *ON_TINY), "is a folder; --format cypher writes one file"
    ),
    "eval of a folder that is no run": Case(("eval", DATA, *ON_TINY), "not a training run (no config.json)"),
    "eval on an unknown split": Case(
        ("eval", "--method", "popularity", "--split", "train", *ON_TINY), "--split 'train': use valid or test"
    ),
    "train with one beta": Case(("train", "--run-dir", "r", "--betas", "0.9", *ON_TINY), "expected two numbers"),
    "train with a beta of 1.5": Case(("train", "--run-dir", "r", "--betas", "0.9,1.5", *ON_TINY), "must be in [0, 1)"),
}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Path:
    """The tiny dataset fetched, prepared and loaded; no case may change it."""
    settings = make_settings(tmp_path_factory.mktemp("catalogue") / "data", dataset="tiny", qdrant_url=None)
    register(settings, TINY, "tiny", origin="fixture")
    prepare(settings)
    load_kg(settings)
    return settings.data_dir


@pytest.fixture
def held(loaded) -> Iterator[None]:
    """Another process holds the loaded data dir's writer lock for the test."""
    code = (
        "import sys, time\nfrom kragrec.writer_lock import data_dir_writer\n"
        "with data_dir_writer(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(120)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(loaded)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.kill()
        holder.wait()


def contents(folder: Path) -> dict[str, tuple[int, int]]:
    """Size and modification time of every file under `folder` but the lock file (empty when it does not exist)."""
    if not folder.is_dir():
        return {}
    files = (p for p in folder.rglob("*") if p.is_file() and p.name != LOCK_FILE)
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in files}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_one_error_line_and_changes_nothing(name, request, clean_env, monkeypatch):
    case = CASES[name]
    data_dir = clean_env / "d" if case.data == "empty" else request.getfixturevalue("loaded")
    if case.data == "busy":
        request.getfixturevalue("held")
    for variable, value in case.env.items():
        monkeypatch.setenv(variable, value)
    before = contents(data_dir)
    result = CliRunner().invoke(app, [arg.replace(DATA, str(data_dir)) for arg in case.args])
    assert case.expected in one_error_line(result)
    assert contents(data_dir) == before
    assert [p for p in clean_env.rglob("*") if p.is_file() and p.name != LOCK_FILE] == []
