"""`kragrec eval`: score a run or a baseline on a split, write its outputs, and a popularity reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kragrec.config import Settings
from kragrec.errors import KragrecError
from kragrec.evaluation.baselines import UNTRAINED_BASELINES, score_baseline
from kragrec.evaluation.outputs import evaluation_report, write_evaluation
from kragrec.evaluation.runs import open_run
from kragrec.evaluation.scoring import score_run, score_zero_shot
from kragrec.models.llm import DEFAULT_LLM


def baseline_folder(settings: Settings, method: str, split: str) -> Path:
    """Where a baseline's evaluation goes by default."""
    return settings.data_dir / "eval" / settings.dataset / method / split


def _popularity_reference(settings: Settings, split: str) -> dict[str, Any]:
    return evaluation_report(score_baseline("popularity", settings, split), "popularity", split, settings.seed)


def evaluate_run(
    run_dir: Path, connection: Settings, split: str, checkpoint: str, out: Path | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Score the run's checkpoint on the split; returns its report and the popularity reference."""
    run = open_run(run_dir, connection)
    scored = score_run(run, split, checkpoint)
    report = evaluation_report(scored, f"{run.method} ({run_dir.name})", split, run.settings.seed)
    report["checkpoint"] = checkpoint
    write_evaluation(out or run_dir / "eval" / split, scored, report)
    return report, _popularity_reference(run.settings, split)


def evaluate_baseline(
    method: str, settings: Settings, split: str, out: Path | None, llm: str = DEFAULT_LLM
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Score a baseline that needs no training; the popularity reference is left out for popularity itself."""
    if method == "llm-zero-shot":
        scored = score_zero_shot(settings, llm, split)
    elif method in UNTRAINED_BASELINES:
        scored = score_baseline(method, settings, split)
    else:
        names = ", ".join([*UNTRAINED_BASELINES, "llm-zero-shot"])
        raise KragrecError(f"--method {method!r}: baselines without training are {names}")
    report = evaluation_report(scored, method, split, settings.seed)
    write_evaluation(out or baseline_folder(settings, method, split), scored, report)
    return report, None if method == "popularity" else _popularity_reference(settings, split)
