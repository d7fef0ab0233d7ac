"""The GraphStore protocol every backend implements; callers never branch on the backend."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

Row = dict[str, Any]


class GraphStore(Protocol):
    """A property-graph database reached through named, parameterised Cypher queries."""

    backend: str

    def ensure_schema(self) -> None:
        """Create constraints, indexes or tables if they are missing."""

    def run(self, name: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run the named query from kragrec/graph/queries with parameters; returns its rows as dicts."""

    def stream(self, name: str, params: Mapping[str, Any] | None = None) -> Iterator[Row]:
        """Run the named read query and yield its rows one at a time (for results too large to hold at once)."""

    def read_query(self, text: str, params: Mapping[str, Any] | None = None) -> tuple[list[str], list[Sequence[Any]]]:
        """Run an ad-hoc query that must not write; returns column names and rows."""

    def clear(self) -> None:
        """Delete every node and relationship."""

    def close(self) -> None:
        """Release the connection or database handle."""
