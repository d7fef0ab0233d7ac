"""A user's retrieved evidence as plain data: for the terminal tree, --json and the HTML view."""

from __future__ import annotations

from typing import Any

from kragrec.config import Settings
from kragrec.data.prepare import prepared_file
from kragrec.errors import KragrecError
from kragrec.files import read_jsonl
from kragrec.retrieval.retriever import Retrieval, Retriever


def prepared_sample(settings: Settings, user: str, split: str) -> dict[str, Any]:
    """The prepared valid/test sample of a user."""
    path = prepared_file(settings, split)
    for record in read_jsonl(path):
        if record["user"] == user:
            return record
    raise KragrecError(f"user {user!r} has no {split} sample in {path}")


def evidence(retriever: Retriever, sample: dict[str, Any], retrieval: Retrieval) -> dict[str, Any]:
    """History with popularity and augmentation marks, and every kept sub-graph with readable texts."""
    graph = retriever.graph
    text_of = dict(zip(graph.entity_ids, graph.entity_texts, strict=True))
    augmented = set(retrieval.augmented)
    return {
        "user": sample["user"],
        "target": sample["target"],
        "history": [
            {
                "item": item,
                "title": graph.items[item].text,
                "pop_pct": round(graph.items[item].pop_pct, 4),
                "augmented": item in augmented,
            }
            for item in sample["history"]
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
