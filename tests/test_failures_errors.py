"""Backend and file failures end as one line `error: ...` and exit 1, never a traceback; the retrieval cache
answers only for the vector store it was computed from (issue 16, cases 4 and 5)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kragrec.cli import app
from kragrec.data.prepare import prepare
from kragrec.data.registry import register
from kragrec.files import read_jsonl
from kragrec.loading.loader import load_kg
from kragrec.models.checkpoint import ADAPTER_DIR, GRAPH_FILE
from kragrec.models.collab import SASREC_WEIGHTS
from kragrec.retrieval.index_builder import build_index

from conftest import TINY, make_settings, one_error_line

DEAD_URLS = {
    "refused": ("http://127.0.0.1:1", "error: Qdrant at http://127.0.0.1:1 is unreachable: "),
    "not a url": ("not a url", "error: setting 'qdrant_url': 'not a url' is not an http(s) URL"),
}
ADAPTER_FILE = f"{ADAPTER_DIR}/adapter_model.safetensors"


def truncate(path: Path) -> None:
    """Keep the first half of a file, as a copy or a write cut short would."""
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.fixture(scope="module")
def warm(tmp_path_factory) -> list[str]:
    """`retrieve` arguments over the tiny dataset indexed in local mode, whose retrieval cache a first run warmed."""
    settings = make_settings(tmp_path_factory.mktemp("warm") / "data", dataset="tiny", qdrant_url=None)
    register(settings, TINY, "tiny", origin="fixture")
    prepare(settings)
    load_kg(settings)
    build_index(settings)
    data_dir = settings.data_dir
    args = ["retrieve", "--user", "1", "--dataset", "tiny", "--data-dir", str(data_dir), "--pop-threshold", "0.6"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "kept sub-graphs" in first.stdout
    assert list((data_dir / "index").glob("*/retrieval-cache-*.json"))
    return args


@pytest.mark.parametrize("case", DEAD_URLS)
def test_retrieve_with_a_dead_qdrant_url_fails_in_one_line_even_with_a_warm_cache(warm, case):
    url, expected = DEAD_URLS[case]
    line = one_error_line(CliRunner().invoke(app, [*warm, "--qdrant-url", url]))
    assert line.startswith(expected)
    again = CliRunner().invoke(app, warm)  # the failed run left the local store's cache as it was
    assert again.exit_code == 0 and "kept sub-graphs" in again.stdout


@pytest.mark.parametrize("case", DEAD_URLS)
def test_index_with_a_dead_qdrant_url_fails_in_one_line(warm, case):
    url, expected = DEAD_URLS[case]
    data_dir = warm[warm.index("--data-dir") + 1]
    result = CliRunner().invoke(app, ["index", "--dataset", "tiny", "--data-dir", data_dir, "--qdrant-url", url])
    assert one_error_line(result).startswith(expected)


def test_a_url_with_credentials_is_never_printed_with_them(warm):
    line = one_error_line(CliRunner().invoke(app, [*warm, "--qdrant-url", "http://bob:s3cret@127.0.0.1:1"]))
    assert line.startswith("error: Qdrant at http://127.0.0.1:1 is unreachable: ")
    assert "s3cret" not in line and "bob" not in line


def damaged_run(tiny_runs, tmp_path: Path, run: str, damaged: str) -> tuple[Path, list[str]]:
    """A copy of a run whose best checkpoint file `damaged` is truncated, and the shared CLI options."""
    settings, root = tiny_runs
    copy = tmp_path / run
    shutil.copytree(root / run, copy)
    truncate(copy / "checkpoints" / "best" / damaged)
    return copy, ["--data-dir", str(settings.data_dir), "--dataset", "tiny"]


@pytest.mark.parametrize(("run", "damaged"), [("kragrec-run", GRAPH_FILE), ("kragrec-run", ADAPTER_FILE)])
def test_recommend_with_a_truncated_checkpoint_fails_in_one_line(tiny_runs, tmp_path, run, damaged):
    folder, options = damaged_run(tiny_runs, tmp_path, run, damaged)
    user = read_jsonl(tiny_runs[0].prepared_dir / "test.jsonl")[0]["user"]
    line = one_error_line(CliRunner().invoke(app, ["recommend", str(folder), "--user", user, *options]))
    path = folder / "checkpoints" / "best" / damaged
    assert line.startswith(f"error: {path}: unreadable checkpoint (")
    assert line.endswith("); retrain or pick another checkpoint")


@pytest.mark.parametrize(
    ("run", "damaged"),
    [("kragrec-run", GRAPH_FILE), ("kragrec-run", ADAPTER_FILE), ("sasrec-run", SASREC_WEIGHTS)],
)
def test_eval_with_a_truncated_checkpoint_fails_in_one_line_and_writes_nothing(tiny_runs, tmp_path, run, damaged):
    folder, options = damaged_run(tiny_runs, tmp_path, run, damaged)
    line = one_error_line(CliRunner().invoke(app, ["eval", str(folder), "--max-samples", "2", *options]))
    assert line.startswith(f"error: {folder / 'checkpoints' / 'best' / damaged}: unreadable checkpoint (")
    assert not (folder / "eval").exists()
