"""The qdrant-client backend: Qdrant's local mode under the data dir (brute force), or a Qdrant server by URL."""

from __future__ import annotations

import functools
import json
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ApiException, ResponseHandlingException, UnexpectedResponse

from kragrec.errors import KragrecError
from kragrec.vectors.store import FILTERED_FIELDS, Hit, check_dimension, merge_hits, unusable_index, upsert_batches

META_COLLECTION = "kragrec_meta"
SCHEMAS = {
    "keyword": models.PayloadSchemaType.KEYWORD,
    "float": models.PayloadSchemaType.FLOAT,
    "integer": models.PayloadSchemaType.INTEGER,
}

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


class QdrantVectorStore:
    """Collections of named vectors in Qdrant, and a small metadata collection (`kragrec_meta`) beside them."""

    def __init__(self, client: Any, location: str) -> None:
        self._client = client  # a QdrantClient, wrapped in a _ReportingClient for a server
        self.location = location

    @classmethod
    def server(cls, url: str, public: str, api_key: str | None) -> QdrantVectorStore:
        """A store on the Qdrant server at `url` (`public`: the URL without credentials, for messages)."""
        with _silenced(UNREACHABLE_SERVER_WARNINGS):
            client = QdrantClient(url=url, api_key=api_key)
        return cls(_ReportingClient(client, public), public)

    @classmethod
    def local(cls, folder: Path) -> QdrantVectorStore:
        """A store in qdrant-client's local mode: every point is loaded into memory when it opens."""
        folder.mkdir(parents=True, exist_ok=True)
        try:
            with _silenced(LOCAL_MODE_WARNINGS):
                client = QdrantClient(path=str(folder))
        except RuntimeError as error:
            raise KragrecError(f"cannot open the local Qdrant store at {folder}: {error}") from None
        return cls(client, str(folder))

    def close(self) -> None:
        """Release the client (and the local-mode folder lock)."""
        self._client.close()

    def has_collection(self, name: str) -> bool:
        """Whether the collection exists."""
        return bool(self._client.collection_exists(name))

    def dimensions(self, name: str) -> dict[str, int]:
        """Size of each named vector of a collection."""
        try:
            vectors = self._client.get_collection(name).config.params.vectors
        except ValueError:  # local mode's answer for a missing collection (a server's is an HTTP 404 line)
            raise unusable_index(name, self.location, "no such collection") from None
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
                self._client.create_payload_index(name, field, field_schema=SCHEMAS[schema])

    def upsert(
        self,
        name: str,
        vectors: dict[str, np.ndarray],
        payloads: list[dict[str, Any]],
        batch_size: int,
        start: int = 0,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        """Upsert points start.. (id = row number) in bounded batches, each acknowledged (wait=True) before the next."""
        with _silenced(LOCAL_MODE_WARNINGS):
            for rows in upsert_batches(len(payloads), batch_size, start, on_batch):
                points = [
                    models.PointStruct(
                        id=row, vector={v: matrix[row].tolist() for v, matrix in vectors.items()}, payload=payloads[row]
                    )
                    for row in rows
                ]
                self._client.upsert(name, points, wait=True)

    def optimize(self, name: str) -> None:
        """Nothing to do: a server builds its HNSW graphs in the background, and local mode has none."""

    def count(self, name: str) -> int:
        """Exact number of points in a collection."""
        return int(self._client.count(name, exact=True).count)

    def search(self, name: str, queries: np.ndarray, vector_names: Sequence[str], limit: int) -> list[list[Hit]]:
        """For every query row, the best `limit` hits over all the named vectors (one batched request)."""
        check_dimension(name, self.dimensions(name).values(), queries.shape[1])
        requests = [
            models.QueryRequest(query=query.tolist(), using=v, limit=limit, with_payload=False)
            for query in queries
            for v in vector_names
        ]
        with _silenced(LOCAL_MODE_WARNINGS):
            responses = self._client.query_batch_points(name, requests) if requests else []
        found = [[(int(point.id), float(point.score)) for point in response.points] for response in responses]
        return merge_hits(found, len(queries), vector_names, limit)

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
