"""The one vector-store wrapper: qdrant-client in local mode under the data dir, or a Qdrant server by URL."""

from __future__ import annotations

import functools
import json
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ApiException, ResponseHandlingException, UnexpectedResponse

from kragrec.config import Settings, public_url
from kragrec.errors import KragrecError
from kragrec.progress import progress_bar

META_COLLECTION = "kragrec_meta"
FILTERED_FIELDS = {
    "kind": models.PayloadSchemaType.KEYWORD,
    "item_id": models.PayloadSchemaType.KEYWORD,
    "pop_pct": models.PayloadSchemaType.FLOAT,
    "degree": models.PayloadSchemaType.INTEGER,
}


@dataclass(frozen=True)
class Hit:
    """One search result: the point id, which named vector matched, and the cosine score."""

    point_id: int
    vector_name: str
    score: float


# Local mode warns that it is brute force and ignores payload indexes; the README says so once.
LOCAL_MODE_WARNINGS = ("Local mode is not recommended", "Payload indexes have no effect")
# A client for an unreachable server warns on creation; its first call fails with one line instead.
UNREACHABLE_SERVER_WARNINGS = ("Failed to obtain server version",)


@contextmanager
def _silenced(messages: Sequence[str]) -> Iterator[None]:
    """qdrant-client's UserWarnings that start with one of `messages` are not shown inside the block."""
    with warnings.catch_warnings():
        for message in messages:
            warnings.filterwarnings("ignore", message=message, category=UserWarning)
        yield


def store_identity(settings: Settings) -> str:
    """Which vector store the settings open: the server's URL (without credentials), or local mode's folder."""
    return public_url(settings.qdrant_url) if settings.qdrant_url else "local:qdrant"


def _server_failure(url: str, error: ApiException) -> KragrecError:
    """One line for a server that cannot be reached or answers with an HTTP error."""
    if isinstance(error, UnexpectedResponse):
        try:
            detail = json.loads(error.content)["status"]["error"]
        except (ValueError, KeyError, TypeError):
            detail = error.reason_phrase
        return KragrecError(f"Qdrant at {url} answered HTTP {error.status_code}: {detail}")
    cause = error.source if isinstance(error, ResponseHandlingException) else error
    reason = next(iter(str(cause).splitlines()), "") or type(cause).__name__
    return KragrecError(f"Qdrant at {url} is unreachable: {reason}")


class _ReportingClient:
    """The Qdrant client, whose calls turn transport and HTTP failures into one-line errors naming the server."""

    def __init__(self, client: QdrantClient, url: str) -> None:
        self._client = client
        self._url = url

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._client, name)

        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except ApiException as error:
                raise _server_failure(self._url, error) from None

        return call


def _meta_id(collection: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"kragrec:{collection}"))


