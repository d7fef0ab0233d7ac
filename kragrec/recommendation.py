"""What `kragrec recommend` answers, as plain data: built in-process or read back from `kragrec serve` as JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Recommendation:
    """A user's ranked candidates (probability among them), the history used, and the evidence when asked:
    the retrieved sub-graphs (graph, text) or the relation paths the model chose (paths)."""

    user: str
    target: str | None
    history: list[str]
    ranked: list[dict[str, Any]]
    evidence: dict[str, Any] | None
    fed: str  # what the method is given besides the prompt: graph, text, paths, none (or sequence for SASRec)
    paths: list[str] | None = None

    def to_json(self) -> dict[str, Any]:
        """The fields as JSON values."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Recommendation:
        """Read back what to_json wrote; a KeyError or TypeError when a field is missing or foreign."""
        names = {field.name for field in fields(cls)}
        if not names >= set(data) or "user" not in data:
            raise TypeError(f"not a recommendation: fields {sorted(data)}")
        return cls(**data)
