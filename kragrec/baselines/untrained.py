"""Baselines that need no training: seeded random scores and train-split popularity, on the prepared lists."""

from __future__ import annotations

import numpy as np

from kragrec.config import Settings
from kragrec.data.records import Record
from kragrec.data.registry import open_dataset
from kragrec.data.splits import leave_one_out, split_of_ratings
from kragrec.kg_loader.load_plan import popularity


def train_popularity(settings: Settings) -> dict[str, int]:
    """Rating count of every item in the train split (validation and test ratings are not counted)."""
    dataset = open_dataset(settings, settings.dataset)
    counts = popularity(dataset, split_of_ratings(dataset, leave_one_out(dataset, settings.min_rating)))
    return {item: count for item, (count, _) in counts.items()}


def random_scores(settings: Settings, records: list[Record]) -> np.ndarray:
    """Seeded uniform scores, one per candidate."""
    return np.random.default_rng(settings.seed).random((len(records), settings.candidates))


def popularity_scores(records: list[Record], counts: dict[str, int]) -> np.ndarray:
    """Each candidate's train rating count (`train_popularity`); 0 for items never rated."""
    return np.array([[counts.get(c, 0) for c in r.candidates] for r in records], dtype=np.float64)
