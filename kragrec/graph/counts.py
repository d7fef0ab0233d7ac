"""What a store holds: nodes per label and relationships per type, read back (`kragrec kg stats`, the load check)."""

from __future__ import annotations

from dataclasses import dataclass

from kragrec.graph.store import GraphStore

META_LABEL = "Dataset"  # the node recording each load; not part of the graph model's counts


@dataclass(frozen=True)
class GraphCounts:
    """Nodes per label and relationships per type, as read back from a store."""

    nodes: dict[str, int]
    relationships: dict[str, int]


def graph_counts(store: GraphStore) -> GraphCounts:
    """Read back node counts per label and relationship counts per type."""
    nodes = {r["label"]: r["total"] for r in store.run("count_nodes_by_label") if r["label"] != META_LABEL}
    rels = {r["type"]: r["total"] for r in store.run("count_rels_by_type")}
    return GraphCounts(nodes, rels)
