"""Typed, bounded shortest paths from history items to candidates: one Cypher round trip per sample, cached per pair."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from kragrec.config import Settings
from kragrec.errors import KragrecError
from kragrec.graph.backends import open_graph_store
from kragrec.graph.store import GraphStore


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

    def __init__(self, store: GraphStore, hops: int, hub_cap: int, journal: TextIO | None = None) -> None:
        """journal, when given, receives every newly read pair as one JSON line, flushed after each round trip."""
        self.store, self.hops, self.hub_cap, self.journal = store, hops, hub_cap, journal
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
            new = {(h, c): found.get((h, c)) for h in heads for c in tails}
            self.cache.update(new)
            if self.journal is not None:
                self.journal.writelines(_pair_line(pair, path) for pair, path in new.items())
                self.journal.flush()
        return {(h, c): self.cache[(h, c)] for h in history for c in candidates}


def _path_of(row: dict) -> ItemPath:
    keys = (key if key is not None else name for key, name in zip(row["ids"], row["names"], strict=True))
    return ItemPath(tuple(zip(row["labels"], keys, strict=True)), tuple(row["types"]))


def _pair_line(pair: Pair, path: ItemPath | None) -> str:
    return json.dumps([*pair, [path.nodes, path.relations] if path else None]) + "\n"


def path_cache_file(settings: Settings, load_id: str) -> Path:
    """Where the pair cache of these path settings and this loaded graph lives (one JSON line per pair)."""
    name = f"{load_id}-h{settings.path_hops}-cap{settings.path_hub_cap}.jsonl"
    return settings.data_dir / "paths" / settings.dataset / name


def read_path_cache(cache_file: Path) -> dict[Pair, ItemPath | None]:
    """The cached pairs; a last line cut short by an interrupted write is dropped from the file."""
    text = cache_file.read_text(encoding="utf-8")
    complete = text[: text.rfind("\n") + 1]
    if complete != text:
        with cache_file.open("r+", encoding="utf-8") as handle:
            handle.truncate(len(complete.encode("utf-8")))
    cache: dict[Pair, ItemPath | None] = {}
    for number, line in enumerate(complete.splitlines(), start=1):
        try:
            head, tail, path = json.loads(line)
            cache[(head, tail)] = ItemPath(tuple(map(tuple, path[0])), tuple(path[1])) if path else None
        except (ValueError, TypeError, IndexError) as error:
            raise KragrecError(f"{cache_file}:{number}: not a cached path pair ({error}); delete the file") from error
    return cache


@contextmanager
def open_path_finder(settings: Settings, persist_cache: bool = True) -> Iterator[PathFinder]:
    """A path finder over the loaded graph; its pair cache is read from disk and, with persist_cache, every pair it
    reads is appended there at once, so an interrupted run keeps what it found."""
    store = open_graph_store(settings, read_only=True)
    try:
        state = store.run("get_dataset")
        if not state or not state[0]["complete"]:
            raise KragrecError(f"no complete graph of {settings.dataset!r} in the store: run 'kragrec load-kg'")
        cache_file = path_cache_file(settings, state[0]["fingerprint"])
        cached = read_path_cache(cache_file) if cache_file.is_file() else {}
        if persist_cache:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
        with cache_file.open("a", encoding="utf-8") if persist_cache else nullcontext() as journal:
            finder = PathFinder(store, settings.path_hops, settings.path_hub_cap, journal)
            finder.cache.update(cached)
            yield finder
    finally:
        store.close()
