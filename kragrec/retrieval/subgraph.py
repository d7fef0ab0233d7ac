"""l-hop sub-graphs around entities, extracted from the graph store with a per-hop fan-out cap."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kragrec.graph.store import GraphStore

if TYPE_CHECKING:
    from torch_geometric.data import Data

Edge = tuple[str, str, str]  # (head id, relation type, tail id), as stored


@dataclass(frozen=True)
class SubGraph:
    """The seed entity first, then the other nodes in discovery order; edges keep their stored direction."""

    seed: str
    hops: int
    nodes: tuple[str, ...]
    edges: tuple[Edge, ...]


@dataclass(frozen=True)
class GraphFeatures:
    """What sub-graph tensors are built from: layer-0 entity vectors and relation vectors, with their indexes."""

    row_of: dict[str, int]
    node_vectors: np.ndarray
    relation_vectors: np.ndarray
    relation_index: dict[str, int]

    def data(self, subgraph: SubGraph) -> Data:
        """PyG Data: x = layer-0 vectors, edges in both directions, edge_attr = relation embeddings."""
        import torch  # here, not at the top: retrieval alone (kragrec retrieve) never needs torch
        from torch_geometric.data import Data

        local = {node: n for n, node in enumerate(subgraph.nodes)}
        x = torch.from_numpy(self.node_vectors[[self.row_of[node] for node in subgraph.nodes]])
        heads = [local[h] for h, _, _ in subgraph.edges]
        tails = [local[t] for _, _, t in subgraph.edges]
        relations = [self.relation_index[r] for _, r, _ in subgraph.edges] * 2
        edge_index = torch.tensor([heads + tails, tails + heads], dtype=torch.long).reshape(2, -1)
        width = self.relation_vectors.shape[1]
        edge_attr = torch.from_numpy(self.relation_vectors[relations]).reshape(-1, width)
        return Data(x=x, edge_index=edge_index, edge_attr=edge_attr, num_nodes=len(subgraph.nodes))


class SubGraphExtractor:
    """Breadth-first expansion, one batched Cypher query per hop level for all seeds at once.

    At each hop every frontier node contributes at most `fanout` neighbours (undirected, distinct, in
    id order), with every REL edge between the two; so a hub adds at most `fanout` nodes per hop.
    Adjacency read from the store is kept, so a warm extractor sends no query.
    """

    def __init__(self, store: GraphStore, fanout: int) -> None:
        self.store = store
        self.fanout = fanout
        self._adjacency: dict[str, dict[str, list[Edge]]] = {}
        self.round_trips = 0

    def clear(self) -> None:
        """Forget the adjacency read so far."""
        self._adjacency.clear()

    def _load_adjacency(self, nodes: set[str]) -> None:
        missing = sorted(nodes - self._adjacency.keys())
        if not missing:
            return
        self.round_trips += 1
        found: dict[str, dict[str, list[Edge]]] = {node: defaultdict(list) for node in missing}
        for row in self.store.run("entity_neighbours", {"ids": missing}):
            head, tail = row["head"], row["tail"]
            if head == tail:
                continue
            edge = (head, row["type"], tail)
            for node, neighbour in ((head, tail), (tail, head)):
                if node in found:
                    found[node][neighbour].append(edge)
        for node, neighbours in found.items():
            self._adjacency[node] = {n: sorted(set(edges)) for n, edges in sorted(neighbours.items())}

    def extract(self, seeds: list[tuple[str, int]]) -> dict[tuple[str, int], SubGraph]:
        """Sub-graphs for (seed, hops) pairs; hops = 0 gives the seed alone."""
        nodes = {key: [key[0]] for key in seeds}
        edges: dict[tuple[str, int], set[Edge]] = {key: set() for key in seeds}
        frontiers = {key: [key[0]] for key in seeds}
        for hop in range(1, max((h for _, h in seeds), default=0) + 1):
            active = [key for key in seeds if key[1] >= hop]
            self._load_adjacency({node for key in active for node in frontiers[key]})
            for key in active:
                seen = set(nodes[key])
                following = []
                for node in frontiers[key]:
                    for neighbour in list(self._adjacency[node])[: self.fanout]:
                        edges[key].update(self._adjacency[node][neighbour])
                        if neighbour not in seen:
                            seen.add(neighbour)
                            nodes[key].append(neighbour)
                            following.append(neighbour)
                frontiers[key] = following
        return {key: SubGraph(key[0], key[1], tuple(nodes[key]), tuple(sorted(edges[key]))) for key in seeds}
