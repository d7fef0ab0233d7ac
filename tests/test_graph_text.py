"""Sub-graphs as text triples for the KG-text baseline: seed edges first, a cap per sub-graph, no repeats."""

from __future__ import annotations

import numpy as np

from kragrec.retrieval.graph_text import TRIPLES_PER_SUBGRAPH, subgraphs_as_text
from kragrec.retrieval.graph_view import KnowledgeGraph
from kragrec.retrieval.subgraph import SubGraph


def graph_of(ids: list[str]) -> KnowledgeGraph:
    empty = np.zeros(0, dtype=np.int64)
    return KnowledgeGraph(
        "f", ids, [f"text {i}" for i in ids], [None] * len(ids), [None] * len(ids), [], empty, empty, empty, {}
    )


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
