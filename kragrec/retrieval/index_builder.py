"""`kragrec index`: text vectors → hop-field layers → the vector store, resumable, idempotent and stale-aware."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kragrec.config import Settings
from kragrec.errors import KragrecError
from kragrec.files import replace_file_atomically, write_json
from kragrec.graph.backends import reading_graph_store
from kragrec.retrieval.graph_view import (
    KnowledgeGraph,
    read_graph_snapshot,
    read_knowledge_graph,
    relation_text,
    write_graph_snapshot,
)
from kragrec.retrieval.hop_field import hop_field_layers, official_layers
from kragrec.retrieval.index_spec import (
    GRAPH_FILE,
    ITEM_QUERIES_FILE,
    META_FILE,
    VECTORS_FILE,
    IndexSpec,
    current_spec,
    index_dir,
    is_complete,
    read_local_meta,
)
from kragrec.retrieval.query_encoder import ensure_export, load_query_encoder
from kragrec.vectors.backends import describe_store, open_vector_store
from kragrec.vectors.store import VectorStore
from kragrec.writer_lock import data_dir_writer

UPSERT_BATCH = 1024


@dataclass
class IndexReport:
    """What `kragrec index` did."""

    spec: IndexSpec
    points: int
    dim: int
    up_to_date: bool
    seconds: dict[str, float]
    store: str = ""  # which vector store holds it, in words


def compute_layers(graph: KnowledgeGraph, spec: IndexSpec, settings: Settings) -> dict[str, np.ndarray]:
    """Encode entity and relation texts, then build every hop layer; returns named unit-vector matrices."""
    from kragrec.retrieval.encoder import load_text_encoder  # torch: only when the vectors are computed

    encoder = load_text_encoder(spec.encoder, settings.cache_dir)
    texts = encoder.encode(graph.entity_texts, batch_size=128, show_progress=True)
    relations = encoder.encode([relation_text(r) for r in graph.relations])
    if spec.indexer == "official":
        layers = official_layers(graph, texts, seed=settings.seed)
    else:
        layers = hop_field_layers(graph, texts, relations, spec.hops, spec.hub_cap, seed=settings.seed)
    named = {f"hop{n}": layer for n, layer in enumerate(layers)}
    named["relations"] = relations
    return named


def _load_or_compute_vectors(
    graph: KnowledgeGraph, spec: IndexSpec, settings: Settings, folder: Path
) -> dict[str, np.ndarray]:
    meta = read_local_meta(folder)
    path = folder / VECTORS_FILE
    if meta and meta.get("spec") == asdict(spec) and path.is_file():
        with np.load(path) as stored:
            return {name: stored[name] for name in stored.files}
    vectors = compute_layers(graph, spec, settings)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{VECTORS_FILE}.partial.npz"
    np.savez(partial, **vectors)
    partial.replace(path)
    write_json(folder / META_FILE, {"spec": asdict(spec), "complete": False, "dim": int(vectors["hop0"].shape[1])})
    return vectors


def _payloads(graph: KnowledgeGraph) -> list[dict[str, Any]]:
    payloads = []
    for entity, item, pop, degree in zip(
        graph.entity_ids, graph.entity_item, graph.entity_pop_pct, graph.degrees.tolist(), strict=True
    ):
        payload: dict[str, Any] = {"entity_id": entity, "kind": "item" if item else "entity", "degree": degree}
        if item is not None:
            payload.update(item_id=item, pop_pct=pop)
        payloads.append(payload)
    return payloads


def build_index(settings: Settings, force: bool = False) -> IndexReport:
    """Build (or resume, or confirm) the index the settings describe, holding the data dir's writer lock."""
    with data_dir_writer(settings.data_dir):
        return _build_index(settings, force)


