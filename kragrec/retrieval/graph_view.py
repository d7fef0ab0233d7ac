"""The knowledge graph as read from the graph store with Cypher: entities, items and typed edges as arrays; and its
snapshot beside an index, which readers of the same load open instead of reading every row again."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from kragrec.errors import KragrecError
from kragrec.files import replace_file_atomically
from kragrec.graph.store import GraphStore


@dataclass(frozen=True)
class ItemRecord:
    """An item as the retriever needs it: text to query with, popularity, linked entity."""

    id: str
    text: str
    popularity: int
    pop_pct: float
    entity_id: str | None


@dataclass(frozen=True)
class KnowledgeGraph:
    """Entities in a fixed order (row i of every vector matrix), and REL edges as index arrays."""

    fingerprint: str
    entity_ids: list[str]
    entity_texts: list[str]
    entity_item: list[str | None]
    entity_pop_pct: list[float | None]
    relations: list[str]
    heads: np.ndarray
    tails: np.ndarray
    edge_relations: np.ndarray
    items: dict[str, ItemRecord]

    @property
    def degrees(self) -> np.ndarray:
        """Undirected REL degree of every entity."""
        counts = np.bincount(self.heads, minlength=len(self.entity_ids))
        return counts + np.bincount(self.tails, minlength=len(self.entity_ids))


def relation_text(relation: str) -> str:
    """'film.film.directed_by' -> 'film film directed by': the text a relation is embedded from."""
    return relation.replace(".", " ").replace("_", " ").strip()


def item_text(title: str, year: int | None) -> str:
    """The query text of an item: its title with the year, as entity texts are written."""
    return f"{title} ({year})" if year is not None else title


def graph_fingerprint(store: GraphStore) -> str:
    """The load fingerprint of the store's dataset; an index built from another load is stale."""
    rows = [r for r in store.run("get_dataset") if r["complete"]]
    if not rows:
        raise KragrecError("the graph store holds no complete load: run 'kragrec load-kg' first")
    return str(rows[0]["fingerprint"])


def read_knowledge_graph(store: GraphStore) -> KnowledgeGraph:
    """Read entities, items and REL edges from the store (never from the raw files)."""
    fingerprint = graph_fingerprint(store)
    ids: list[str] = []
    texts: list[str] = []
    linked: list[str | None] = []
    pop: list[float | None] = []
    for row in store.run("read_entities"):
        if ids and ids[-1] == row["id"]:
            continue  # an entity linked by several items keeps its first item
        ids.append(row["id"])
        texts.append(row["text"] or row["id"])
        linked.append(row["item_id"])
        pop.append(row["pop_pct"])
    index = {entity: n for n, entity in enumerate(ids)}
    edges = store.run("read_kg_edges")
    relations = sorted({e["type"] for e in edges})
    relation_index = {r: n for n, r in enumerate(relations)}
    items = {
        r["id"]: ItemRecord(r["id"], item_text(r["title"], r["year"]), r["popularity"], r["pop_pct"], r["entity_id"])
        for r in store.run("read_items")
    }
    return KnowledgeGraph(
        fingerprint=fingerprint,
        entity_ids=ids,
        entity_texts=texts,
        entity_item=linked,
        entity_pop_pct=pop,
        relations=relations,
        heads=np.array([index[e["head"]] for e in edges], dtype=np.int64),
        tails=np.array([index[e["tail"]] for e in edges], dtype=np.int64),
        edge_relations=np.array([relation_index[e["type"]] for e in edges], dtype=np.int64),
        items=items,
    )


SNAPSHOT_VERSION = 1
# KnowledgeGraph fields a snapshot stores as JSON lists, and those that are int64 arrays in memory.
SNAPSHOT_LISTS = ("entity_ids", "entity_texts", "entity_item", "entity_pop_pct", "relations")
SNAPSHOT_ARRAYS = ("heads", "tails", "edge_relations")


def write_graph_snapshot(graph: KnowledgeGraph, path: Path) -> None:
    """Save the graph as read (one JSON file, replaced atomically), so a reader of the same load skips the store."""
    snapshot = {
        "version": SNAPSHOT_VERSION,
        "fingerprint": graph.fingerprint,
        **{name: getattr(graph, name) for name in SNAPSHOT_LISTS},
        **{name: getattr(graph, name).tolist() for name in SNAPSHOT_ARRAYS},
        "items": [asdict(item) for item in graph.items.values()],
    }
    with replace_file_atomically(path) as partial:
        partial.write_text(json.dumps(snapshot, ensure_ascii=False), encoding="utf-8")


def read_graph_snapshot(path: Path, fingerprint: str) -> KnowledgeGraph | None:
    """The graph saved by write_graph_snapshot, if the file is there, readable and of this load; else None."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("version") != SNAPSHOT_VERSION:
        return None
    if stored.get("fingerprint") != fingerprint:
        return None
    lists = {name: stored[name] for name in SNAPSHOT_LISTS}
    arrays = {name: np.array(stored[name], dtype=np.int64) for name in SNAPSHOT_ARRAYS}
    items = {item["id"]: ItemRecord(**item) for item in stored["items"]}
    return KnowledgeGraph(fingerprint=fingerprint, **lists, **arrays, items=items)
