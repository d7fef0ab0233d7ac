"""What `kragrec recommend` is asked and answers, as plain data: built in-process, or sent to and read back from
`kragrec serve` (the request as a URL query, the answer as JSON)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any
from urllib.parse import urlencode

from kragrec.errors import KragrecError


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
        """Read back what to_json wrote; a TypeError (the constructor's) when a field is missing or foreign."""
        return cls(**data)


@dataclass(frozen=True)
class RecommendRequest:
    """What `kragrec recommend` asks for, besides the run."""

    user: str
    top: int = 10
    explain: bool = False
    all_items: bool = False
    retriever: str | None = None  # a sasrec run folder (with all_items)
    split: str = "test"

    def query(self) -> str:
        """The URL query string."""
        values = {name: value for name, value in asdict(self).items() if value is not None}
        return urlencode({name: int(v) if isinstance(v, bool) else v for name, v in values.items()})

    @classmethod
    def from_query(cls, params: dict[str, list[str]]) -> RecommendRequest:
        """Parse what query() wrote; a KragrecError naming the parameter when one is missing or malformed."""
        known = {field.name: field for field in fields(cls)}
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise KragrecError(f"unknown request parameter {unknown[0]!r}: parameters are {', '.join(known)}")
        if "user" not in params:
            raise KragrecError("request parameter 'user' is missing")
        values: dict[str, Any] = {}
        for name, (raw, *_) in params.items():
            kind = known[name].type
            if kind == "int" and not raw.lstrip("-").isdigit():
                raise KragrecError(f"request parameter {name!r}: {raw!r} is not an integer")
            if kind == "bool" and raw not in ("0", "1"):
                raise KragrecError(f"request parameter {name!r}: {raw!r} is not 0 or 1")
            values[name] = int(raw) if kind == "int" else raw == "1" if kind == "bool" else raw
        return cls(**values)
