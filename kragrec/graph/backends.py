"""Open the graph store the settings name; the one place that knows which backends exist."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kragrec.config import Settings
from kragrec.graph.store import GraphStore


def embedded_store_dir(settings: Settings) -> Path:
    """Folder of the embedded store for the settings' dataset."""
    return settings.graph_dir / settings.dataset


def _neo4j(settings: Settings) -> GraphStore:
    from kragrec.graph.neo4j_store import Neo4jGraphStore

    assert settings.neo4j_uri is not None
    return Neo4jGraphStore(settings.neo4j_uri, settings.neo4j_user, settings.neo4j_password, settings.neo4j_database)


def open_graph_store(settings: Settings, read_only: bool = False) -> GraphStore:
    """The store to query; embedded stores open read-only when asked so the engine refuses writes."""
    if settings.backend == "neo4j":
        return _neo4j(settings)
    from kragrec.graph.embedded import EmbeddedGraphStore

    return EmbeddedGraphStore(embedded_store_dir(settings), read_only=read_only)


def discard_interrupted_load(settings: Settings) -> None:
    """Remove what an interrupted load into the embedded store left behind (Neo4j loads write in place)."""
    if settings.backend == "embedded":
        from kragrec.graph.embedded import discard_staging

        discard_staging(embedded_store_dir(settings))


@contextmanager
def reading_graph_store(settings: Settings) -> Iterator[GraphStore]:
    """The settings' graph store opened read-only, closed when the block ends."""
    store = open_graph_store(settings, read_only=True)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def graph_store_for_loading(settings: Settings, fresh: bool) -> Iterator[GraphStore]:
    """A store to load into: the embedded one is staged and swapped in on success; Neo4j is written in place."""
    if settings.backend == "neo4j":
        store = _neo4j(settings)
        try:
            if fresh:
                store.clear()
            yield store
        finally:
            store.close()
        return
    from kragrec.graph.embedded import staged_embedded_store

    with staged_embedded_store(embedded_store_dir(settings), fresh) as store:
        yield store
