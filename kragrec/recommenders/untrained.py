"""Random and popularity scores as Recommenders (no training, no run folder)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from kragrec.config import Settings
from kragrec.data.popularity import popularity_scores, train_popularity
from kragrec.data.records import Scored
from kragrec.data.sample import Record, Titles
from kragrec.retrieval.retriever import Retriever


def random_scores(settings: Settings, records: list[Record]) -> np.ndarray:
    """Seeded uniform scores, one per candidate."""
    return np.random.default_rng(settings.seed).random((len(records), settings.candidates))


@dataclass(frozen=True)
class RandomRecommender:
    """Seeded uniform scores: the chance level."""

    settings: Settings
    name: str = field(default="random", init=False)
    fed: str = field(default="none", init=False)

    def score(self, split: str, records: list[Record], titles: Titles, retriever: Retriever | None = None) -> Scored:
        """Seeded random scores."""
        return Scored(records, random_scores(self.settings, records), [[] for _ in records])


@dataclass
class PopularityRecommender:
    """Train-split rating counts: the reference every evaluation is compared with. `known_counts`: counts the
    caller has read already (train_popularity of the same settings), so they are not read again."""

    settings: Settings
    known_counts: dict[str, int] | None = None
    name: str = field(default="popularity", init=False)
    fed: str = field(default="none", init=False)

    @cached_property
    def counts(self) -> dict[str, int]:
        """Train rating count of every item (read once)."""
        return self.known_counts if self.known_counts is not None else train_popularity(self.settings)

    def score(self, split: str, records: list[Record], titles: Titles, retriever: Retriever | None = None) -> Scored:
        """Each candidate's train rating count (fictional films: 0)."""
        return Scored(records, popularity_scores(records, self.counts), [[] for _ in records])
