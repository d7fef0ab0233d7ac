"""Open a ready retriever for the settings, with its item-level and sub-graph caches persisted as JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from kragrec.config import Settings
from kragrec.errors import KragrecError
from kragrec.files import write_json
from kragrec.graph.backends import open_graph_store
from kragrec.retrieval.graph_view import read_graph_snapshot, read_knowledge_graph
from kragrec.retrieval.index_spec import (
    GRAPH_FILE,
    VECTORS_FILE,
    IndexSpec,
    current_spec,
    index_dir,
    is_complete,
    read_item_queries,
    read_local_meta,
)
from kragrec.retrieval.query_encoder import load_query_encoder
from kragrec.retrieval.retriever import Candidate, Retriever
from kragrec.retrieval.subgraph import SubGraph, SubGraphExtractor
from kragrec.vectors.backends import open_vector_store, opens_cheaply, store_identity
from kragrec.vectors.store import VectorStore


class LazyVectorStore:
    """Opens the vector store on first use: local mode loads every point when opened, and a warm cache needs none."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._store: VectorStore | None = None

    def __getattr__(self, name: str) -> Any:
        if self._store is None:
            self._store = open_vector_store(self._settings)
        return getattr(self._store, name)

    def close(self) -> None:
        """Close the store if it was opened."""
        if self._store is not None:
            self._store.close()


def cache_path(settings: Settings, spec: IndexSpec) -> Path:
    """Where the retrieval cache for these settings lives."""
    return index_dir(settings, spec) / f"retrieval-cache-k{settings.top_k}-f{settings.fanout}.json"


def _cache_key(settings: Settings, spec: IndexSpec) -> dict[str, Any]:
    """What a cache's hits were computed from: the index spec, the vector store holding it, and the sizes asked."""
    return {
        "spec": asdict(spec),
        "vector_store": store_identity(settings),
        "top_k": settings.top_k,
        "fanout": settings.fanout,
    }


def load_cache(retriever: Retriever, path: Path, key: dict[str, Any]) -> None:
    """Fill the retriever's item hits and sub-graphs from a cache file written for the same key."""
    if not path.is_file():
        return
    stored = json.loads(path.read_text(encoding="utf-8"))
    if stored.get("key") != key:
        return
    retriever.item_hits.update(
        {item: [Candidate(row, layer, score) for row, layer, score in hits] for item, hits in stored["items"].items()}
    )
    for seed, hops, nodes, edges in stored["subgraphs"]:
        retriever.subgraphs[(seed, hops)] = SubGraph(seed, hops, tuple(nodes), tuple(tuple(e) for e in edges))


def save_cache(retriever: Retriever, path: Path, key: dict[str, Any]) -> None:
    """Write the retriever's item hits and sub-graphs."""
    write_json(
        path,
        {
            "key": key,
            "items": {item: [[c.row, c.layer, c.score] for c in hits] for item, hits in retriever.item_hits.items()},
            "subgraphs": [
                [g.seed, g.hops, list(g.nodes), [list(e) for e in g.edges]] for g in retriever.subgraphs.values()
            ],
        },
    )


def _store_has_index(settings: Settings, spec: IndexSpec) -> bool:
    """Whether the vector store holds a finished build of the spec, where that is cheap to ask (edge: two small
    files); local mode and a server are trusted to match the local files until the first search, which fails
    in one line when the collection is missing."""
    if not opens_cheaply(settings):
        return True
    store = open_vector_store(settings)
    try:
        return is_complete(store.read_meta(spec.collection), spec)
    finally:
        store.close()


@contextmanager
def open_retriever(settings: Settings, persist_cache: bool = True) -> Iterator[Retriever]:
    """A retriever over the current index; fails with a clear message when the index is missing or stale."""
    spec = current_spec(settings)
    folder = index_dir(settings, spec)
    if not is_complete(read_local_meta(folder), spec) or not _store_has_index(settings, spec):
        raise KragrecError(
            f"no up-to-date index {spec.collection!r} for the loaded graph and these settings: run 'kragrec index'"
        )
    with np.load(folder / VECTORS_FILE) as stored:
        layers = [stored[name] for name in spec.vector_names]
        relation_vectors = stored["relations"]
    store = open_graph_store(settings, read_only=True)
    vector_store = LazyVectorStore(settings)
    try:
        graph = read_graph_snapshot(folder / GRAPH_FILE, spec.graph_fingerprint) or read_knowledge_graph(store)
        encoder = load_query_encoder(spec.encoder, settings.cache_dir)
        extractor = SubGraphExtractor(store, settings.fanout)
        retriever = Retriever(
            settings,
            graph,
            layers,
            relation_vectors,
            encoder,
            vector_store,  # type: ignore[arg-type]
            spec.collection,
            extractor,
            read_item_queries(folder),
        )
        key = _cache_key(settings, spec)
        path = cache_path(settings, spec)
        load_cache(retriever, path, key)
        yield retriever
        if persist_cache:
            save_cache(retriever, path, key)
    finally:
        vector_store.close()
        store.close()
