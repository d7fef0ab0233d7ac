"""Hop-field indexing: one vector per entity and hop layer l = 0..L.

`hop-field` (default, the paper's intent): layer 0 is the text embedding; layer l averages, over the
entity's (capped) neighbours, the message (z_m^(l-1) + r_e) / 2, adds the entity's own z^(l-1), and
re-normalises. Everything stays in the encoder's space, so a text query can be compared with any layer.

`official` (the released code): a random, untrained linear layer per step and a degree-normalised
directed sum over out-edges, ReLU, no self loops, relations ignored; layers 0 and 1 only.
"""

from __future__ import annotations

import numpy as np
import torch

from kragrec.retrieval.graph_view import KnowledgeGraph


def _normalise(vectors: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(vectors, p=2, dim=1)


def capped_messages(graph: KnowledgeGraph, hub_cap: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undirected messages (receiver, sender, relation), at most hub_cap per receiver, chosen at random with a seed."""
    receivers = np.concatenate([graph.tails, graph.heads])
    senders = np.concatenate([graph.heads, graph.tails])
    relations = np.concatenate([graph.edge_relations, graph.edge_relations])
    keys = np.random.default_rng(seed).random(len(receivers))
    order = np.lexsort((keys, receivers))
    receivers, senders, relations = receivers[order], senders[order], relations[order]
    starts = np.searchsorted(receivers, receivers, side="left")
    keep = (np.arange(len(receivers)) - starts) < hub_cap
    return receivers[keep], senders[keep], relations[keep]


def _row_mean_matrix(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> torch.Tensor:
    """Sparse matrix whose row r averages the columns listed for r (duplicates count twice)."""
    counts = np.bincount(rows, minlength=shape[0]).astype(np.float32)
    values = 1.0 / counts[rows]
    indices = torch.from_numpy(np.stack([rows, cols]))
    return torch.sparse_coo_tensor(indices, torch.from_numpy(values), shape, check_invariants=True).coalesce()


def hop_field_layers(
    graph: KnowledgeGraph,
    text_vectors: np.ndarray,
    relation_vectors: np.ndarray,
    hops: int,
    hub_cap: int,
    seed: int = 0,
) -> list[np.ndarray]:
    """Layers 0..hops of the parameter-free hop-field aggregation, unit vectors in the encoder's space."""
    receivers, senders, relations = capped_messages(graph, hub_cap, seed)
    n = len(graph.entity_ids)
    neighbour_mean = _row_mean_matrix(receivers, senders, (n, n))
    relation_mean = _row_mean_matrix(receivers, relations, (n, len(graph.relations)))
    has_neighbours = torch.from_numpy(np.bincount(receivers, minlength=n) > 0).unsqueeze(1)
    relation_part = torch.sparse.mm(relation_mean, torch.from_numpy(relation_vectors))
    layers = [torch.from_numpy(text_vectors)]
    for _ in range(hops):
        previous = layers[-1]
        message = (torch.sparse.mm(neighbour_mean, previous) + relation_part) / 2
        layers.append(torch.where(has_neighbours, _normalise(previous + message), previous))
    return [layer.numpy().astype(np.float32) for layer in layers]


def official_layers(graph: KnowledgeGraph, text_vectors: np.ndarray, seed: int = 0) -> list[np.ndarray]:
    """Layers 0 and 1 as the released code builds them: ReLU(A_w (W x0)) with a random, untrained W."""
    n, dim = text_vectors.shape
    out_degree = np.bincount(graph.heads, minlength=n).astype(np.float32)
    with np.errstate(divide="ignore"):
        inv_sqrt = np.where(out_degree > 0, out_degree**-0.5, 0.0).astype(np.float32)
    weights = inv_sqrt[graph.heads] * inv_sqrt[graph.tails]
    adjacency = torch.sparse_coo_tensor(
        torch.from_numpy(np.stack([graph.heads, graph.tails])), torch.from_numpy(weights), (n, n), check_invariants=True
    ).coalesce()
    generator = torch.Generator().manual_seed(seed)
    linear = torch.nn.Linear(dim, dim)
    with torch.no_grad():
        bound = 1 / dim**0.5
        linear.weight.uniform_(-bound, bound, generator=generator)
        linear.bias.uniform_(-bound, bound, generator=generator)
        layer1 = torch.relu(torch.sparse.mm(adjacency, linear(torch.from_numpy(text_vectors))))
    return [text_vectors.astype(np.float32), layer1.numpy().astype(np.float32)]
