"""The edge backend: Qdrant's own engine in-process (qdrant-edge), one shard per collection under the data dir.

A collection's folder holds `format.json` (what wrote it: format name and version, backend, engine version, vector
sizes, HNSW parameters), `meta.json` (kragrec's metadata for the collection) and `shard/` (the qdrant-edge shard).
A folder whose format record is missing, unreadable, or of another format, version or engine release, or whose shard
does not load or holds another number of points than its finished build recorded, is not a collection: reading finds
nothing there (a search says so in one line) and `kragrec index` rebuilds it.

Shards are created without a write-ahead log: every upserted batch is flushed before it is recorded as done, so a
killed build resumes from its last recorded batch, and any number of readers may open a shard at once (a WAL would
lock it to one process).
"""

from __future__ import annotations

import functools
import json
import shutil
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import qdrant_edge as qe

from kragrec.errors import KragrecError
from kragrec.files import replace_file_atomically
from kragrec.vectors.store import FILTERED_FIELDS, Hit, check_dimension, merge_hits, unusable_index, upsert_batches

FORMAT = "kragrec-edge-collection"
FORMAT_VERSION = 1  # raise when the folder layout, the shard settings or the meaning of meta.json change
FORMAT_FILE = "format.json"
META_FILE = "meta.json"
SHARD_DIR = "shard"
ENGINE = "qdrant-edge-py"
# HNSW: Qdrant's default graph (m 16, ef_construct 100); search ef 128 gives recall@3 >= 0.99 against exact search on
# ML-100K (bench/retrieval.py measures it). The full-scan threshold (KB) is Qdrant's default: filtered searches over
# fewer vectors than that scan them instead.
HNSW_M = 16
HNSW_EF_CONSTRUCT = 100
FULL_SCAN_THRESHOLD_KB = 10_000
SEARCH_EF = 128
# Hits asked per layer before the best `limit` are kept: ML-100K has many entities with identical vectors, and
# asking for more makes ties fall to the lowest ids, as in exact search, at no measurable cost beside ef 128.
SEARCH_FETCH = 32
# Segments above this size (KB) get HNSW graphs when the index is optimized, smaller ones are searched exactly (the
# tiny test graph's); None: the engine's default, far below ML-100K's 53 MB per layer. Tests lower it.
INDEXING_THRESHOLD_KB: int | None = None
SCHEMAS = {
    "keyword": qe.PayloadSchemaType.Keyword,
    "float": qe.PayloadSchemaType.Float,
    "integer": qe.PayloadSchemaType.Integer,
}


def search_identity() -> str:
    """The format and search settings: hits from another are not reused (the retrieval cache is keyed by it)."""
    return f"edge:v{FORMAT_VERSION}:ef{SEARCH_EF}:fetch{SEARCH_FETCH}"


@functools.cache
def engine_version() -> str:
    """The installed qdrant-edge version."""
    return version(ENGINE)


def _same_release(recorded: Any, installed: str) -> bool:
    """Whether a shard written by `recorded` is read by `installed`: same major and minor version (0.x minors may
    change the on-disk format)."""
    return isinstance(recorded, str) and recorded.split(".")[:2] == installed.split(".")[:2]


def _read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from a file, or None when it is missing or not a JSON object."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _write_json(path: Path, value: dict[str, Any]) -> None:
    with replace_file_atomically(path) as partial:
        partial.write_text(json.dumps(value, sort_keys=True, indent=2) + "\n", encoding="utf-8")


def format_record(vector_names: Sequence[str], dim: int) -> dict[str, Any]:
    """What this version writes into a collection's format.json."""
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "backend": "edge",
        "engine": engine_version(),
        "distance": "cosine",
        "vectors": dict.fromkeys(vector_names, dim),
        "hnsw": {"m": HNSW_M, "ef_construct": HNSW_EF_CONSTRUCT, "full_scan_threshold_kb": FULL_SCAN_THRESHOLD_KB},
    }


def format_problem(record: dict[str, Any] | None) -> str | None:
    """Why a collection folder's format record is not one this version reads; None when it is."""
    if record is None:
        return f"no readable {FORMAT_FILE}"
    if record.get("format") != FORMAT or record.get("backend") != "edge":
        return f"{FORMAT_FILE} names another format ({record.get('format')!r}, backend {record.get('backend')!r})"
    if record.get("version") != FORMAT_VERSION:
        return f"format version {record.get('version')!r}, this kragrec reads {FORMAT_VERSION}"
    if not _same_release(record.get("engine"), engine_version()):
        return f"written by {ENGINE} {record.get('engine')!r}, installed {engine_version()}"
    vectors = record.get("vectors")
    if not isinstance(vectors, dict) or not vectors or not all(isinstance(v, int) for v in vectors.values()):
        return f"{FORMAT_FILE} lists no vector sizes"
    return None


