"""What an index is built from (IndexSpec), where its local files live, and whether a build is finished: what readers
of an index need, without the encoder or the vector store (so opening a retriever imports no ML library)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kragrec.config import Settings
from kragrec.graph.backends import reading_graph_store
from kragrec.retrieval.encoder_source import encoder_slug
from kragrec.retrieval.graph_view import graph_fingerprint

VECTORS_FILE = "vectors.npz"
META_FILE = "meta.json"
GRAPH_FILE = "graph.json"  # the graph as read when the index was built (graph_view.write_graph_snapshot)
ITEM_QUERIES_FILE = "item_queries.npz"  # every item's query vector (its title and year, encoded), by item id


@dataclass(frozen=True)
class IndexSpec:
    """Everything that determines an index's contents; a stored index with another spec is stale."""

    dataset: str
    encoder: str
    indexer: str
    hops: int
    hub_cap: int
    graph_fingerprint: str

    @property
    def layers(self) -> int:
        """Number of stored layers: hop0..hopL, or hop0 and hop1 for the released code's indexer."""
        return 2 if self.indexer == "official" else self.hops + 1

    @property
    def vector_names(self) -> list[str]:
        """Named vectors of each point."""
        return [f"hop{layer}" for layer in range(self.layers)]

    @property
    def collection(self) -> str:
        """Vector-store collection: one per dataset, encoder, indexer and depth."""
        depth = "" if self.indexer == "official" else f"-l{self.hops}"
        return f"{self.dataset}.{encoder_slug(self.encoder)}.{self.indexer}{depth}"


def index_dir(settings: Settings, spec: IndexSpec) -> Path:
    """Local files of an index: vectors (for sub-graph features and re-ranking) and metadata."""
    return settings.data_dir / "index" / spec.collection


def current_spec(settings: Settings) -> IndexSpec:
    """The spec the settings ask for, against the graph store's current load."""
    with reading_graph_store(settings) as store:
        fingerprint = graph_fingerprint(store)
    return IndexSpec(settings.dataset, settings.encoder, settings.indexer, settings.hops, settings.hub_cap, fingerprint)


def read_local_meta(folder: Path) -> dict[str, Any] | None:
    """The metadata an index build left in its local folder, if any."""
    path = folder / META_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def is_complete(meta: dict[str, Any] | None, spec: IndexSpec) -> bool:
    """Whether metadata records a finished build of exactly this spec."""
    return bool(meta and meta.get("spec") == asdict(spec) and meta.get("complete"))


def read_item_queries(folder: Path) -> dict[str, np.ndarray]:
    """The item query vectors `kragrec index` saved in an index folder (none when it saved none)."""
    path = folder / ITEM_QUERIES_FILE
    if not path.is_file():
        return {}
    with np.load(path) as stored:
        return dict(zip(stored["items"].tolist(), stored["vectors"], strict=True))
