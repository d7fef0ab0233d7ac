"""The Recommender contract, the optional ability to retrieve candidates from all items, and a method's trainer."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from kragrec.config import Settings
from kragrec.data.records import Scored
from kragrec.data.sample import Record, Titles
from kragrec.recommenders.runs import TrainedRun
from kragrec.retrieval.retriever import Retriever

FED = ("none", "graph", "text", "paths", "sequence")  # what a recommender is given besides the history's titles


@runtime_checkable
class Recommender(Protocol):
    """Scores the candidates of prepared samples: one score per candidate, higher is better (deterministic)."""

    @property
    def name(self) -> str:
        """The method's name in the registry (with the run folder's name for trained runs)."""
        ...

    @property
    def fed(self) -> str:
        """What it is given besides the history (one of FED); `recommend --explain` shows it."""
        ...

    def score(self, split: str, records: list[Record], titles: Titles, retriever: Retriever | None = None) -> Scored:
        """Scores of `records` from `split`; candidates found in `titles` are not catalogue items. A method that
        retrieves from the KG does so through `retriever` when the caller holds one open."""
        ...


@runtime_checkable
class CandidateSource(Protocol):
    """A recommender that can also rank every unseen item (the first stage of the full-ranking protocol)."""

    def top_unseen_before(self, users: list[str], split: str, count: int) -> list[list[str]]:
        """Per user, the `count` best unseen items after the sequence before `split`'s target ("all": after all)."""
        ...


class Trainer(Protocol):
    """How a trainable method turns options into its config, trains a run folder, and reopens it."""

    ranks_all_items: bool  # whether its recommenders are CandidateSources

    def config(self, run_dir: Path, options: dict[str, Any]) -> Any:
        """The run config from `kragrec train` options (unknown ones refused with a one-line error)."""
        ...

    def recorded(self, folder: Path, train: dict[str, Any]) -> Any:
        """The config a run folder's config.json recorded."""
        ...

    def train(self, settings: Settings, run_dir: Path, config: Any, resume: bool) -> dict[str, Any]:
        """Train (or resume) the run; its summary."""
        ...

    def open(self, run: TrainedRun, which: str) -> Recommender:
        """The run's best or last checkpoint as a Recommender."""
        ...
