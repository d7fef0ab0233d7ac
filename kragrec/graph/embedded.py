"""The embedded graph store: an in-process ladybug (Kùzu-family) database. The only module importing the engine."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ladybug

from kragrec.errors import KragrecError
from kragrec.files import swap_dirs
from kragrec.graph.cypher import cypher, cypher_statements
from kragrec.graph.store import Row

DB_FILE = "graph.lbug"
ENGINE = f"ladybug {ladybug.__version__}"


class EmbeddedGraphStore:
    """A ladybug database in a folder; single writer, any number of read-only openers."""

    backend = "embedded"

    def __init__(self, folder: Path, read_only: bool = False) -> None:
        self.folder = Path(folder)
        self.read_only = read_only
        if read_only and not (self.folder / DB_FILE).exists():
            raise KragrecError(f"no graph store at {self.folder}: run 'kragrec load-kg' first")
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            self._db = ladybug.Database(str(self.folder / DB_FILE), read_only=read_only)
        except RuntimeError as error:
            raise KragrecError(f"cannot open the graph store at {self.folder}: {error}") from None
        self._conn = ladybug.Connection(self._db)

    def ensure_schema(self) -> None:
        """Create the node and relationship tables that do not exist yet."""
        for statement in cypher_statements(self.backend, "schema"):
            self._execute(statement, None, "schema")

    def run(self, name: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run a named query; rows come back as dicts keyed by the RETURN names."""
        columns, rows = self._execute(cypher(self.backend, name), params, name)
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def stream(self, name: str, params: Mapping[str, Any] | None = None) -> Iterator[Row]:
        """Yield a named query's rows one at a time; a node or relationship value comes as its property map, as the
        Neo4j driver gives it, without the engine's internal entries (_ID, _LABEL, _SRC, _DST)."""
        result = self._result(cypher(self.backend, name), params, name)
        columns = result.get_column_names()
        while result.has_next():
            yield {column: _plain(value) for column, value in zip(columns, result.get_next(), strict=True)}

    def read_query(self, text: str, params: Mapping[str, Any] | None = None) -> tuple[list[str], list[Sequence[Any]]]:
        """Run an ad-hoc query on a store opened read-only, so the engine refuses any write."""
        if not self.read_only:
            raise KragrecError("ad-hoc queries need a store opened read-only")
        return self._execute(text, params, "query")

    def clear(self) -> None:
        """Drop every table (ensure_schema creates them again with the current columns)."""
        for statement in cypher_statements(self.backend, "clear"):
            self._execute(statement, None, "clear")

    def close(self) -> None:
        """Close the connection and the database (which checkpoints it)."""
        self._conn.close()
        self._db.close()

    def _execute(self, text: str, params: Mapping[str, Any] | None, name: str) -> tuple[list[str], list[Sequence[Any]]]:
        result = self._result(text, params, name)
        return result.get_column_names(), result.get_all()

    def _result(self, text: str, params: Mapping[str, Any] | None, name: str) -> Any:
        """The engine's result of a query; its errors become one line naming the query."""
        try:
            return self._conn.execute(text, dict(params or {}))
        except RuntimeError as error:
            message = str(error).splitlines()[0]
            if "read-only" in message:
                raise KragrecError(f"refused: the query writes, and the store is read-only ({message})") from None
            raise KragrecError(f"{name}: {message}") from None


_INTERNAL = frozenset({"_ID", "_LABEL", "_SRC", "_DST"})


def _plain(value: Any) -> Any:
    """A node or relationship value as its property map; any other value unchanged."""
    if isinstance(value, dict) and "_ID" in value and "_LABEL" in value:
        return {key: item for key, item in value.items() if key not in _INTERNAL}
    return value


def staging_dir(folder: Path) -> Path:
    """The copy a load into `folder` writes before it is swapped in."""
    return folder.with_name(f"{folder.name}.staging")


def _copy_dir(folder: Path) -> Path:
    """Where the staging copy is made before it is renamed into place (so no half copy is ever resumed)."""
    return folder.with_name(f".{folder.name}.staging.copy")


def discard_staging(folder: Path) -> None:
    """Remove an interrupted load's staging copy of `folder`, and a half-made one."""
    for leftover in (staging_dir(folder), _copy_dir(folder)):
        shutil.rmtree(leftover, ignore_errors=True)


@contextmanager
def staged_embedded_store(folder: Path, fresh: bool) -> Iterator[EmbeddedGraphStore]:
    """Load into a staging copy and swap it in on success, so readers never see a half-written store.

    The caller holds the data dir's writer lock. An interrupted load leaves the staging copy behind and the next
    load that writes resumes into it; any other failure removes it. With `fresh`, the staging copy starts empty.
    """
    folder = Path(folder)
    staging = staging_dir(folder)
    if fresh:
        discard_staging(folder)
    if not staging.exists() and folder.exists() and not fresh:
        copy = _copy_dir(folder)
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(folder, copy)
        copy.replace(staging)
    store = EmbeddedGraphStore(staging)
    try:
        yield store
    except KeyboardInterrupt:
        store.close()
        raise
    except BaseException:
        store.close()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    store.close()
    swap_dirs(staging, folder)
