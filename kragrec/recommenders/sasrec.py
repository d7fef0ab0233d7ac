"""SASRec as a Recommender: scores candidate lists after each user's sequence, and ranks every unseen item (the
full-ranking protocol's retriever and `recommend --all-items --retriever`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from kragrec.baselines.sasrec import SASRec, SasrecConfig
from kragrec.baselines.sasrec_training import (
    Sequences,
    load_sasrec,
    sasrec_config,
    sasrec_scores,
    top_unseen_before,
    train_sasrec,
    user_sequences,
)
from kragrec.config import Settings
from kragrec.data.records import Scored
from kragrec.data.sample import Record, Titles
from kragrec.recommenders.runs import TrainedRun
from kragrec.retrieval.retriever import Retriever


@dataclass
class TrainedSasrec:
    """A trained SASRec run's checkpoint (the model is read on first use)."""

    run: TrainedRun
    which: str = "best"
    fed: str = field(default="sequence", init=False)

    @property
    def name(self) -> str:
        """sasrec and the run folder's name."""
        return f"{self.run.method} ({self.run.folder.name})"

    @cached_property
    def sequences(self) -> Sequences:
        """The run's leave-one-out split as item-index sequences."""
        return user_sequences(self.run.settings)

    @cached_property
    def model(self) -> SASRec:
        """The checkpoint's model, in eval mode."""
        return load_sasrec(self.run.checkpoint(self.which), len(self.sequences.index_of), self.run.config)

    def score(self, split: str, records: list[Record], titles: Titles, retriever: Retriever | None = None) -> Scored:
        """Scores after each user's sequence before the target; candidates that are not items score -inf."""
        scores = sasrec_scores(self.model, self.sequences, records, split, self.run.config.batch_size)
        return Scored(records, scores, [[] for _ in records])

    def top_unseen_before(self, users: list[str], split: str, count: int) -> list[list[str]]:
        """Per user, the `count` best unseen items after the sequence before `split`'s target ("all": after all)."""
        return top_unseen_before(self.model, self.sequences, users, split, count)


class SasrecTrainer:
    """Trains and reopens SASRec runs."""

    ranks_all_items = True

    def config(self, run_dir: Path, options: dict[str, Any]) -> SasrecConfig:
        """SASRec's defaults with the options that apply to it; others are refused."""
        return sasrec_config(options)

    def recorded(self, folder: Path, train: dict[str, Any]) -> SasrecConfig:
        """The recorded SasrecConfig."""
        return SasrecConfig(**{name: value for name, value in train.items() if name not in ("method", "run_dir")})

    def train(self, settings: Settings, run_dir: Path, config: SasrecConfig, resume: bool) -> dict[str, Any]:
        """SASRec's own loop (per-prefix samples, validation each epoch, early stop)."""
        return train_sasrec(settings, run_dir, config, resume=resume)

    def open(self, run: TrainedRun, which: str) -> TrainedSasrec:
        """The run's checkpoint as a Recommender."""
        return TrainedSasrec(run, which)
