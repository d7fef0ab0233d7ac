"""Full-ranking protocol (LlamaRec): SASRec retrieves the top-M of all unseen items, the run re-ranks them.

Reported separately from the sampled-candidate metrics and never mixed with them: Recall/NDCG/MRR@{5,10} over all
users (a target the retriever missed counts as a miss), and the same on the retrieval subset (users whose target
the retriever found), labelled as such.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from kragrec.config import Settings
from kragrec.data.records import evaluation_records
from kragrec.data.sample import NO_TARGET, Record
from kragrec.evaluation.intervals import bootstrap_intervals
from kragrec.files import replace_dir_atomically, write_json, write_jsonl
from kragrec.metrics import full_ranking_metrics, target_ranks
from kragrec.recommenders.registry import candidate_source, open_run, trained
from kragrec.recommenders.runs import TrainedRun
from kragrec.training.run_folder import RunFolder

RESAMPLES = 1000


def retrieved_records(settings: Settings, retriever: TrainedRun, split: str, limit: int | None) -> list[Record]:
    """Each sample's history and target with the retriever run's top-M unseen items (before the target) as
    candidates."""
    source = candidate_source(retriever, "--full-ranking", "retrieve for the full-ranking protocol")
    samples = evaluation_records(settings, split, limit)
    retrieved = source.top_unseen_before([r.user for r in samples], split, settings.candidates)
    return [Record(r.user, r.history, r.target, top) for r, top in zip(samples, retrieved, strict=True)]


def reranked_ranks(records: list[Record], scores: np.ndarray) -> np.ndarray:
    """Rank of each target in the re-ranked list (ties against it); inf when the retriever missed it."""
    labels = np.array([r.label for r in records], dtype=np.int64)
    found = labels != NO_TARGET
    ranks = np.full(len(records), np.inf)
    ranks[found] = target_ranks(scores[found], labels[found])
    return ranks


def _block(ranks: np.ndarray, seed: int) -> dict[str, Any]:
    intervals = bootstrap_intervals(ranks, RESAMPLES, seed, metrics=full_ranking_metrics)
    return {
        "users": len(ranks),
        "metrics": full_ranking_metrics(ranks),
        "intervals": {name: list(bounds) for name, bounds in intervals.items()},
    }


def evaluate_full_ranking(
    run_dir: Path,
    retriever_dir: Path,
    connection: Settings,
    split: str,
    out: Path | None,
    limit: int | None = None,
    checkpoint: str = "best",
) -> dict[str, Any]:
    """Retrieve with SASRec, re-rank with the run's checkpoint; write predictions and metrics (overall, retrieval
    subset)."""
    run = open_run(run_dir, connection)
    retriever = open_run(retriever_dir, run.settings)
    records = retrieved_records(run.settings, retriever, split, limit)
    scored = trained(run, checkpoint).score(split, records, {})
    ranks = reranked_ranks(records, scored.scores)
    retriever_ranks = np.array([r.label + 1 if r.label != NO_TARGET else np.inf for r in records])
    found = np.isfinite(ranks)
    report = {
        "protocol": f"full ranking: {retriever.method} top-M of all unseen items, re-ranked",
        "method": f"{run.method} ({run_dir.name}) re-ranking {retriever.method} ({retriever_dir.name})",
        "split": split,
        "candidates": run.settings.candidates,
        "overall": _block(ranks, run.settings.seed),
        "retrieval_subset": _block(ranks[found], run.settings.seed),
        "retriever_alone": _block(retriever_ranks, run.settings.seed),
    }
    rows = (
        {"user": r.user, "target": r.target, "candidates": r.candidates, "rank": None if np.isinf(k) else int(k)}
        for r, k in zip(records, ranks, strict=True)
    )
    with replace_dir_atomically(out or RunFolder(run_dir).evaluation(f"{split}-full-ranking")) as staging:
        write_jsonl(staging / "predictions.jsonl", rows)
        write_json(staging / "metrics.json", report)
    return report
