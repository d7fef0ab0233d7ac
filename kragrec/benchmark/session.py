"""The whole quality benchmark: make sure data, graph and index exist, run every entry, write the report."""

from __future__ import annotations

import dataclasses
import os
import platform
from pathlib import Path
from typing import Any

from kragrec.benchmark.quality import Entry, QualityBudget, entries, folder_name, quality_plan, run_quality
from kragrec.benchmark.report import commit_id, write_quality_chart, write_quality_markdown
from kragrec.benchmark.row_records import forget_rows, record_row, recorded_rows, restore_recorded_runs
from kragrec.config import Settings
from kragrec.data.fetch import fetch_packaged
from kragrec.data.prepare import prepare
from kragrec.data.registry import manifest
from kragrec.errors import KragrecError
from kragrec.loading.loader import load_kg
from kragrec.retrieval.index_builder import build_index


def ensure_pipeline(settings: Settings) -> None:
    """Fetch (packaged datasets only), prepare, load and index as needed; each step is skipped when done."""
    try:
        manifest(settings, settings.dataset)
    except KragrecError:
        fetch_packaged(settings, settings.dataset)
    if not (settings.prepared_dir / "test.jsonl").is_file():
        prepare(settings)
    load_kg(settings)
    build_index(settings)


def whole_benchmark_command(arguments: list[str]) -> str:
    """The command that reproduces every row: the arguments of this call without its `--only` choices.

    A report gathers rows from several resumed calls, so the last call's `--only` would misname how it was made.
    """
    kept: list[str] = []
    skip_value = False
    for argument in arguments:
        if skip_value:
            skip_value = False
        elif argument == "--only":
            skip_value = True
        elif not argument.startswith("--only="):
            kept.append(argument)
    return " ".join(["kragrec", *kept])


def _kept(
    row: dict[str, Any], out: Path, recorded: dict[str, dict[str, Any]], plan: dict[str, Any], commit: str
) -> dict[str, Any]:
    """The row with the commit that recorded it; a row finished in the data dir is recorded beside the report now,
    unless the same result is recorded there already (with its run, for the prior's row)."""
    if "commit" in row:  # read from its record
        return row
    kept = recorded.get(row["entry"]["name"])
    if kept is not None and kept["report"] == row["report"] and ("run" in kept) == ("run" in row):
        return {**row, "commit": kept["commit"]}
    record_row(out, folder_name(Entry(**row["entry"])), row, plan, commit)
    return {**row, "commit": commit}


def quality_benchmark(
    settings: Settings,
    budget: QualityBudget,
    out: Path,
    ablations: bool,
    fresh: bool,
    command: str,
    only: tuple[str, ...] = (),
) -> Path:
    """Run the benchmark (or only the named rows) under settings.data_dir/quality and write out/quality.md and
    out/quality.png with every finished row."""
    ensure_pipeline(settings)
    plan, commit = quality_plan(settings, budget), commit_id(Path(__file__).parent)
    if fresh:
        forget_rows(out)
    recorded = recorded_rows(out, plan)
    work_dir = settings.data_dir / "quality" / settings.dataset
    restore_recorded_runs(recorded, work_dir)
    rows = run_quality(settings, budget, work_dir, ablations, fresh, only, recorded)
    rows = [_kept(row, out, recorded, plan, commit) for row in rows]
    reported = {row["entry"]["name"] for row in rows}
    missing = [entry.name for entry in entries(ablations) if entry.name not in reported]
    context = {
        "dataset": settings.dataset,
        "command": command,
        "wall_seconds": sum(row["seconds"] for row in rows),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, no GPU",
        "commit": commit,
        "seed": settings.seed,
        "candidates": settings.candidates,
        "budget": dataclasses.asdict(budget),
        "fictional": budget.fictional,
        "notes": [f"Not run yet: {', '.join(missing)}."] if missing else [],
    }
    markdown = out / "quality.md"
    write_quality_markdown(markdown, rows, context)
    write_quality_chart(out / "quality.png", rows)
    return markdown
