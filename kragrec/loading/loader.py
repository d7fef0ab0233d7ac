"""`kragrec load-kg`: validated, batched, idempotent and resumable loading, then a read-back check."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from kragrec.config import Settings
from kragrec.data.registry import fingerprint, open_dataset
from kragrec.errors import KragrecError, LoadVerificationError
from kragrec.graph.backends import discard_interrupted_load, graph_store_for_loading, open_graph_store
from kragrec.graph.counts import GraphCounts, graph_counts
from kragrec.graph.store import GraphStore
from kragrec.loading.load_plan import LoadPlan, build_load_plan
from kragrec.progress import progress_bar
from kragrec.writer_lock import data_dir_writer

# Bump when the graph model or the derived properties change, so old stores are rebuilt.
GRAPH_FORMAT = 2


@dataclass
class LoadReport:
    """What a load did: counts expected and found, duplicates dropped, rows/s per phase."""

    expected: GraphCounts
    found: GraphCounts
    duplicate_triples: int
    up_to_date: bool
    seconds: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


def load_fingerprint(settings: Settings) -> str:
    """Identifies the input of a load: dataset contents, the options that shape the graph, the graph format."""
    key = f"{fingerprint(settings, settings.dataset)}|min_rating={settings.min_rating:g}|format={GRAPH_FORMAT}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _check_counts(expected: GraphCounts, found: GraphCounts) -> None:
    problems = [
        f"{kind} {name}: expected {expected_map.get(name, 0):,}, found {found_map.get(name, 0):,}"
        for kind, expected_map, found_map in (
            ("label", expected.nodes, found.nodes),
            ("relationship", expected.relationships, found.relationships),
        )
        for name in sorted(set(expected_map) | set(found_map))
        if expected_map.get(name, 0) != found_map.get(name, 0)
    ]
    if problems:
        raise LoadVerificationError("graph store does not match the input: " + "; ".join(problems))


def _state(store: GraphStore, dataset: str) -> dict | None:
    rows = store.run("get_dataset")
    others = [r["name"] for r in rows if r["name"] != dataset]
    if others:
        raise KragrecError(
            f"the graph store already holds dataset {others[0]!r}; load {dataset!r} into another "
            "database (neo4j_database) or pass --fresh to replace it"
        )
    return rows[0] if rows else None


def _write_phases(store: GraphStore, plan: LoadPlan, settings: Settings, load_id: str, report: LoadReport) -> None:
    state = _state(store, settings.dataset)
    if state is not None and state["fingerprint"] != load_id:
        store.clear()
        store.ensure_schema()  # the embedded clear drops the tables, so they come back with the current columns
        state = None
    done = list(state["phases"]) if state else []
    with progress_bar() as progress:
        for phase in plan.phases:
            task = progress.add_task(phase.name, total=len(phase.rows))
            if phase.name in done:
                progress.update(task, completed=len(phase.rows), description=f"{phase.name} (done)")
                continue
            started = time.perf_counter()
            for start in range(0, len(phase.rows), settings.batch_size):
                batch = phase.rows[start : start + settings.batch_size]
                store.run(phase.query, {"rows": batch})
                progress.advance(task, len(batch))
            report.seconds[phase.name] = time.perf_counter() - started
            report.rows[phase.name] = len(phase.rows)
            done.append(phase.name)
            store.run(
                "set_dataset", {"name": settings.dataset, "fingerprint": load_id, "phases": done, "complete": False}
            )


def _current_if_loaded(settings: Settings, load_id: str) -> GraphCounts | None:
    """Counts of the store if it already holds exactly this load, else None."""
    try:
        store = open_graph_store(settings, read_only=True)
    except KragrecError:
        return None
    try:
        state = _state(store, settings.dataset)
        if state and state["complete"] and state["fingerprint"] == load_id:
            return graph_counts(store)
        return None
    finally:
        store.close()


def load_kg(settings: Settings, fresh: bool = False, force: bool = False) -> LoadReport:
    """Load the settings' dataset into the graph store and verify the counts; a no-op when already loaded.

    Holds the data dir's writer lock throughout. An interrupted load's staging copy is resumed by the next load
    that has to write, and removed by one that finds the store already up to date (it holds that load's result).
    """
    with data_dir_writer(settings.data_dir):
        return _load_kg(settings, fresh, force)


def _load_kg(settings: Settings, fresh: bool, force: bool) -> LoadReport:
    dataset = open_dataset(settings, settings.dataset)
    plan = build_load_plan(dataset, settings.min_rating)
    expected = GraphCounts(plan.expected_nodes, plan.expected_relationships)
    load_id = load_fingerprint(settings)
    if not (fresh or force):
        current = _current_if_loaded(settings, load_id)
        if current is not None:
            discard_interrupted_load(settings)
            _check_counts(expected, current)
            return LoadReport(expected, current, dataset.duplicate_triples, up_to_date=True)
    report = LoadReport(expected, expected, dataset.duplicate_triples, up_to_date=False)
    with graph_store_for_loading(settings, fresh) as store:
        store.ensure_schema()
        _write_phases(store, plan, settings, load_id, report)
        report.found = graph_counts(store)
        _check_counts(expected, report.found)
        store.run("set_dataset", {"name": settings.dataset, "fingerprint": load_id, "phases": [], "complete": True})
    return report
