"""How alike two methods rank the same candidate lists: the share of samples where both put the same candidate
first, and the mean Spearman correlation of their scores (ties share their average rank)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kragrec.errors import KragrecError
from kragrec.files import read_jsonl


@dataclass(frozen=True)
class Agreement:
    """Same first candidate (share of samples) and mean Spearman correlation over the samples where both
    methods give distinct scores (a constant ranking has no correlation)."""

    same_first: float
    spearman: float


def read_rankings(predictions: Path) -> dict[str, tuple[list[str], np.ndarray]]:
    """A predictions.jsonl as sample user -> (candidates, scores); a score written as null (non-finite) is -inf."""
    return {
        row["user"]: (row["candidates"], np.array([-math.inf if s is None else s for s in row["scores"]], np.float64))
        for row in read_jsonl(predictions)
    }


def average_ranks(scores: np.ndarray) -> np.ndarray:
    """Ranks 0..n-1 by ascending score; tied scores share the mean of their ranks."""
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[order] = np.arange(len(scores))
    _, group = np.unique(scores, return_inverse=True)
    return (np.bincount(group, weights=ranks) / np.bincount(group))[group]


def _spearman(left: np.ndarray, right: np.ndarray) -> float:
    a, b = average_ranks(left), average_ranks(right)
    if a.std() == 0 or b.std() == 0:
        return math.nan
    return float(np.corrcoef(a, b)[0, 1])


def ranking_agreement(
    left: dict[str, tuple[list[str], np.ndarray]], right: dict[str, tuple[list[str], np.ndarray]]
) -> Agreement:
    """Agreement of two methods' rankings of the same samples (same users, same candidate lists)."""
    if left.keys() != right.keys():
        raise KragrecError("rankings to compare must cover the same samples")
    same_first, correlations = [], []
    for user, (candidates, scores) in left.items():
        other_candidates, other_scores = right[user]
        if other_candidates != candidates:
            raise KragrecError(f"user {user}: the two rankings order different candidate lists")
        same_first.append(int(np.argmax(scores)) == int(np.argmax(other_scores)))
        correlations.append(_spearman(scores, other_scores))
    defined = [c for c in correlations if not math.isnan(c)]
    return Agreement(float(np.mean(same_first)), float(np.mean(defined)) if defined else math.nan)
