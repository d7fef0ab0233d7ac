"""Typed, bounded shortest paths from history items to candidates: one Cypher round trip per sample, cached per pair."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kragrec.config import Settings
from kragrec.errors import KragrecError
from kragrec.kg_loader.backends import open_graph_store
from kragrec.kg_loader.store import GraphStore


@dataclass(frozen=True)
class ItemPath:
    """Nodes as (label, key) from the history item to the candidate, and the relationship types between them."""

    nodes: tuple[tuple[str, str], ...]
    relations: tuple[str, ...]

    @property
    def hops(self) -> int:
        """Number of relationships."""
        return len(self.relations)


Pair = tuple[str, str]  # (history item, candidate)


class PathFinder:
    """Reads shortest paths for all (history, candidate) pairs of a sample in one query; remembers every pair."""

    def __init__(self, store: GraphStore, hops: int, hub_cap: int) -> None:
        self.store, self.hops, self.hub_cap = store, hops, hub_cap
        self.cache: dict[Pair, ItemPath | None] = {}
        self.round_trips = 0

    def paths(self, history: Sequence[str], candidates: Sequence[str]) -> dict[Pair, ItemPath | None]:
        """The path (or None) of every pair; pairs not cached yet are read in one round trip."""
        missing = [(h, c) for h in history for c in candidates if (h, c) not in self.cache]
        if missing:
            heads = sorted({h for h, _ in missing})
            tails = sorted({c for _, c in missing})
            rows = self.store.run(
                "item_paths", {"history": heads, "candidates": tails, "hops": self.hops, "hub_cap": self.hub_cap}
            )
            self.round_trips += 1
            found = {(row["head"], row["tail"]): _path_of(row) for row in rows}
            self.cache.update({(h, c): found.get((h, c)) for h in heads for c in tails})
        return {(h, c): self.cache[(h, c)] for h in history for c in candidates}


def _path_of(row: dict) -> ItemPath:
    keys = (key if key is not None else name for key, name in zip(row["ids"], row["names"], strict=True))
    return ItemPath(tuple(zip(row["labels"], keys, strict=True)), tuple(row["types"]))


def path_cache_file(settings: Settings, load_id: str) -> Path:
    """Where the pair cache of these path settings and this loaded graph lives."""
    name = f"{load_id}-h{settings.path_hops}-cap{settings.path_hub_cap}.json"
    return settings.data_dir / "paths" / settings.dataset / name


@contextmanager
def open_path_finder(settings: Settings, persist_cache: bool = True) -> Iterator[PathFinder]:
    """A path finder over the loaded graph, its pair cache read from and written back to disk."""
    store = open_graph_store(settings, read_only=True)
    try:
        state = store.run("get_dataset")
        if not state or not state[0]["complete"]:
            raise KragrecError(f"no complete graph of {settings.dataset!r} in the store: run 'kragrec load-kg'")
        finder = PathFinder(store, settings.path_hops, settings.path_hub_cap)
        cache_file = path_cache_file(settings, state[0]["fingerprint"])
        if cache_file.is_file():
            for head, tail, path in json.loads(cache_file.read_text(encoding="utf-8")):
                finder.cache[(head, tail)] = ItemPath(tuple(map(tuple, path[0])), tuple(path[1])) if path else None
        yield finder
        if persist_cache:
            rows = [[h, c, [p.nodes, p.relations] if p else None] for (h, c), p in sorted(finder.cache.items())]
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            staging = cache_file.with_suffix(".partial")
            staging.write_text(json.dumps(rows), encoding="utf-8")
            staging.replace(cache_file)
    finally:
        store.close()
