"""Sub-graphs as text triples for the KG-text baseline: seed edges first, a cap per sub-graph, no repeats, a budget."""

from __future__ import annotations

import numpy as np

from kragrec.retrieval.graph_text import ENTITY_CHARS, EVIDENCE_CHARS, TRIPLES_PER_SUBGRAPH, subgraphs_as_text
from kragrec.retrieval.graph_view import KnowledgeGraph
from kragrec.retrieval.subgraph import SubGraph


def graph_of(ids: list[str], padding: int = 0) -> KnowledgeGraph:
    empty = np.zeros(0, dtype=np.int64)
    texts = [f"text {i}" + " x" * padding for i in ids]
    return KnowledgeGraph("f", ids, texts, [None] * len(ids), [None] * len(ids), [], empty, empty, empty, {})


def test_seed_edges_come_first_and_each_subgraph_is_capped():
    ids = [f"e{n}" for n in range(30)]
    far = tuple((f"e{n}", "film.genre", f"e{n + 1}") for n in range(1, 20))
    seeded = (("e0", "film.film.directed_by", "e25"), ("e26", "people.person.films", "e0"))
    text = subgraphs_as_text(graph_of(ids), [SubGraph("e0", 2, tuple(ids), far + seeded)])
    triples = text.split(") (")
    assert len(triples) == TRIPLES_PER_SUBGRAPH
    assert text.startswith("(text e0; film film directed by; text e25) (text e26; people person films; text e0)")


def test_a_triple_shared_by_two_subgraphs_is_written_once():
    ids = ["a", "b", "c"]
    shared = ("a", "rel", "b")
    subgraphs = [
        SubGraph("a", 1, ("a", "b"), (shared,)),
        SubGraph("b", 1, ("b", "a", "c"), (shared, ("b", "rel", "c"))),
    ]
    assert subgraphs_as_text(graph_of(ids), subgraphs) == "(text a; rel; text b) (text b; rel; text c)"


def test_subgraphs_take_turns_within_the_character_budget():
    ids = [f"e{n}" for n in range(200)]
    subgraphs = [
        SubGraph(f"e{s}", 1, (), tuple((f"e{s}", "rel", f"e{s + n}") for n in range(1, 9))) for s in (0, 50, 100)
    ]
    everything = subgraphs_as_text(graph_of(ids), subgraphs)
    assert everything.startswith("(text e0; rel; text e1) (text e50; rel; text e51) (text e100; rel; text e101)")
    assert len(everything.split(") (")) == 3 * TRIPLES_PER_SUBGRAPH
    clipped = subgraphs_as_text(graph_of(ids, padding=150), subgraphs)
    assert len(clipped) <= EVIDENCE_CHARS
    triples = clipped.split(") (")
    assert 3 <= len(triples) < 3 * TRIPLES_PER_SUBGRAPH
    assert all(len(part) <= ENTITY_CHARS for triple in triples for part in triple.strip("()").split("; ")[::2])
    head, relation, tail = triples[0].strip("(").split("; ")
    assert head == "text e0" + " x" * 16 + "…" and relation == "rel" and tail.startswith("text e1 x")
