"""Baselines that need no training: seeded random scores and train-split popularity, on the prepared lists."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from kragrec.config import Settings
from kragrec.data.registry import open_dataset
from kragrec.data.splits import leave_one_out, split_of_ratings
from kragrec.evaluation.metrics import target_ranks
from kragrec.kg_loader.load_plan import popularity
from kragrec.training.samples import Record

UNTRAINED_BASELINES = ("random", "popularity")


@dataclass(frozen=True)
class Scored:
    """One score per candidate of every sample, and the sub-graph seeds each sample's prompt received."""

    records: list[Record]
    scores: np.ndarray
    evidence: list[list[str]]

    @cached_property
    def ranks(self) -> np.ndarray:
        """1-based rank of each target among its candidates (ties against it), computed once."""
        return target_ranks(self.scores, np.array([r.label for r in self.records], dtype=np.int64))


def train_popularity(settings: Settings) -> dict[str, int]:
    """Rating count of every item in the train split (validation and test ratings are not counted)."""
    dataset = open_dataset(settings, settings.dataset)
    counts = popularity(dataset, split_of_ratings(dataset, leave_one_out(dataset, settings.min_rating)))
    return {item: count for item, (count, _) in counts.items()}


def score_baseline(name: str, settings: Settings, records: list[Record], popularity: dict[str, int]) -> Scored:
    """`random` (seeded uniform scores) or `popularity` (the given train rating counts; 0 for items never rated)."""
    if name == "random":
        scores = np.random.default_rng(settings.seed).random((len(records), settings.candidates))
    elif name == "popularity":
        scores = np.array([[popularity.get(c, 0) for c in r.candidates] for r in records], dtype=np.float64)
    else:
        raise ValueError(f"unknown untrained baseline {name!r}")
    return Scored(records, scores, [[] for _ in records])
