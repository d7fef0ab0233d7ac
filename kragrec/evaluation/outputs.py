"""What `kragrec eval` writes: predictions.jsonl (one line per sample) and metrics.json (with intervals)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kragrec.evaluation.baselines import Scored
from kragrec.evaluation.intervals import bootstrap_intervals
from kragrec.evaluation.metrics import chance_metrics, metrics_from_ranks, target_ranks
from kragrec.files import replace_dir_atomically, write_json, write_jsonl

BOOTSTRAP_RESAMPLES = 1000


def evaluation_report(scored: Scored, name: str, split: str, seed: int) -> dict[str, Any]:
    """Metrics with bootstrap 95 % intervals, the chance row, and what was evaluated."""
    ranks = target_ranks(scored.scores, scored.labels)
    intervals = bootstrap_intervals(ranks, BOOTSTRAP_RESAMPLES, seed)
    return {
        "method": name,
        "split": split,
        "samples": len(scored.records),
        "metrics": metrics_from_ranks(ranks),
        "intervals": {metric: list(bounds) for metric, bounds in intervals.items()},
        "chance": chance_metrics(scored.scores.shape[1]),
        "bootstrap": {"resamples": BOOTSTRAP_RESAMPLES, "seed": seed, "level": 0.95},
    }


def write_evaluation(folder: Path, scored: Scored, report: dict[str, Any]) -> None:
    """Replace folder with predictions.jsonl and metrics.json, both or neither."""
    ranks = target_ranks(scored.scores, scored.labels)
    rows = (
        {
            "user": record.user,
            "target": record.target,
            "candidates": record.candidates,
            "scores": [round(float(s), 6) for s in scores],
            "rank": int(rank),
            "evidence": evidence,
        }
        for record, scores, rank, evidence in zip(scored.records, scored.scores, ranks, scored.evidence, strict=True)
    )
    with replace_dir_atomically(folder) as staging:
        write_jsonl(staging / "predictions.jsonl", rows)
        write_json(staging / "metrics.json", report)