class EdgeVectorStore:
    """Collections as qdrant-edge shards in folders under `root`; a shard is loaded when first used."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)
        self._shards: dict[str, qe.EdgeShard] = {}
        self._sizes: dict[str, dict[str, int]] = {}  # named vector sizes of each loaded shard

    def close(self) -> None:
        """Close every loaded shard."""
        for shard in self._shards.values():
            shard.close()
        self._shards.clear()
        self._sizes.clear()

    def _folder(self, name: str) -> Path:
        return self.root / name

    def _format(self, name: str) -> tuple[dict[str, Any] | None, str | None]:
        """The collection's format record, and why it is unusable (None when it is usable)."""
        record = _read_json(self._folder(name) / FORMAT_FILE)
        problem = format_problem(record)
        return (None, problem) if problem else (record, None)

    def _load(self, name: str) -> tuple[qe.EdgeShard | None, str | None]:
        """The collection's shard (loaded once), or None and why it cannot be read."""
        if name in self._shards:
            return self._shards[name], None
        if not self._folder(name).is_dir():
            return None, "no such collection"
        record, problem = self._format(name)
        if record is None:
            return None, problem
        try:
            shard = qe.EdgeShard.load(str(self._folder(name) / SHARD_DIR))
        except Exception as error:  # qdrant-edge raises bare Exceptions
            return None, f"its shard does not load: {next(iter(str(error).splitlines()), type(error).__name__)}"
        meta = _read_json(self._folder(name) / META_FILE) or {}
        found = shard.count(qe.CountRequest(exact=True))
        if meta.get("complete") and found != meta.get("points"):  # lost segments load as fewer (or no) points
            shard.close()
            return None, f"its shard holds {found} points, its metadata {meta.get('points')}"
        self._shards[name] = shard
        self._sizes[name] = dict(record["vectors"])
        return shard, None

    def _shard(self, name: str) -> qe.EdgeShard:
        shard, problem = self._load(name)
        if shard is None:
            raise unusable_index(name, str(self._folder(name)), problem or "unreadable")
        return shard

    def has_collection(self, name: str) -> bool:
        """Whether the collection's folder holds a shard of this format that loads."""
        return self._load(name)[0] is not None

    def dimensions(self, name: str) -> dict[str, int]:
        """Size of each named vector of a collection, from its format record."""
        self._shard(name)
        return dict(self._sizes[name])

    def create_collection(self, name: str, vector_names: Sequence[str], dim: int) -> None:
        """(Re)create the collection's folder: an empty shard with payload indexes, then its format record."""
        if name in self._shards:
            self._shards.pop(name).close()
            del self._sizes[name]
        folder = self._folder(name)
        if folder.is_symlink() or folder.is_file():
            folder.unlink()
        shutil.rmtree(folder, ignore_errors=True)
        if folder.exists():
            raise KragrecError(f"cannot replace the vector index folder {folder}")
        folder.mkdir(parents=True)
        config = qe.EdgeConfig(
            vectors={v: qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine) for v in vector_names},
            hnsw_config=qe.HnswIndexConfig(
                m=HNSW_M, ef_construct=HNSW_EF_CONSTRUCT, full_scan_threshold=FULL_SCAN_THRESHOLD_KB
            ),
            optimizers=qe.EdgeOptimizersConfig(indexing_threshold=INDEXING_THRESHOLD_KB),
            wal_enabled=False,
        )
        shard = qe.EdgeShard.create(str(folder / SHARD_DIR), config)
        for field, schema in FILTERED_FIELDS.items():
            shard.update(qe.UpdateOperation.create_field_index(field, SCHEMAS[schema]))
        shard.flush()
        self._shards[name] = shard
        self._sizes[name] = dict.fromkeys(vector_names, dim)
        _write_json(folder / FORMAT_FILE, format_record(vector_names, dim))  # last: until now the folder is no index

    def upsert(
        self,
        name: str,
        vectors: dict[str, np.ndarray],
        payloads: list[dict[str, Any]],
        batch_size: int,
        start: int = 0,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        """Upsert points start.. (id = row number) in bounded batches, each flushed to disk before the next."""
        shard = self._shard(name)
        for rows in upsert_batches(len(payloads), batch_size, start, on_batch):
            points = [
                qe.Point(row, {v: matrix[row].tolist() for v, matrix in vectors.items()}, payloads[row]) for row in rows
            ]
            shard.update(qe.UpdateOperation.upsert_points(points))
            shard.flush()

    def optimize(self, name: str) -> None:
        """Merge the shard's segments and build their HNSW graphs (in this process, blocking), then flush."""
        shard = self._shard(name)
        shard.optimize()
        shard.flush()

    def count(self, name: str) -> int:
        """Exact number of points in a collection."""
        return int(self._shard(name).count(qe.CountRequest(exact=True)))

    def search(self, name: str, queries: np.ndarray, vector_names: Sequence[str], limit: int) -> list[list[Hit]]:
        """For every query row, the best `limit` hits over all the named vectors (one batch: HNSW, ef SEARCH_EF)."""
        shard = self._shard(name)
        check_dimension(name, self._sizes[name].values(), queries.shape[1])
        fetch = max(limit, SEARCH_FETCH)
        params = qe.SearchParams(hnsw_ef=max(SEARCH_EF, fetch))
        requests = [
            qe.QueryRequest(limit=fetch, query=qe.Query.Nearest(query.tolist(), using=v), params=params)
            for query in queries
            for v in vector_names
        ]
        responses = shard.query_batch(qe.QueryBatchRequest(requests)) if requests else []
        found = [[(int(point.id), float(point.score)) for point in response] for response in responses]
        return merge_hits(found, len(queries), vector_names, limit)

    def vectors(self, name: str, point_ids: Sequence[int], vector_name: str) -> np.ndarray:
        """Stored vectors of some points, in the order asked."""
        records = self._shard(name).retrieve(list(point_ids), with_payload=False, with_vector=[vector_name])
        by_id = {int(r.id): r.vector[vector_name] for r in records}  # type: ignore[index,call-overload]
        return np.array([by_id[i] for i in point_ids], dtype=np.float32)

    def read_meta(self, collection: str) -> dict[str, Any] | None:
        """The metadata recorded for a collection, if its folder is one this version reads (the shard is not loaded)."""
        record, _ = self._format(collection)
        return _read_json(self._folder(collection) / META_FILE) if record is not None else None

    def write_meta(self, collection: str, meta: dict[str, Any]) -> None:
        """Record metadata for a collection, replacing the file atomically."""
        _write_json(self._folder(collection) / META_FILE, {"collection": collection, **meta})
