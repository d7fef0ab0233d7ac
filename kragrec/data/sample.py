"""The one prepared-sample type every layer shares (Record), and how it is written to and read from JSONL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

NO_TARGET = -1  # label of a sample scored for recommending, whose target is unknown


@dataclass(frozen=True)
class Record:
    """One sample: user, history (oldest first), target, candidate list (empty for a training window as prepared:
    its candidates are drawn when training reads it)."""

    user: str
    history: list[str]
    target: str
    candidates: list[str] = field(default_factory=list)

    @property
    def label(self) -> int:
        """The target's position among the candidates, or NO_TARGET when it is not one of them."""
        return self.candidates.index(self.target) if self.target in self.candidates else NO_TARGET

    def row(self) -> dict[str, Any]:
        """The JSONL row of a prepared file (no candidates key for a training window)."""
        row: dict[str, Any] = {"user": self.user, "history": list(self.history), "target": self.target}
        return {**row, "candidates": list(self.candidates)} if self.candidates else row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Record:
        """A Record from a prepared file's row."""
        return cls(row["user"], list(row["history"]), row["target"], list(row.get("candidates", [])))


Titles = Mapping[str, str]  # titles of candidates that are not catalogue items (the hallucination test's fictions)
