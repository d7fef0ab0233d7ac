"""`kragrec kg export`: every node (labels, properties) and relationship (type, properties) of the graph store,
embedded or Neo4j, as a cypher-shell script, a GraphML file or a folder of `neo4j-admin database import` CSV files;
the output replaces --out only once complete."""

from __future__ import annotations

import tempfile
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from rich.progress import Progress

from kragrec.config import Settings
from kragrec.errors import KragrecError
from kragrec.files import replace_dir_atomically, replace_file_atomically, require_folder
from kragrec.graph.backends import open_graph_store
from kragrec.graph.counts import graph_counts
from kragrec.graph.dump import Meter, read_store
from kragrec.graph.export_formats import CSV_MARKER, WRITERS
from kragrec.progress import progress_bar

FORMATS = tuple(WRITERS)
_PROGRESS_EVERY = 1000


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote."""

    format: str
    out: Path
    nodes: int
    relationships: int
    seconds: float


def export_graph(settings: Settings, fmt: str, out: Path) -> ExportReport:
    """Write the settings' graph store to `out` in format `fmt` (cypher, graphml or csv); nothing is left
    half-written: the output replaces `out` only once complete."""
    if fmt not in FORMATS:
        raise KragrecError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    out = Path(out)
    _check_out(fmt, out)
    started = time.perf_counter()
    store = open_graph_store(settings, read_only=True)
    try:
        counts = graph_counts(store)
        total = sum(counts.nodes.values()) + sum(counts.relationships.values())
        out.parent.mkdir(parents=True, exist_ok=True)
        with (
            tempfile.TemporaryDirectory(prefix=f".{out.name}.", suffix=".spool", dir=out.parent) as scratch,
            progress_bar() as progress,
        ):
            dump = read_store(store, Path(scratch), _meter(progress, "reading", total))
            meter = _meter(progress, "writing", dump.node_count + dump.relationship_count)
            with _staged(fmt, out) as target:
                WRITERS[fmt](dump, target, settings.dataset, meter)
    finally:
        store.close()
    return ExportReport(fmt, out, dump.node_count, dump.relationship_count, time.perf_counter() - started)


def _check_out(fmt: str, out: Path) -> None:
    """Refuse an --out that the export would have to overwrite wrongly (checked before the store is opened)."""
    require_folder(out.parent, "--out")
    if fmt != "csv":
        if out.is_dir():
            raise KragrecError(f"--out {out} is a folder; --format {fmt} writes one file")
        return
    if out.exists() and not out.is_dir():
        raise KragrecError(f"--out {out} is a file; --format csv writes a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / CSV_MARKER).is_file():
        raise KragrecError(f"--out {out} is a folder that holds other files; give a new or empty folder")


def _staged(fmt: str, out: Path) -> AbstractContextManager[Path]:
    return replace_dir_atomically(out) if fmt == "csv" else replace_file_atomically(out)


def _meter(progress: Progress, description: str, total: int) -> Meter:
    """A progress task advanced in steps of _PROGRESS_EVERY records (and once more with done=0 at the end)."""
    task = progress.add_task(description, total=total)
    state = {"done": 0, "shown": 0}

    def advance(done: int) -> None:
        state["done"] += done
        if done == 0 or state["done"] - state["shown"] >= _PROGRESS_EVERY:
            progress.update(task, completed=state["done"])
            state["shown"] = state["done"]

    return advance
