"""`kragrec bench quality` on the tiny setup: every method and ablation evaluated, resumable, report and chart."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess

import pytest

from kragrec.benchmark.quality import QualityBudget, entries, folder_name, quality_plan, run_quality
from kragrec.benchmark.report import commit_id, write_quality_chart, write_quality_markdown
from kragrec.benchmark.row_records import ROWS_FOLDER
from kragrec.benchmark.session import quality_benchmark, whole_benchmark_command
from kragrec.errors import KragrecError
from kragrec.files import read_jsonl


@pytest.fixture(scope="module")
def budget(tiny_setup):
    _, root = tiny_setup
    return QualityBudget(
        max_train=8, max_valid=6, batch_size=2, val_every=2, test_users=None, fictional=3,
        bf16=False, llm=str(root / "tiny-llama"), gnn_hidden=16, gnn_layers=2,
    )  # fmt: skip


def test_every_method_and_ablation_is_trained_evaluated_and_reported(tiny_setup, budget, tmp_path):
    settings, root = tiny_setup
    work = root / "quality"
    rows = run_quality(settings, budget, work, ablations=True, fresh=True)
    assert [r["entry"]["name"] for r in rows] == [e.name for e in entries(ablations=True)]
    for row in rows:
        assert row["report"]["samples"] == 6 and row["seconds"] > 0
        assert ("fictional_first" in row["report"]) != row["entry"]["ablation"]
        assert ("prior" in row["report"]) == row["entry"]["prior"]  # mixed with the sasrec row's run, share on valid
    prior = rows[[r["entry"]["name"] for r in rows].index("k-ragrec-lora")]["report"]["prior"]
    assert prior["run"] == str(work / "sasrec" / "run") and prior["valid_samples"] == 6
    assert prior["valid_acc_by_share"][str(prior["share"])] == max(prior["valid_acc_by_share"].values())
    fictional = json.loads((work / "k-ragrec-lora" / "eval" / "test-fictional3" / "metrics.json").read_text())
    assert fictional["prior"] == {key: prior[key] for key in ("run", "method", "share")}  # the test step's share
    for entry in entries(ablations=True):  # a trained row's time is the run's own, summed over resumed sessions
        if entry.trains and entry.run_of is None:
            folder = work / folder_name(entry)
            summary = json.loads((folder / "run" / "summary.json").read_text())
            assert json.loads((folder / "train.json").read_text())["seconds"] == summary["train_seconds"] > 0
    context = {
        "dataset": "tiny", "command": "kragrec bench quality", "wall_seconds": 3720, "machine": "test",
        "commit": "abc1234", "seed": 0, "candidates": 10, "budget": dataclasses.asdict(budget), "fictional": 3,
    }  # fmt: skip
    write_quality_markdown(tmp_path / "quality.md", rows, context)
    write_quality_chart(tmp_path / "quality.png", rows)
    text = (tmp_path / "quality.md").read_text()
    assert "in 1 h 02 min of compute" in text and "commit `abc1234`" in text
    for row in rows:
        assert f"| {row['entry']['name']} | {row['report']['metrics']['acc']:.3f} [" in text
    line = next(line for line in text.splitlines() if line.startswith("| k-ragrec-lora |"))
    assert f"| {prior['share']:.2f} |" in line
    alone = [r["entry"]["name"] for r in rows if not r["entry"]["prior"] and r["entry"]["method"] != "random"]
    assert "| | " + " | ".join(alone) + " |" in text  # how alike the rows scored alone rank, pairwise
    popularity_line = next(line for line in text.splitlines() if line.startswith("| popularity | —"))
    assert len(re.findall(r"\| (?:0|1)\.\d\d · -?[01]\.\d\d", popularity_line)) == len(alone) - 1
    assert (tmp_path / "quality.png").read_bytes()[:4] == b"\x89PNG"
    write_quality_markdown(tmp_path / "ablations.md", [r for r in rows if r["entry"]["ablation"]], context)
    text = (tmp_path / "ablations.md").read_text()  # a report of ablations only has no empty main table
    assert "No main row has run yet." in text and "cold-start ACC" not in text and "| k-ragrec-lora -rerank |" in text

    again = run_quality(settings, budget, work, ablations=True)  # everything done: read back, nothing rerun
    assert [r["report"] for r in again] == [r["report"] for r in rows]
    assert [r["seconds"] for r in again] == [r["seconds"] for r in rows]


def test_results_of_another_budget_are_not_mixed_in(tiny_setup, budget):
    settings, root = tiny_setup
    work = root / "quality-plan"
    run_quality(settings, budget, work, ablations=False, fresh=True)
    with pytest.raises(KragrecError, match="another budget or settings; rerun with --fresh"):
        run_quality(settings, dataclasses.replace(budget, max_train=4), work, ablations=False)


def test_only_runs_the_named_rows_and_reports_those_finished_before(tiny_setup, budget):
    settings, root = tiny_setup
    work = root / "quality-only"
    rows = run_quality(settings, budget, work, ablations=False, fresh=True, only=("popularity",))
    assert [r["entry"]["name"] for r in rows] == ["popularity"]
    assert not (work / "random").exists()
    rows = run_quality(settings, budget, work, ablations=False, only=("random",))
    assert [r["entry"]["name"] for r in rows] == ["random", "popularity"]
    with pytest.raises(KragrecError, match="--only 'k-ragrec': not a row of the report"):
        run_quality(settings, budget, work, ablations=False, only=("k-ragrec",))


def test_finished_rows_are_kept_beside_the_report_and_continue_it_without_their_data_dir(tiny_setup, budget, tmp_path):
    settings, _ = tiny_setup
    work, out = settings.data_dir / "quality" / "tiny", tmp_path / "reports"
    first = quality_benchmark(settings, budget, out, False, True, "kragrec bench quality", ("popularity",))
    record = out / ROWS_FOLDER / "popularity"
    assert read_jsonl(record / "predictions.jsonl.gz") == read_jsonl(work / "popularity/eval/test/predictions.jsonl")
    kept = json.loads((record / "row.json").read_text())
    assert kept["plan"] == quality_plan(settings, budget) and kept["entry"]["name"] == "popularity"
    popularity_line = next(line for line in first.read_text().splitlines() if line.startswith("| popularity |"))

    shutil.rmtree(work)  # a checkout without the data dir that ran the row
    kept["commit"] = "0ld0ne"
    (record / "row.json").write_text(json.dumps(kept))
    report = quality_benchmark(settings, budget, out, False, False, "kragrec bench quality", ("llm-zero-shot",))
    text = report.read_text()
    assert not (work / "popularity").exists()  # read from its record, not run again
    assert popularity_line in text.splitlines() and "`0ld0ne` (popularity)" in text
    assert "| | popularity | llm-zero-shot |" in text  # the recorded predictions take part in the agreement table
    assert json.loads((out / ROWS_FOLDER / "llm-zero-shot" / "row.json").read_text())["commit"] != "0ld0ne"

    kept["plan"]["budget"]["max_train"] = 4
    (record / "row.json").write_text(json.dumps(kept))
    with pytest.raises(KragrecError, match=r"popularity/row.json: this row ran under another budget"):
        quality_benchmark(settings, budget, out, False, False, "kragrec bench quality", ("random",))
    quality_benchmark(settings, budget, out, False, True, "kragrec bench quality", ("random",))  # --fresh forgets
    assert sorted(path.name for path in (out / ROWS_FOLDER).iterdir()) == ["random"]


def test_the_prior_rows_record_keeps_its_run_and_mixed_rows_use_that_run_without_the_data_dir(
    tiny_setup, budget, tmp_path
):
    settings, _ = tiny_setup
    work, out = settings.data_dir / "quality" / "tiny", tmp_path / "reports"
    mixed = "llm-zero-shot --prior sasrec"
    quality_benchmark(settings, budget, out, False, True, "kragrec bench quality", ("sasrec", mixed))
    kept = out / ROWS_FOLDER / "sasrec" / "run"
    assert sorted(path.name for path in kept.iterdir()) == [
        "checkpoints",
        "config.json",
        "metrics.jsonl",
        "summary.json",
    ]
    assert [path.name for path in (kept / "checkpoints").iterdir()] == ["best"]  # not the last one, nor evaluations
    assert not (out / ROWS_FOLDER / "llm-zero-shot__prior_sasrec" / "run").exists()  # only the prior's run is kept
    first = json.loads((work / "llm-zero-shot__prior_sasrec" / "test.json").read_text())["result"]

    shutil.rmtree(work)  # another machine: the sasrec run comes from its record instead of training again
    quality_benchmark(settings, budget, out, False, False, "kragrec bench quality", (mixed,))
    assert not (work / "sasrec" / "train.json").exists() and (work / "sasrec" / "run" / "checkpoints" / "best").is_dir()
    assert json.loads((work / "llm-zero-shot__prior_sasrec" / "test.json").read_text())["result"] == first


def test_recorded_rows_are_not_run_again_unless_named(tiny_setup, budget):
    settings, root = tiny_setup
    work = root / "quality-recorded"
    recorded = {
        entry.name: {"entry": dataclasses.asdict(entry), "report": {}, "seconds": 1.0, "commit": "c", "predictions": ""}
        for entry in entries(ablations=False)
    }
    rows = run_quality(settings, budget, work, ablations=False, fresh=True, recorded=recorded)
    assert rows == list(recorded.values()) and not (work / "random").exists()
    rows = run_quality(settings, budget, work, ablations=False, only=("random",), recorded=recorded)
    assert rows[0]["report"]["samples"] == 6 and rows[1:] == list(recorded.values())[1:]
    # a row with the prior needs the sasrec row's run: recorded, but not in this data dir, so it runs first
    rows = run_quality(
        settings, budget, work, ablations=False, only=("llm-zero-shot --prior sasrec",), recorded=recorded
    )
    by_name = {row["entry"]["name"]: row for row in rows}
    assert by_name["sasrec"]["report"]["samples"] == 6 and (work / "sasrec" / "run").is_dir()
    assert by_name["llm-zero-shot --prior sasrec"]["report"]["prior"]["run"] == str(work / "sasrec" / "run")


@pytest.mark.parametrize(
    "arguments",
    [
        ["bench", "quality", "--data-dir", "D", "--only", "lkg-rag", "--out", "R"],
        ["bench", "quality", "--only=sasrec", "--data-dir", "D", "--only", "random", "--out", "R"],
        ["bench", "quality", "--data-dir", "D", "--out", "R"],
    ],
)
def test_the_report_names_the_command_of_every_row_not_the_last_calls_only(arguments):
    assert whole_benchmark_command(arguments) == "kragrec bench quality --data-dir D --out R"


def test_a_reports_commit_says_when_tracked_files_were_changed(tmp_path):
    def git(*arguments: str) -> str:
        done = subprocess.run(["git", "-C", str(tmp_path), *arguments], capture_output=True, text=True, check=True)
        return done.stdout.strip()

    git("init", "-q")
    (tmp_path / "code.py").write_text("A = 1\n")
    git("add", "code.py")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    head = git("rev-parse", "--short=7", "HEAD")
    assert commit_id(tmp_path) == head
    (tmp_path / "code.py").write_text("A = 2\n")
    assert commit_id(tmp_path) == f"{head}-dirty"
    assert commit_id(tmp_path / "missing") == "unknown"
