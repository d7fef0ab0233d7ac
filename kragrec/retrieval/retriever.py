"""K-RagRec retrieval for one sample: policy → per-item top-k over all hop layers → re-rank to N → sub-graphs.

Item-level hits and sub-graphs do not depend on the user and are cached; per sample only the re-rank runs
(plus encoding the sample's query text, unless it was encoded in a batch beforehand).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from kragrec.config import Settings
from kragrec.retrieval.graph_view import KnowledgeGraph
from kragrec.retrieval.policy import items_to_augment
from kragrec.retrieval.subgraph import GraphFeatures, SubGraph, SubGraphExtractor
from kragrec.vectors.store import VectorStore


@dataclass(frozen=True)
class Candidate:
    """A stored sub-graph vector: entity row, hop layer, and its score against the query that found it."""

    row: int
    layer: int
    score: float


@dataclass
class Retrieval:
    """What was retrieved for a sample, and how long each step took (seconds)."""

    augmented: list[str]
    kept: list[Candidate]
    subgraphs: list[SubGraph]
    timings: dict[str, float] = field(default_factory=dict)


class SentenceEncoder(Protocol):
    """What retrieval needs of an encoder: texts in, float32 unit vectors out (one row per text)."""

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Embed texts, returned in the input order."""
        ...


def retrieval_query_text(history_texts: Sequence[str]) -> str:
    """The re-ranking query of K-RagRec eq. 6, built from the user's history."""
    return f"What is the top recommended movie for the user who watched {', '.join(history_texts)}?"


class Retriever:
    """Ties the graph, its layer vectors, the encoder, the vector store and the graph store together, with caches."""

    def __init__(
        self,
        settings: Settings,
        graph: KnowledgeGraph,
        layers: list[np.ndarray],
        relation_vectors: np.ndarray,
        encoder: SentenceEncoder,
        vector_store: VectorStore,
        collection: str,
        extractor: SubGraphExtractor,
        item_queries: dict[str, np.ndarray] | None = None,
    ) -> None:
        self.settings = settings
        self.graph = graph
        self.layers = layers
        self.features = GraphFeatures(
            row_of={entity: n for n, entity in enumerate(graph.entity_ids)},
            node_vectors=layers[0],
            relation_vectors=relation_vectors,
            relation_index={relation: n for n, relation in enumerate(graph.relations)},
        )
        self.encoder = encoder
        self.vector_store = vector_store
        self.collection = collection
        self.extractor = extractor
        self.vector_names = [f"hop{n}" for n in range(len(layers))]
        self.pop_pct = {item.id: item.pop_pct for item in graph.items.values()}
        self.item_hits: dict[str, list[Candidate]] = {}
        self.subgraphs: dict[tuple[str, int], SubGraph] = {}
        self.query_vectors: dict[str, np.ndarray] = {}
        # Item query vectors: saved by `kragrec index` (index content, not a cache), or encoded when first needed.
        self.item_queries: dict[str, np.ndarray] = dict(item_queries or {})

    def clear_caches(self) -> None:
        """Forget every cached result (item hits, sub-graphs, encoded sample queries), so the next retrieval runs
        cold: the sample's query encoding, vector search and Cypher. The item query vectors of the index stay."""
        self.item_hits.clear()
        self.subgraphs.clear()
        self.query_vectors.clear()
        self.extractor.clear()

    def select(self, history: Sequence[str], training: bool = False) -> list[str]:
        """History items the popularity policy sends to retrieval."""
        s = self.settings
        return items_to_augment(history, self.pop_pct, s.policy, s.pop_threshold, training)

    def hits_for_items(self, items: Sequence[str]) -> dict[str, list[Candidate]]:
        """Top-k (entity, layer) vectors per item, from the cache or one batched vector-store request."""
        missing = [item for item in dict.fromkeys(items) if item not in self.item_hits]
        if missing:
            unencoded = [item for item in missing if item not in self.item_queries]
            if unencoded:
                encoded = self.encoder.encode([self.graph.items[item].text for item in unencoded])
                self.item_queries.update(zip(unencoded, encoded, strict=True))
            queries = np.stack([self.item_queries[item] for item in missing])
            found = self.vector_store.search(self.collection, queries, self.vector_names, self.settings.top_k)
            for item, hits in zip(missing, found, strict=True):
                self.item_hits[item] = [Candidate(h.point_id, int(h.vector_name[3:]), h.score) for h in hits]
        return {item: self.item_hits[item] for item in items}

    def encode_queries(self, texts: Sequence[str]) -> None:
        """Encode many samples' query texts in one batch, so later retrievals skip the encoder."""
        missing = [t for t in dict.fromkeys(texts) if t not in self.query_vectors]
        if missing:
            self.query_vectors.update(zip(missing, self.encoder.encode(missing), strict=True))

    def rerank(self, candidates: Sequence[Candidate], query: np.ndarray) -> list[Candidate]:
        """Union of the candidates (one per entity and layer), ordered by cosine with the query, first N kept."""
        unique = list({(c.row, c.layer): c for c in candidates}.values())
        if not unique:
            return []
        matrix = np.stack([self.layers[c.layer][c.row] for c in unique])
        norms = np.linalg.norm(matrix, axis=1)
        scores = matrix @ query / np.where(norms > 0, norms, 1.0)
        order = sorted(range(len(unique)), key=lambda i: (-scores[i], unique[i].row, unique[i].layer))
        return [Candidate(unique[i].row, unique[i].layer, float(scores[i])) for i in order[: self.settings.top_n]]

    def best_hits(self, candidates: Sequence[Candidate]) -> list[Candidate]:
        """Without re-ranking: the union of the hits ordered by their own search score, first N kept."""
        unique = list({(c.row, c.layer): c for c in candidates}.values())
        unique.sort(key=lambda c: (-c.score, c.row, c.layer))
        return unique[: self.settings.top_n]

    def subgraphs_for(self, kept: Sequence[Candidate]) -> list[SubGraph]:
        """The l-hop sub-graph of every kept (entity, layer l), extracted in batched queries when not cached."""
        keys = [(self.graph.entity_ids[c.row], c.layer) for c in kept]
        missing = [key for key in dict.fromkeys(keys) if key not in self.subgraphs]
        if missing:
            self.subgraphs.update(self.extractor.extract(missing))
        return [self.subgraphs[key] for key in keys]

    def retrieve(self, history: Sequence[str], training: bool = False) -> Retrieval:
        """Full retrieval for one sample's history."""
        clock = time.perf_counter()
        timings: dict[str, float] = {}

        def lap(name: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[name] = now - clock
            clock = now

        augmented = self.select(history, training)
        hits = self.hits_for_items(augmented)
        lap("item search")
        text = retrieval_query_text([self.graph.items[item].text for item in history])
        self.encode_queries([text])
        lap("query encoding")
        found = [c for item in augmented for c in hits[item]]
        kept = self.rerank(found, self.query_vectors[text]) if self.settings.rerank else self.best_hits(found)
        lap("re-rank")
        subgraphs = self.subgraphs_for(kept)
        lap("sub-graphs")
        return Retrieval(augmented, kept, subgraphs, timings)
