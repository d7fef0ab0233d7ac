"""Ranking metrics for one relevant item among M candidates: ACC (= HR@1), Recall@k, NDCG@10, MRR."""

from __future__ import annotations

import numpy as np

METRIC_NAMES = ("acc", "recall@3", "recall@5", "ndcg@10", "mrr")


def target_ranks(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """1-based rank of each target; ties count against it, so constant scores never hit."""
    if (np.asarray(targets) < 0).any():
        raise ValueError("a target is not among its candidates: nothing to rank")
    target_scores = scores[np.arange(len(scores)), targets]
    return (scores >= target_scores[:, None]).sum(axis=1)


def metrics_from_ranks(ranks: np.ndarray) -> dict[str, float]:
    """Mean of each metric over samples."""
    ranks = np.asarray(ranks, dtype=np.float64)
    return {
        "acc": float(np.mean(ranks == 1)),
        "recall@3": float(np.mean(ranks <= 3)),
        "recall@5": float(np.mean(ranks <= 5)),
        "ndcg@10": float(np.mean(np.where(ranks <= 10, 1.0 / np.log2(ranks + 1), 0.0))),
        "mrr": float(np.mean(1.0 / ranks)),
    }


def chance_metrics(num_candidates: int) -> dict[str, float]:
    """Expected metrics of a uniformly random ranking of M candidates."""
    ranks = np.arange(1, num_candidates + 1)
    return metrics_from_ranks(ranks)


CUTOFFS = (5, 10)


def full_ranking_metrics(ranks: np.ndarray) -> dict[str, float]:
    """Recall, NDCG and MRR at 5 and 10 over all items (LlamaRec protocol); rank inf = not retrieved."""
    ranks = np.asarray(ranks, dtype=np.float64)
    metrics = {}
    for k in CUTOFFS:
        hit = ranks <= k
        metrics[f"recall@{k}"] = float(np.mean(hit))
        metrics[f"ndcg@{k}"] = float(np.mean(np.where(hit, 1.0 / np.log2(np.minimum(ranks, k) + 1), 0.0)))
        metrics[f"mrr@{k}"] = float(np.mean(np.where(hit, 1.0 / np.minimum(ranks, k), 0.0)))
    return metrics
