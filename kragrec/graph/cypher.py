"""Cypher queries kept as files: graph/queries/<backend>/NAME.cypher, else graph/queries/common/NAME.cypher."""

from __future__ import annotations

from functools import cache
from pathlib import Path

CYPHER_DIR = Path(__file__).resolve().parent / "queries"


@cache
def cypher_statements(backend: str, name: str) -> tuple[str, ...]:
    """The statements of a named query for a backend, comments removed, split on ';' at line ends."""
    for folder in (backend, "common"):
        path = CYPHER_DIR / folder / f"{name}.cypher"
        if path.is_file():
            lines = [
                line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("//")
            ]
            text = "\n".join(lines)
            return tuple(s.strip() for s in text.split(";\n") if s.strip().rstrip(";"))
    raise FileNotFoundError(f"no Cypher file {name}.cypher for backend {backend!r} in {CYPHER_DIR}")


def cypher(backend: str, name: str) -> str:
    """The single statement of a named query."""
    statements = cypher_statements(backend, name)
    if len(statements) != 1:
        raise ValueError(f"{name}.cypher holds {len(statements)} statements, expected one")
    return statements[0].rstrip(";")
