"""The VectorStore protocol every backend implements, and the batching and hit merging they share."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from kragrec.errors import KragrecError
from kragrec.progress import progress_bar

# Payload fields the stores index (kind and popularity are what a filtered search would use).
FILTERED_FIELDS = {"kind": "keyword", "item_id": "keyword", "pop_pct": "float", "degree": "integer"}


@dataclass(frozen=True)
class Hit:
    """One search result: the point id, which named vector matched, and the cosine score."""

    point_id: int
    vector_name: str
    score: float


class VectorStore(Protocol):
    """Collections of points (id = row number) with cosine named vectors (hop0..hopL) and payloads, and a metadata
    record per collection. Callers never branch on the backend."""

    location: str

    def close(self) -> None:
        """Release the store (and any lock it holds on its folder)."""

    def has_collection(self, name: str) -> bool:
        """Whether the collection exists and can be read."""

    def dimensions(self, name: str) -> dict[str, int]:
        """Size of each named vector of a collection."""

    def create_collection(self, name: str, vector_names: Sequence[str], dim: int) -> None:
        """(Re)create an empty collection of cosine named vectors with payload indexes on FILTERED_FIELDS."""

    def upsert(
        self,
        name: str,
        vectors: dict[str, np.ndarray],
        payloads: list[dict[str, Any]],
        batch_size: int,
        start: int = 0,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        """Upsert points start.. (id = row number) in bounded batches; each batch is durable before
        on_batch(done) is called, so a killed upsert resumes from the last `done` recorded."""

    def optimize(self, name: str) -> None:
        """Make a fully upserted collection fast to search (build its HNSW graphs where the backend does so here)."""

    def count(self, name: str) -> int:
        """Exact number of points in a collection."""

    def search(self, name: str, queries: np.ndarray, vector_names: Sequence[str], limit: int) -> list[list[Hit]]:
        """For every query row, the best `limit` hits over all the named vectors, by cosine, ties by id and name."""

    def vectors(self, name: str, point_ids: Sequence[int], vector_name: str) -> np.ndarray:
        """Stored vectors of some points, in the order asked."""

    def read_meta(self, collection: str) -> dict[str, Any] | None:
        """The metadata recorded for a collection, if any."""

    def write_meta(self, collection: str, meta: dict[str, Any]) -> None:
        """Record metadata for a collection (encoder, dimension, hops, graph fingerprint, progress)."""


def check_dimension(name: str, sizes: Iterable[int], dim: int) -> None:
    """One-line error when a query's width differs from the collection's."""
    widths = sorted(set(sizes))
    if widths != [dim]:
        raise KragrecError(
            f"collection {name!r} holds {widths[0]}-d vectors but the encoder gives {dim}-d: "
            "re-run 'kragrec index' with the same --encoder, or rebuild the index"
        )


def upsert_batches(total: int, batch_size: int, start: int, on_batch: Callable[[int], None] | None) -> Iterator[range]:
    """The row ranges start..total in batches, under a progress bar; after the caller has stored a batch (when it
    asks for the next one), on_batch(end of that batch) is called."""
    with progress_bar() as progress:
        task = progress.add_task("upsert", total=total, completed=start)
        for first in range(start, total, batch_size):
            rows = range(first, min(total, first + batch_size))
            yield rows
            progress.advance(task, len(rows))
            if on_batch is not None:
                on_batch(rows.stop)


def merge_hits(
    per_request: Sequence[Iterable[tuple[int, float]]], queries: int, vector_names: Sequence[str], limit: int
) -> list[list[Hit]]:
    """Per query, the best `limit` of its requests' (id, score) pairs, one request per named vector in order."""
    width = len(vector_names)
    merged: list[list[Hit]] = []
    for q in range(queries):
        hits = [
            Hit(point_id, vector_name, score)
            for vector_name, found in zip(vector_names, per_request[q * width : (q + 1) * width], strict=True)
            for point_id, score in found
        ]
        hits.sort(key=lambda h: (-h.score, h.point_id, h.vector_name))
        merged.append(hits[:limit])
    return merged


def unusable_index(name: str, location: str, reason: str) -> KragrecError:
    """One line for a collection that is missing or cannot be read."""
    return KragrecError(
        f"no usable index collection {name!r} in the vector store at {location} ({reason}): run 'kragrec index'"
    )
