"""What `kragrec eval` writes: predictions.jsonl (one line per sample) and metrics.json (with intervals)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from kragrec.data.records import Scored
from kragrec.evaluation.hallucination import FICTIONAL_PREFIX, fictional_first_share
from kragrec.evaluation.intervals import bootstrap_intervals
from kragrec.files import replace_dir_atomically, write_json, write_jsonl
from kragrec.metrics import chance_metrics, metrics_from_ranks

BOOTSTRAP_RESAMPLES = 1000
COLD_START_SHARE = 0.2  # the samples whose targets have the fewest train ratings


def cold_start_mask(target_counts: np.ndarray) -> np.ndarray:
    """The COLD_START_SHARE of samples whose targets have the fewest train ratings (ties broken by sample order)."""
    counts = np.asarray(target_counts)
    chosen = np.argsort(counts, kind="stable")[: math.ceil(COLD_START_SHARE * len(counts))]
    mask = np.zeros(len(counts), dtype=bool)
    mask[chosen] = True
    return mask


def _with_intervals(ranks: np.ndarray, seed: int) -> dict[str, Any]:
    intervals = bootstrap_intervals(ranks, BOOTSTRAP_RESAMPLES, seed)
    return {
        "samples": len(ranks),
        "metrics": metrics_from_ranks(ranks),
        "intervals": {metric: list(bounds) for metric, bounds in intervals.items()},
    }


def evaluation_report(scored: Scored, name: str, split: str, seed: int, popularity: dict[str, int]) -> dict[str, Any]:
    """Metrics with bootstrap 95 % intervals, the same on the cold-start subset, the chance row, fiction share."""
    ranks = scored.ranks
    target_counts = np.array([popularity.get(r.target, 0) for r in scored.records], dtype=np.int64)
    cold = cold_start_mask(target_counts)
    report = {
        "method": name,
        "split": split,
        **_with_intervals(ranks, seed),
        "cold_start": {
            **_with_intervals(ranks[cold], seed),
            "share": COLD_START_SHARE,
            "max_target_train_ratings": int(target_counts[cold].max(initial=0)),
        },
        "chance": chance_metrics(scored.scores.shape[1]),
        "bootstrap": {"resamples": BOOTSTRAP_RESAMPLES, "seed": seed, "level": 0.95},
    }
    if any(c.startswith(FICTIONAL_PREFIX) for r in scored.records for c in r.candidates):
        report["fictional_first"] = fictional_first_share(scored.records, scored.scores)
    return report


def write_evaluation(folder: Path, scored: Scored, report: dict[str, Any]) -> None:
    """Replace folder with predictions.jsonl and metrics.json, both or neither (non-finite scores as null)."""
    rows = (
        {
            "user": record.user,
            "target": record.target,
            "candidates": record.candidates,
            "scores": [round(float(s), 6) if np.isfinite(s) else None for s in scores],
            "rank": int(rank),
            "evidence": evidence,
        }
        for record, scores, rank, evidence in zip(
            scored.records, scored.scores, scored.ranks, scored.evidence, strict=True
        )
    )
    with replace_dir_atomically(folder) as staging:
        write_jsonl(staging / "predictions.jsonl", rows)
        write_json(staging / "metrics.json", report)
