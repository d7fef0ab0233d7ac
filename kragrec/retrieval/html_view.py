"""Interactive HTML view of retrieved sub-graphs, drawn with neo4j-viz (its JavaScript is inlined: works offline)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from neo4j_viz import Node, Relationship, VisualizationGraph

SEED_COLOR = "#d1495b"
NODE_COLOR = "#66a182"
CAPTION_LENGTH = 40


def _caption(text: str) -> str:
    return text if len(text) <= CAPTION_LENGTH else text[: CAPTION_LENGTH - 1] + "…"


def write_html(view: dict[str, Any], path: Path) -> None:
    """Write every kept sub-graph of an evidence view into one self-contained HTML page."""
    nodes: dict[str, Node] = {}
    relationships: list[Relationship] = []
    for subgraph in view["subgraphs"]:
        for node in subgraph["nodes"]:
            is_seed = node["id"] == subgraph["entity_id"]
            if node["id"] not in nodes or is_seed:
                nodes[node["id"]] = Node(
                    id=node["id"],
                    caption=_caption(node["text"]),
                    color=SEED_COLOR if is_seed else NODE_COLOR,
                    size=20 if is_seed else 10,
                    properties={"text": node["text"], "seed_of_rank": subgraph["rank"] if is_seed else None},
                )
        relationships.extend(
            Relationship(source=e["head"], target=e["tail"], caption=e["relation"].split(".")[-1], properties=e)
            for e in subgraph["edges"]
        )
    unique = {(r.source, r.caption, r.target): r for r in relationships}
    graph = VisualizationGraph(nodes=list(nodes.values()), relationships=list(unique.values()))
    page = graph.render(height="800px").data  # a complete, self-contained HTML document
    title = html.escape(f"kragrec: evidence retrieved for user {view['user']}")
    path.write_text(page.replace("<title>neo4j-viz</title>", f"<title>{title}</title>", 1), encoding="utf-8")
