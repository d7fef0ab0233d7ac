"""Retrieved sub-graphs written as text triples, for the `lora-kg-text` baseline (the paper's "LoRA w/ KG-Text")."""

from __future__ import annotations

from kragrec.retrieval.graph_view import KnowledgeGraph, relation_text
from kragrec.retrieval.subgraph import SubGraph

TRIPLES_PER_SUBGRAPH = 8  # the seed's own edges come first; bounds the prompt whatever the sub-graph size


def subgraphs_as_text(graph: KnowledgeGraph, subgraphs: list[SubGraph]) -> str:
    """'(head; relation; tail)' triples of each sub-graph, seed edges first, without repeats, joined by spaces."""
    text_of = dict(zip(graph.entity_ids, graph.entity_texts, strict=True))
    written: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for subgraph in subgraphs:
        by_seed_first = sorted(subgraph.edges, key=lambda edge: subgraph.seed not in (edge[0], edge[2]))
        fresh = [edge for edge in by_seed_first if edge not in seen][:TRIPLES_PER_SUBGRAPH]
        seen.update(fresh)
        written += [f"({text_of[h]}; {relation_text(r)}; {text_of[t]})" for h, r, t in fresh]
    return " ".join(written)
