"""Item popularity, computed in one place: train-split rating counts and their percentiles (stored on every Item
node at load for the retrieval policy), and the popularity ranking of candidate lists (the baseline, and the
reference every validation and evaluation reports)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from kragrec.config import Settings
from kragrec.data.dataset import Dataset
from kragrec.data.registry import open_dataset
from kragrec.data.sample import Record
from kragrec.data.splits import leave_one_out, split_of_ratings
from kragrec.metrics import metrics_from_ranks, target_ranks


def item_popularity(dataset: Dataset, splits_by_rating: dict[tuple[str, str], str]) -> dict[str, tuple[int, float]]:
    """Per item: train-split rating count, and its mid-rank percentile among all items (0 = least popular)."""
    counts = Counter(item for (_, item), split in splits_by_rating.items() if split == "train")
    values = [counts.get(item, 0) for item in dataset.items]
    by_count = Counter(values)
    below, percentile = 0, {}
    for count in sorted(by_count):
        percentile[count] = (below + 0.5 * by_count[count]) / len(values)
        below += by_count[count]
    return {item: (counts.get(item, 0), percentile[counts.get(item, 0)]) for item in dataset.items}


def train_popularity(settings: Settings) -> dict[str, int]:
    """Rating count of every item in the train split (validation and test ratings are not counted)."""
    dataset = open_dataset(settings, settings.dataset)
    counts = item_popularity(dataset, split_of_ratings(dataset, leave_one_out(dataset, settings.min_rating)))
    return {item: count for item, (count, _) in counts.items()}


def popularity_scores(records: list[Record], counts: dict[str, int]) -> np.ndarray:
    """Each candidate's train rating count (`train_popularity`); 0 for items never rated (fictional films)."""
    return np.array([[counts.get(c, 0) for c in r.candidates] for r in records], dtype=np.float64)


def popularity_metrics(records: list[Record], counts: dict[str, int]) -> dict[str, float]:
    """The popularity ranking's metrics on the records' candidate lists (the reference validation reports)."""
    labels = np.array([r.label for r in records], dtype=np.int64)
    return metrics_from_ranks(target_ranks(popularity_scores(records, counts), labels))
