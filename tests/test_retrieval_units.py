"""Pure pieces of retrieval: popularity policy, re-rank order, hop-field arithmetic, official indexer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kragrec.retrieval.graph_view import KnowledgeGraph
from kragrec.retrieval.hop_field import capped_messages, hop_field_layers, official_layers
from kragrec.retrieval.policy import items_to_augment
from kragrec.retrieval.retriever import Candidate, Retriever

POP = {"a": 0.9, "b": 0.1, "c": 0.5, "d": 0.3, "e": 0.7, "f": 0.05}
HISTORY = ["a", "b", "c", "d", "e", "f", "b"]


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [
        (0.0, []),
        (0.1, ["f"]),
        (0.3, ["b", "f"]),
        (0.5, ["b", "d", "f"]),
        (0.51, ["b", "c", "d", "f"]),
        (1.0, list("abcdef")),
    ],
)
def test_paper_policy_keeps_items_strictly_below_threshold(threshold, expected):
    assert items_to_augment(HISTORY, POP, "paper", threshold) == expected


@pytest.mark.parametrize(
    ("threshold", "expected"), [(0.5, ["b", "d", "f"]), (0.2, ["f"]), (0.34, ["b", "f"]), (0.1, [])]
)
def test_relative_policy_takes_the_least_popular_share_of_the_history(threshold, expected):
    # 6 distinct items: floor(p * 6) of them, least popular first, reported in history order.
    assert items_to_augment(HISTORY, POP, "relative", threshold) == expected


def test_official_policy_reproduces_the_released_train_and_eval_behaviour():
    assert items_to_augment(HISTORY, POP, "official", 0.5, training=False) == ["f"]
    assert items_to_augment(HISTORY, POP, "official", 0.5, training=True) == list("abcdef")


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def small_graph(heads, tails, relations, n) -> KnowledgeGraph:
    return KnowledgeGraph(
        fingerprint="f",
        entity_ids=[f"e{i}" for i in range(n)],
        entity_texts=[f"e{i}" for i in range(n)],
        entity_item=[None] * n,
        entity_pop_pct=[None] * n,
        relations=["r0", "r1"],
        heads=np.array(heads),
        tails=np.array(tails),
        edge_relations=np.array(relations),
        items={},
    )


def test_rerank_matches_a_brute_force_numpy_reference():
    rng = np.random.default_rng(3)
    layers = [unit(rng.normal(size=(50, 16))) for _ in range(3)]
    retriever = Retriever.__new__(Retriever)
    retriever.layers = layers
    retriever.settings = type("S", (), {"top_n": 5})()
    candidates = [Candidate(int(r), int(layer), 0.0) for r, layer in rng.integers(0, [50, 3], size=(20, 2))]
    candidates += candidates[:4]  # duplicates from several items collapse into one
    query = unit(rng.normal(size=(1, 16)))[0]
    unique = sorted({(c.row, c.layer) for c in candidates})
    scores = np.array([layers[layer][row] @ query for row, layer in unique])
    expected = [unique[i] for i in np.argsort(-scores, kind="stable")[:5]]
    kept = retriever.rerank(candidates, query)
    assert [(c.row, c.layer) for c in kept] == expected
    assert [c.score for c in kept] == pytest.approx(sorted(scores, reverse=True)[:5], abs=1e-6)


def test_hop_field_layer_equals_the_formula_and_keeps_isolated_nodes():
    # e0 - e1 (r0), e0 - e2 (r1); e3 isolated.
    graph = small_graph([0, 0], [1, 2], [0, 1], 4)
    rng = np.random.default_rng(0)
    x, rel = unit(rng.normal(size=(4, 8))), unit(rng.normal(size=(2, 8)))
    layers = hop_field_layers(graph, x, rel, hops=2, hub_cap=10)
    message0 = ((x[1] + rel[0]) / 2 + (x[2] + rel[1]) / 2) / 2
    expected0 = (x[0] + message0) / np.linalg.norm(x[0] + message0)
    np.testing.assert_allclose(layers[1][0], expected0, atol=1e-6)
    expected1 = x[1] + (x[0] + rel[0]) / 2
    np.testing.assert_allclose(layers[1][1], expected1 / np.linalg.norm(expected1), atol=1e-6)
    np.testing.assert_allclose(layers[2][3], x[3], atol=1e-7)
    assert np.allclose(np.linalg.norm(layers[2], axis=1), 1.0, atol=1e-5)


def test_hub_cap_bounds_the_messages_each_entity_averages():
    hub_edges = 30
    graph = small_graph([0] * hub_edges, list(range(1, hub_edges + 1)), [0] * hub_edges, hub_edges + 1)
    receivers, senders, _ = capped_messages(graph, hub_cap=7, seed=1)
    assert np.bincount(receivers)[0] == 7
    assert sorted(set(senders[receivers == 0])) == sorted(senders[receivers == 0])  # distinct neighbours
    assert all(np.bincount(receivers)[1:] == 1)


def test_official_indexer_is_the_released_degree_normalised_random_projection():
    graph = small_graph([0, 0, 1], [1, 2, 2], [0, 0, 1], 3)
    x = unit(np.random.default_rng(5).normal(size=(3, 4)))
    layer0, layer1 = official_layers(graph, x, seed=11)
    np.testing.assert_array_equal(layer0, x)
    out_degree = np.array([2.0, 1.0, 0.0])
    generator = torch.Generator().manual_seed(11)
    weight = torch.empty(4, 4).uniform_(-0.5, 0.5, generator=generator).numpy()
    bias = torch.empty(4).uniform_(-0.5, 0.5, generator=generator).numpy()
    projected = x @ weight.T + bias
    expected = np.zeros_like(x)
    for h, t in [(0, 1), (0, 2), (1, 2)]:
        weight_ht = out_degree[h] ** -0.5 * (out_degree[t] ** -0.5 if out_degree[t] else 0.0)
        expected[h] += weight_ht * projected[t]
    np.testing.assert_allclose(layer1, np.maximum(expected, 0), atol=1e-6)
    assert not layer1[2].any()  # no self loops, no out-edges: the released code leaves it zero