class VectorStore:
    """Collections of named vectors (hop0..hopL) with payloads, and a small metadata collection."""

    def __init__(self, settings: Settings) -> None:
        self._client: Any  # a QdrantClient, wrapped in a _ReportingClient for a server
        if settings.qdrant_url:
            self.location = public_url(settings.qdrant_url)
            api_key = settings.qdrant_api_key.reveal() if settings.qdrant_api_key else None
            with _silenced(UNREACHABLE_SERVER_WARNINGS):
                client = QdrantClient(url=settings.qdrant_url, api_key=api_key)
            self._client = _ReportingClient(client, self.location)
        else:
            folder = settings.data_dir / "qdrant"
            folder.mkdir(parents=True, exist_ok=True)
            try:
                with _silenced(LOCAL_MODE_WARNINGS):
                    self._client = QdrantClient(path=str(folder))
            except RuntimeError as error:
                raise KragrecError(f"cannot open the local Qdrant store at {folder}: {error}") from None
            self.location = str(folder)

    def close(self) -> None:
        """Release the client (and the local-mode folder lock)."""
        self._client.close()

    def has_collection(self, name: str) -> bool:
        """Whether the collection exists."""
        return bool(self._client.collection_exists(name))

    def dimensions(self, name: str) -> dict[str, int]:
        """Size of each named vector of a collection."""
        vectors = self._client.get_collection(name).config.params.vectors
        assert isinstance(vectors, dict)
        return {vector_name: params.size for vector_name, params in vectors.items()}

    def create_collection(self, name: str, vector_names: Sequence[str], dim: int) -> None:
        """(Re)create a collection of cosine named vectors with payload indexes on the filtered fields."""
        if self.has_collection(name):
            self._client.delete_collection(name)
        self._client.create_collection(
            name,
            vectors_config={v: models.VectorParams(size=dim, distance=models.Distance.COSINE) for v in vector_names},
        )
        with _silenced(LOCAL_MODE_WARNINGS):
            for field, schema in FILTERED_FIELDS.items():
                self._client.create_payload_index(name, field, field_schema=schema)

    def check_dimension(self, name: str, dim: int) -> None:
        """One-line error when a query's width differs from the collection's."""
        sizes = set(self.dimensions(name).values())
        if sizes != {dim}:
            raise KragrecError(
                f"collection {name!r} holds {sorted(sizes)[0]}-d vectors but the encoder gives {dim}-d: "
                "re-run 'kragrec index' with the same --encoder, or rebuild the index"
            )

    def upsert(
        self,
        name: str,
        vectors: dict[str, np.ndarray],
        payloads: list[dict[str, Any]],
        batch_size: int,
        start: int = 0,
        on_batch: Any = None,
    ) -> None:
        """Upsert points start.. (id = row number) in bounded batches; on_batch(done) is called after each."""
        total = len(payloads)
        with progress_bar() as progress, _silenced(LOCAL_MODE_WARNINGS):
            task = progress.add_task("upsert", total=total, completed=start)
            for first in range(start, total, batch_size):
                rows = range(first, min(total, first + batch_size))
                points = [
                    models.PointStruct(
                        id=row, vector={v: matrix[row].tolist() for v, matrix in vectors.items()}, payload=payloads[row]
                    )
                    for row in rows
                ]
                self._client.upsert(name, points, wait=True)
                progress.advance(task, len(points))
                if on_batch is not None:
                    on_batch(rows.stop)

    def count(self, name: str) -> int:
        """Exact number of points in a collection."""
        return int(self._client.count(name, exact=True).count)

    def search(self, name: str, queries: np.ndarray, vector_names: Sequence[str], limit: int) -> list[list[Hit]]:
        """For every query row, the best `limit` hits over all the named vectors (one batched request)."""
        self.check_dimension(name, queries.shape[1])
        requests = [
            models.QueryRequest(query=query.tolist(), using=v, limit=limit, with_payload=False)
            for query in queries
            for v in vector_names
        ]
        with _silenced(LOCAL_MODE_WARNINGS):
            responses = self._client.query_batch_points(name, requests) if requests else []
        per_query: list[list[Hit]] = []
        for q in range(len(queries)):
            hits = [
                Hit(int(point.id), vector_name, float(point.score))
                for vector_name, response in zip(
                    vector_names, responses[q * len(vector_names) : (q + 1) * len(vector_names)], strict=True
                )
                for point in response.points
            ]
            hits.sort(key=lambda h: (-h.score, h.point_id, h.vector_name))
            per_query.append(hits[:limit])
        return per_query

    def vectors(self, name: str, point_ids: Sequence[int], vector_name: str) -> np.ndarray:
        """Stored vectors of some points, in the order asked."""
        records = self._client.retrieve(name, ids=list(point_ids), with_vectors=[vector_name], with_payload=False)
        by_id = {int(r.id): r.vector[vector_name] for r in records}  # type: ignore[index]
        return np.array([by_id[i] for i in point_ids], dtype=np.float32)

    def read_meta(self, collection: str) -> dict[str, Any] | None:
        """The metadata recorded for a collection, if any."""
        if not self.has_collection(META_COLLECTION):
            return None
        records = self._client.retrieve(META_COLLECTION, ids=[_meta_id(collection)], with_payload=True)
        return dict(records[0].payload or {}) if records else None

    def write_meta(self, collection: str, meta: dict[str, Any]) -> None:
        """Record metadata for a collection (encoder, dimension, hops, graph fingerprint, progress)."""
        if not self.has_collection(META_COLLECTION):
            self._client.create_collection(
                META_COLLECTION, vectors_config=models.VectorParams(size=1, distance=models.Distance.DOT)
            )
        point = models.PointStruct(id=_meta_id(collection), vector=[0.0], payload={"collection": collection, **meta})
        self._client.upsert(META_COLLECTION, [point], wait=True)
