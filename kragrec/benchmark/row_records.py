"""Finished rows kept beside the report (OUT/quality-rows/ROW/): the row, the plan and commit it ran under and its
test predictions, so the report can be rebuilt, and continued, from a checkout without the data dir that ran them.
The prior's row (sasrec) also keeps its trained run (config, log, summary, best checkpoint: under 1 MB), so the rows
mixed with it mix in that same SASRec on every machine instead of one trained again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from kragrec.benchmark.quality import Entry, folder_name, recorded_plan
from kragrec.errors import KragrecError
from kragrec.files import gzip_file, replace_dir_atomically, write_json
from kragrec.training.run_folder import RunFolder

ROWS_FOLDER = "quality-rows"
ROW_FILE = "row.json"
PREDICTIONS_FILE = "predictions.jsonl.gz"
RUN_FOLDER = "run"
KEPT_RUN_PARTS = ("config.json", "metrics.jsonl", "summary.json", "checkpoints/best")


def record_row(out: Path, folder_name: str, row: dict[str, Any], plan: dict[str, Any], commit: str) -> None:
    """Keep a row finished in the data dir under out/quality-rows/FOLDER_NAME (replacing an earlier record)."""
    with replace_dir_atomically(out / ROWS_FOLDER / folder_name) as staging:
        gzip_file(Path(row["predictions"]), staging / PREDICTIONS_FILE)
        if "run" in row:
            _keep_run(Path(row["run"]), staging / RUN_FOLDER)
        record = {"plan": plan, "commit": commit, **{key: row[key] for key in ("entry", "report", "seconds")}}
        write_json(staging / ROW_FILE, record)


def _keep_run(run: Path, kept: Path) -> None:
    """Copy the parts of a trained run that scoring with it needs (not its last checkpoint or evaluations)."""
    for part in KEPT_RUN_PARTS:
        source = run / part
        if source.is_dir():
            shutil.copytree(source, kept / part)
        else:
            (kept / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, kept / part)


def restore_recorded_runs(rows: dict[str, dict[str, Any]], work_dir: Path) -> None:
    """Put each recorded row's kept run where the benchmark in work_dir looks for it, unless a trained run (one with
    a best checkpoint) is there already."""
    for row in rows.values():
        target = work_dir / folder_name(Entry(**row["entry"])) / "run"
        if "run" in row and not RunFolder(target).checkpoint("best").is_dir():
            with replace_dir_atomically(target) as staging:
                shutil.copytree(row["run"], staging, dirs_exist_ok=True)


def recorded_rows(out: Path, plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The rows recorded under out by entry name, each with its commit and predictions; a one-line error for a record
    of another plan or one that cannot be read."""
    rows = {}
    for path in sorted((out / ROWS_FOLDER).glob(f"*/{ROW_FILE}")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            plan_then, entry = recorded_plan(record["plan"]), record["entry"]
            row = {"entry": entry, "report": record["report"], "seconds": record["seconds"]}
            row |= {"commit": record["commit"], "predictions": str(path.parent / PREDICTIONS_FILE)}
            row |= {"run": str(path.parent / RUN_FOLDER)} if (path.parent / RUN_FOLDER).is_dir() else {}
        except (OSError, ValueError, KeyError, TypeError) as error:
            problem = f"{path}: not a readable row record ({error}); remove its folder or rerun the row"
            raise KragrecError(problem) from error
        if plan_then != plan:
            raise KragrecError(f"{path}: this row ran under another budget or settings; rerun with --fresh")
        if not Path(row["predictions"]).is_file():
            raise KragrecError(f"{path.parent / PREDICTIONS_FILE}: missing; remove the row's folder or rerun the row")
        rows[entry["name"]] = row
    return rows


def forget_rows(out: Path) -> None:
    """Remove every row record under out (a fresh benchmark starts without them)."""
    shutil.rmtree(out / ROWS_FOLDER, ignore_errors=True)
