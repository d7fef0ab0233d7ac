"""Faults on the data dir's stores: one writer at a time, kill -9 at chosen points then resume, stale staging, BOMs.

Each killed command is a real `kragrec` subprocess stopped at a named point by fault_points.py and killed there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from kragrec.cli import app
from kragrec.config import Settings
from kragrec.data.dataset import load_dataset
from kragrec.data.registry import register
from kragrec.errors import DataError, KragrecError
from kragrec.graph.backends import embedded_store_dir
from kragrec.graph.browse import store_counts
from kragrec.loading.loader import load_kg
from kragrec.retrieval.index_builder import build_index
from kragrec.retrieval.index_spec import current_spec
from kragrec.training.trainer import launch_training
from kragrec.vectors.backends import open_vector_store
from kragrec.writer_lock import data_dir_writer

from conftest import TINY, make_settings, tiny_config
from fault_points import PAUSED
from test_load_kg import tiny_expected
from test_training import metric_lines, trained_tensors

SCRIPT = Path(__file__).with_name("fault_points.py")


class Stopped:
    """A kragrec command run in a subprocess and stopped at a fault point, to be killed or let go on."""

    def __init__(self, cwd: Path, point: str, count: int, *arguments: str) -> None:
        env = {name: value for name, value in os.environ.items() if not name.startswith("KRAGREC_")}
        self.log = cwd / f"stderr-{point.replace(':', '-')}-{count}.txt"
        with self.log.open("w") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, str(SCRIPT), point, str(count), "--", *arguments],
                cwd=cwd,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.strip() == PAUSED:
                return
        self.process.wait()
        raise AssertionError(f"{arguments} ended before {point} #{count}:\n{self.log.read_text()}")

    def kill(self) -> None:
        """kill -9, and wait until it is gone."""
        os.kill(self.process.pid, signal.SIGKILL)
        assert self.process.wait() == -signal.SIGKILL

    def go_on(self) -> int:
        """Let it finish; its exit code."""
        self.process.communicate("\n")
        return self.process.returncode


def store_args(settings: Settings) -> list[str]:
    return ["--data-dir", str(settings.data_dir), "--dataset", settings.dataset]


@pytest.fixture
def settings(tmp_path) -> Settings:
    """The tiny dataset registered in an empty data dir; loads write batches of 5 rows (8 batches of ratings)."""
    settings = make_settings(tmp_path / "data", dataset="tiny", batch_size=5, qdrant_url=None)
    register(settings, TINY, "tiny", origin="fixture")
    return settings


def leftovers(settings: Settings) -> list[str]:
    """What sits in the graph folder besides the store itself."""
    folder = embedded_store_dir(settings)
    return sorted(p.name for p in folder.parent.iterdir() if p.name != folder.name)


def test_a_second_writer_is_refused_while_a_fresh_load_writes(settings, tmp_path):
    load_kg(settings)
    busy = (
        f"error: {settings.data_dir} is busy: another kragrec load-kg, index, data fetch or data prepare is writing "
        f"it (lock {settings.data_dir / 'writer.lock'})"
    )
    first = Stopped(tmp_path, "query:merge_rated", 3, "load-kg", "--fresh", "--batch-size", "5", *store_args(settings))
    for second in (["load-kg", "--fresh"], ["load-kg"], ["index"], ["data", "prepare"]):
        result = CliRunner().invoke(app, [*second, *store_args(settings)])
        assert (result.exit_code, result.stderr.strip()) == (1, busy), second
    assert leftovers(settings) == ["tiny.staging"]  # the first load's work was not deleted under it
    assert first.go_on() == 0
    assert store_counts(settings) == tiny_expected()
    assert leftovers(settings) == []
    assert load_kg(settings).up_to_date


def test_a_writer_may_take_the_lock_again_inside_its_own_hold(settings):
    with data_dir_writer(settings.data_dir):
        assert load_kg(settings).found == tiny_expected()


def test_a_data_dir_that_is_a_file_is_one_line(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.write_text("")
    with pytest.raises(KragrecError, match=f"^data dir {data_dir} is a file, not a folder$"):
        register(make_settings(data_dir, dataset="tiny"), TINY, "tiny", origin="fixture")


@pytest.mark.parametrize(("point", "count"), [("query:merge_users", 1), ("query:merge_rated", 3)])
def test_a_killed_load_resumes_to_exact_counts(settings, tmp_path, point, count):
    Stopped(tmp_path, point, count, "load-kg", "--batch-size", "5", *store_args(settings)).kill()
    assert leftovers(settings) == ["tiny.staging"]
    resumed = load_kg(settings)  # the killed writer's lock does not block it
    assert resumed.found == tiny_expected() and not resumed.up_to_date
    assert ("users" in resumed.rows) == (point == "query:merge_users")  # finished phases are not written again
    assert store_counts(settings) == tiny_expected() and leftovers(settings) == []


def test_a_killed_fresh_load_keeps_the_store_and_a_rerun_completes(settings, tmp_path):
    load_kg(settings)
    Stopped(tmp_path, "query:merge_rated", 3, "load-kg", "--fresh", "--batch-size", "5", *store_args(settings)).kill()
    assert store_counts(settings) == tiny_expected()  # readers still see the whole previous store
    again = load_kg(settings, fresh=True)
    assert again.found == tiny_expected() and "users" in again.rows
    assert store_counts(settings) == tiny_expected() and leftovers(settings) == []


@pytest.mark.parametrize("flag", ["--force", "--fresh"])
def test_an_up_to_date_load_removes_a_killed_reload_s_staging(settings, tmp_path, flag):
    load_kg(settings)
    Stopped(tmp_path, "query:merge_rated", 3, "load-kg", flag, "--batch-size", "5", *store_args(settings)).kill()
    assert leftovers(settings) == ["tiny.staging"]
    assert load_kg(settings).up_to_date
    assert leftovers(settings) == []
    assert store_counts(settings) == tiny_expected()


@pytest.fixture(scope="module")
def reference_index(tmp_path_factory) -> Settings:
    settings = make_settings(tmp_path_factory.mktemp("reference"), dataset="tiny", qdrant_url=None)
    register(settings, TINY, "tiny", origin="fixture")
    load_kg(settings)
    build_index(settings)
    return settings


def index_contents(settings: Settings) -> tuple[int, dict[str, np.ndarray], list]:
    """Points, every stored vector per layer, and each point's nearest neighbours on every layer."""
    spec = current_spec(settings)
    store = open_vector_store(settings)
    try:
        points = store.count(spec.collection)
        ids = list(range(points))
        vectors = {name: store.vectors(spec.collection, ids, name) for name in spec.vector_names}
        hits = store.search(spec.collection, vectors["hop0"], spec.vector_names, limit=5)
    finally:
        store.close()
    return points, vectors, [[(hit.point_id, hit.vector_name) for hit in row] for row in hits]


