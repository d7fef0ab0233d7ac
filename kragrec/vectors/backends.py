"""Open the vector store the settings name; the one place that knows which backends exist.

A `qdrant_url` selects that Qdrant server; otherwise `vector_backend` picks an embedded store under the data dir:
`edge` (default: qdrant-edge, HNSW, opens in milliseconds) or `local` (qdrant-client local mode, brute force, loads
every point when opened; kept for comparison).
"""

from __future__ import annotations

from pathlib import Path

from kragrec.config import Settings, public_url
from kragrec.vectors.store import VectorStore


def vector_backend(settings: Settings) -> str:
    """`server`, `edge` or `local`."""
    return "server" if settings.qdrant_url else settings.vector_backend


def store_folder(settings: Settings) -> Path:
    """Where an embedded backend keeps its collections."""
    return settings.data_dir / ("edge" if settings.vector_backend == "edge" else "qdrant")


def store_identity(settings: Settings) -> str:
    """Which vector store (and search) the settings open: the server's URL (without credentials), local mode's
    folder, or the edge format and search settings (other settings can return other hits, so caches must not mix)."""
    backend = vector_backend(settings)
    if backend == "server":
        return public_url(str(settings.qdrant_url))
    if backend == "edge":
        from kragrec.vectors.edge import search_identity

        return search_identity()
    return "local:qdrant"


def describe_store(settings: Settings) -> str:
    """The store in words, for reports."""
    backend = vector_backend(settings)
    if backend == "server":
        return f"Qdrant at {public_url(str(settings.qdrant_url))}"
    engine = "qdrant-edge" if backend == "edge" else "Qdrant local mode"
    return f"{engine} at {store_folder(settings)}"


def opens_cheaply(settings: Settings) -> bool:
    """Whether opening the store and reading a collection's metadata costs milliseconds (edge), so a reader may
    check the store on every open; local mode loads every point and a server is a round trip away."""
    return vector_backend(settings) == "edge"


def open_vector_store(settings: Settings) -> VectorStore:
    """The store to read and write."""
    backend = vector_backend(settings)
    if backend == "edge":
        from kragrec.vectors.edge import EdgeVectorStore

        return EdgeVectorStore(store_folder(settings))
    from kragrec.vectors.qdrant_client_store import QdrantVectorStore

    if backend == "server":
        api_key = settings.qdrant_api_key.reveal() if settings.qdrant_api_key else None
        return QdrantVectorStore.server(str(settings.qdrant_url), public_url(str(settings.qdrant_url)), api_key)
    return QdrantVectorStore.local(store_folder(settings))
