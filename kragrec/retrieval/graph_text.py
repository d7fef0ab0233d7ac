"""Retrieved sub-graphs written as text triples, for the `lora-kg-text` baseline (the paper's "LoRA w/ KG-Text")."""

from __future__ import annotations

from itertools import chain, zip_longest

from kragrec.retrieval.graph_view import KnowledgeGraph, relation_text
from kragrec.retrieval.subgraph import SubGraph

TRIPLES_PER_SUBGRAPH = 8  # the seed's own edges come first
ENTITY_CHARS = 40  # entities without a name are described by their neighbours, often hundreds of characters
EVIDENCE_CHARS = 1200  # ML-100K valid prompts: 620 SmolLM2 tokens on average, 995 at most (511 and 552 without)


def _clipped(text: str) -> str:
    return text if len(text) <= ENTITY_CHARS else text[: ENTITY_CHARS - 1].rstrip() + "…"


def subgraphs_as_text(graph: KnowledgeGraph, subgraphs: list[SubGraph]) -> str:
    """'(head; relation; tail)' triples, joined by spaces, within EVIDENCE_CHARS characters.

    Each sub-graph offers up to TRIPLES_PER_SUBGRAPH triples not written before, seed edges first; the sub-graphs
    take turns (best first), so a tight budget still shows the top triples of every sub-graph.
    """
    text_of = dict(zip(graph.entity_ids, graph.entity_texts, strict=True))
    offered: list[list[tuple[str, str, str]]] = []
    seen: set[tuple[str, str, str]] = set()
    for subgraph in subgraphs:
        by_seed_first = sorted(subgraph.edges, key=lambda edge: subgraph.seed not in (edge[0], edge[2]))
        fresh = [edge for edge in by_seed_first if edge not in seen][:TRIPLES_PER_SUBGRAPH]
        seen.update(fresh)
        offered.append(fresh)
    written: list[str] = []
    used = 0
    for head, relation, tail in (e for e in chain.from_iterable(zip_longest(*offered)) if e is not None):
        triple = f"({_clipped(text_of[head])}; {relation_text(relation)}; {_clipped(text_of[tail])})"
        if used + len(triple) + 1 > EVIDENCE_CHARS:
            break
        written.append(triple)
        used += len(triple) + 1
    return " ".join(written)
