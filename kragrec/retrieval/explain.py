"""A user's retrieved evidence as plain data: for the terminal tree, --json and the HTML view."""

from __future__ import annotations

from typing import Any

from kragrec.data.sample import Record
from kragrec.retrieval.retriever import Retrieval, Retriever


def evidence(retriever: Retriever, record: Record, retrieval: Retrieval) -> dict[str, Any]:
    """The record's history with popularity and augmentation marks (its target, None when unknown), and every kept
    sub-graph with readable texts."""
    graph = retriever.graph
    text_of = dict(zip(graph.entity_ids, graph.entity_texts, strict=True))
    augmented = set(retrieval.augmented)
    return {
        "user": record.user,
        "target": record.target or None,
        "history": [
            {
                "item": item,
                "title": graph.items[item].text,
                "pop_pct": round(graph.items[item].pop_pct, 4),
                "augmented": item in augmented,
            }
            for item in record.history
        ],
        "subgraphs": [
            {
                "rank": rank,
                "entity_id": subgraph.seed,
                "entity_text": text_of[subgraph.seed],
                "layer": candidate.layer,
                "score": round(candidate.score, 4),
                "nodes": [{"id": node, "text": text_of[node]} for node in subgraph.nodes],
                "edges": [{"head": h, "relation": r, "tail": t} for h, r, t in subgraph.edges],
            }
            for rank, (candidate, subgraph) in enumerate(zip(retrieval.kept, retrieval.subgraphs, strict=True), start=1)
        ],
        "timings_ms": {name: round(1000 * seconds, 3) for name, seconds in retrieval.timings.items()},
    }
