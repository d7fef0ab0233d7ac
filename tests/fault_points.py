"""Run a kragrec command that stops at a chosen point, so a test can kill -9 it there (or let it go on).

    python fault_points.py POINT N -- kragrec arguments...

POINT is `query:NAME` (before the Nth graph-store write of the named query), `meta` (after the Nth write of
the index's progress metadata, on any vector backend; upserts go 10 points a batch) or `checkpoint` (after the Nth
training checkpoint).
At the point the process prints PAUSED on stdout and waits for a line on stdin before it goes on.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

PAUSED = "PAUSED"


def pause_on(count: int, matches: Callable[..., bool] = lambda *args: True) -> Callable[..., None]:
    """A hook that pauses at its `count`th matching call."""
    seen = 0

    def hook(*args: Any) -> None:
        nonlocal seen
        if matches(*args):
            seen += 1
            if seen == count:
                print(PAUSED, flush=True)
                sys.stdin.readline()

    return hook


def wrap(owner: Any, name: str, before: Callable[..., None] | None = None, after: Callable[..., None] | None = None):
    """Replace owner.name by a function that calls the hooks around the original."""
    original = getattr(owner, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if before:
            before(*args)
        result = original(*args, **kwargs)
        if after:
            after(*args)
        return result

    setattr(owner, name, wrapped)


def install(point: str, count: int) -> None:
    """Set up the pause at the chosen point."""
    if point.startswith("query:"):
        from kragrec.graph.embedded import EmbeddedGraphStore

        query = point.removeprefix("query:")
        wrap(EmbeddedGraphStore, "run", before=pause_on(count, lambda store, name, *rest: name == query))
    elif point == "meta":
        from kragrec.retrieval import index_builder
        from kragrec.vectors.edge import EdgeVectorStore
        from kragrec.vectors.qdrant_client_store import QdrantVectorStore

        index_builder.UPSERT_BATCH = 10
        hook = pause_on(count)  # one count, whichever backend the command's settings choose
        for backend in (EdgeVectorStore, QdrantVectorStore):
            wrap(backend, "write_meta", after=hook)
    elif point == "checkpoint":
        from kragrec.training.loop import TrainingLoop

        wrap(TrainingLoop, "save_last", after=pause_on(count))
    else:
        raise SystemExit(f"unknown point {point!r}")


if __name__ == "__main__":
    point, count, separator, *arguments = sys.argv[1:]
    assert separator == "--", "usage: fault_points.py POINT N -- kragrec arguments..."
    install(point, int(count))
    from kragrec.cli import main

    sys.argv = ["kragrec", *arguments]
    main()