def _build_index(settings: Settings, force: bool) -> IndexReport:
    started = time.perf_counter()
    spec = current_spec(settings)
    ensure_export(spec.encoder, settings.cache_dir)  # the query-time encoder: retrieval then never imports torch
    folder = index_dir(settings, spec)
    local_meta = read_local_meta(folder)
    complete = not force and is_complete(local_meta, spec) and (folder / VECTORS_FILE).is_file()
    if complete and store_is_complete(settings, spec, local_meta):
        assert local_meta is not None
        graph = read_graph_snapshot(folder / GRAPH_FILE, spec.graph_fingerprint)
        if graph is None:  # an index built before snapshots
            graph = _read_graph(settings)
            write_graph_snapshot(graph, folder / GRAPH_FILE)
        if not (folder / ITEM_QUERIES_FILE).is_file():  # or before item query vectors
            write_item_queries(graph, spec, settings, folder)
        seconds = {"check": time.perf_counter() - started}
        return IndexReport(spec, local_meta["points"], local_meta["dim"], True, seconds, describe_store(settings))
    if force and (folder / META_FILE).is_file():
        (folder / META_FILE).unlink()
    seconds: dict[str, float] = {}
    graph = _read_graph(settings)
    seconds["read graph"] = time.perf_counter() - started
    vectors = _load_or_compute_vectors(graph, spec, settings, folder)
    seconds["vectors"] = time.perf_counter() - started - sum(seconds.values())
    dim = int(vectors["hop0"].shape[1])
    points = len(graph.entity_ids)
    store_started = time.perf_counter()
    vector_store = open_vector_store(settings)
    try:
        _upsert_resumably(vector_store, spec, vectors, _payloads(graph), dim, fresh=force)
        seconds["upsert"] = time.perf_counter() - store_started
        vector_store.optimize(spec.collection)
        found = vector_store.count(spec.collection)
        if found != points:
            raise KragrecError(f"collection {spec.collection!r} holds {found} points, expected {points}")
        meta = {"spec": asdict(spec), "complete": True, "dim": dim, "points": points, "upserted": points}
        vector_store.write_meta(spec.collection, meta)
    finally:
        vector_store.close()
    seconds["search index"] = time.perf_counter() - store_started - seconds["upsert"]
    write_graph_snapshot(graph, folder / GRAPH_FILE)
    write_item_queries(graph, spec, settings, folder)
    write_json(folder / META_FILE, meta)
    return IndexReport(spec, points, dim, False, seconds, describe_store(settings))


def write_item_queries(graph: KnowledgeGraph, spec: IndexSpec, settings: Settings, folder: Path) -> None:
    """Encode every item's query text (title and year) once, with the query-time encoder, into the index folder:
    item-level search then needs no encoder pass (only a sample's re-ranking query does)."""
    items = sorted(graph.items)
    vectors = load_query_encoder(spec.encoder, settings.cache_dir).encode([graph.items[i].text for i in items])
    with replace_file_atomically(folder / ITEM_QUERIES_FILE) as partial, partial.open("wb") as handle:
        np.savez(handle, items=np.array(items), vectors=vectors)


def _read_graph(settings: Settings) -> KnowledgeGraph:
    with reading_graph_store(settings) as store:
        return read_knowledge_graph(store)


def store_is_complete(settings: Settings, spec: IndexSpec, local_meta: dict[str, Any] | None) -> bool:
    """Whether the settings' vector store holds a finished build of the spec with all its points: the local files
    are shared by every vector backend, so they cannot tell (nor can they vouch for a server)."""
    vector_store = open_vector_store(settings)
    try:
        meta = vector_store.read_meta(spec.collection)
        return (
            is_complete(meta, spec)
            and vector_store.has_collection(spec.collection)
            and vector_store.count(spec.collection) == (local_meta or {}).get("points")
        )
    finally:
        vector_store.close()


def _upsert_resumably(
    vector_store: VectorStore,
    spec: IndexSpec,
    vectors: dict[str, np.ndarray],
    payloads: list[dict[str, Any]],
    dim: int,
    fresh: bool = False,
) -> None:
    """Continue an interrupted upsert where its metadata says it stopped; otherwise (or when `fresh`) start a fresh
    collection. A collection the store cannot read (a foreign, old-format or damaged folder) is replaced."""
    meta = None if fresh else vector_store.read_meta(spec.collection)
    start = int(meta.get("upserted", 0)) if meta is not None and meta.get("spec") == asdict(spec) else -1
    resumable = (
        start >= 0 and vector_store.has_collection(spec.collection) and vector_store.count(spec.collection) >= start
    )
    start = start if resumable else 0
    if not resumable:
        vector_store.create_collection(spec.collection, spec.vector_names, dim)
    base = {"spec": asdict(spec), "complete": False, "dim": dim, "points": len(payloads)}
    vector_store.write_meta(spec.collection, {**base, "upserted": start})

    def record(done: int) -> None:
        vector_store.write_meta(spec.collection, {**base, "upserted": done})

    layers = {name: vectors[name] for name in spec.vector_names}
    vector_store.upsert(spec.collection, layers, payloads, UPSERT_BATCH, start=start, on_batch=record)