@pytest.mark.parametrize("count", [1, 3])  # before any point is stored; after two batches of 10
def test_a_killed_index_resumes_to_the_same_index(settings, tmp_path, reference_index, count):
    load_kg(settings)
    Stopped(tmp_path, "meta", count, "index", *store_args(settings)).kill()
    report = build_index(settings)
    assert not report.up_to_date and build_index(settings).up_to_date
    points, vectors, hits = index_contents(settings)
    expected_points, expected_vectors, expected_hits = index_contents(reference_index)
    assert (points, hits) == (expected_points, expected_hits)
    for name, layer in expected_vectors.items():
        np.testing.assert_allclose(vectors[name], layer, atol=1e-6, err_msg=name)


def test_a_killed_training_run_resumes_to_the_uninterrupted_weights(tiny_setup, tmp_path):
    settings, root = tiny_setup
    config = tiny_config(root, "killed-run")
    cli_options = {
        "--run-dir": config.run_dir,
        "--llm": config.llm,
        "--epochs": config.epochs,
        "--batch-size": config.batch_size,
        "--lr": config.lr,
        "--max-train": config.max_train,
        "--max-valid": config.max_valid,
        "--gnn-hidden": config.gnn_hidden,
        "--gnn-layers": config.gnn_layers,
        "--num-workers": config.num_workers,
        "--checkpoint-every": config.checkpoint_every,
        "--candidates": settings.candidates,
        "--pop-threshold": settings.pop_threshold,
        "--fanout": settings.fanout,
    }
    arguments = [str(part) for option in cli_options.items() for part in option]
    Stopped(tmp_path, "checkpoint", 1, "train", *arguments, *store_args(settings)).kill()
    state = torch.load(config.run_dir / "checkpoints" / "last" / "training_state.pt", weights_only=False)
    assert state["progress"]["step"] == 2
    launch_training(settings, config, resume=True)
    whole = replace(config, run_dir=root / "unkilled-run")
    launch_training(settings, whole)
    assert [line["step"] for line in metric_lines(config.run_dir) if "loss" in line] == list(range(1, 9))
    resumed, expected = trained_tensors(config.run_dir), trained_tensors(whole.run_dir)
    assert resumed.keys() == expected.keys()
    for name, tensor in expected.items():
        torch.testing.assert_close(resumed[name], tensor, atol=0, rtol=0, msg=name)


def with_bom(source: Path, target: Path, kinds: tuple[str, ...]) -> Path:
    """A copy of the tiny dataset whose files of these kinds start with a UTF-8 BOM."""
    target.mkdir()
    for path in source.iterdir():
        data = path.read_bytes()
        (target / path.name).write_bytes(b"\xef\xbb\xbf" + data if path.suffix.lstrip(".") in kinds else data)
    return target


def test_headers_after_a_bom_read_like_plain_ones(tmp_path):
    folder = with_bom(TINY, tmp_path / "bom", ("inter", "item", "user", "kg", "link"))
    assert load_dataset(folder, "tiny") == load_dataset(TINY, "tiny")


def test_an_invisible_character_in_a_header_is_shown_escaped(tmp_path):
    folder = tmp_path / "odd"
    folder.mkdir()
    for path in TINY.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    inter = folder / "tiny.inter"
    inter.write_bytes(inter.read_bytes().replace(b"item_id", b"\xef\xbb\xbfitem_id", 1))
    with pytest.raises(DataError) as raised:
        load_dataset(folder, "tiny")
    message = str(raised.value)
    assert message.startswith(f"{inter}:1: field 'item_id': missing required column 'item_id:token'")
    assert "\\ufeffitem_id" in message and "\ufeff" not in message
