"""Finished rows kept beside the report (OUT/quality-rows/ROW/): the row, the plan and commit it ran under and its
test predictions, so the report can be rebuilt, and continued, from a checkout without the data dir that ran them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from kragrec.benchmark.quality import recorded_plan
from kragrec.errors import KragrecError
from kragrec.files import gzip_file, replace_dir_atomically, write_json

ROWS_FOLDER = "quality-rows"
ROW_FILE = "row.json"
PREDICTIONS_FILE = "predictions.jsonl.gz"


def record_row(out: Path, folder_name: str, row: dict[str, Any], plan: dict[str, Any], commit: str) -> None:
    """Keep a row finished in the data dir under out/quality-rows/FOLDER_NAME (replacing an earlier record)."""
    with replace_dir_atomically(out / ROWS_FOLDER / folder_name) as staging:
        gzip_file(Path(row["predictions"]), staging / PREDICTIONS_FILE)
        record = {"plan": plan, "commit": commit, **{key: row[key] for key in ("entry", "report", "seconds")}}
        write_json(staging / ROW_FILE, record)


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
