"""Terminal output of the CLI commands: tables and summary lines on stdout."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from kragrec.data.dataset import Dataset
from kragrec.data.prepare import PreparedSummary
from kragrec.evaluation.intervals import with_interval
from kragrec.graph.counts import GraphCounts
from kragrec.loading.loader import LoadReport

if TYPE_CHECKING:  # for annotations only: index_builder loads the vector stores, which `kragrec kg ...` must not
    from kragrec.evaluation.request import EvaluationResult
    from kragrec.graph.export import ExportReport
    from kragrec.recommendation import Recommendation
    from kragrec.retrieval.index_builder import IndexReport

stdout_console = Console(highlight=False, soft_wrap=True)

SUMMARY_NAMES = (
    ("User", "users"),
    ("Item", "items"),
    ("RATED", "ratings"),
    ("REL", "KG triples"),
    ("LINKS_TO", "item links"),
    ("Entity", "entities"),
    ("Genre", "genres"),
    ("Year", "years"),
    ("Person", "people"),
)


def summary_line(counts: GraphCounts) -> str:
    """'943 users, 1,682 items, 100,000 ratings, …' from read-back counts."""
    merged = {**counts.nodes, **counts.relationships}
    return ", ".join(f"{merged.get(key, 0):,} {name}" for key, name in SUMMARY_NAMES)


def counts_table(found: GraphCounts, expected: GraphCounts | None = None) -> Table:
    """Nodes per label and relationships per type, with the expected column when given."""
    table = Table(title="graph store contents")
    table.add_column("kind")
    table.add_column("name")
    if expected is not None:
        table.add_column("expected", justify="right")
    table.add_column("found", justify="right")
    for kind, found_map, expected_map in (
        ("label", found.nodes, expected.nodes if expected else {}),
        ("relationship", found.relationships, expected.relationships if expected else {}),
    ):
        for name in sorted(set(found_map) | set(expected_map)):
            cells = [kind, name]
            if expected is not None:
                cells.append(f"{expected_map.get(name, 0):,}")
            cells.append(f"{found_map.get(name, 0):,}")
            table.add_row(*cells)
    return table


def show_load_report(report: LoadReport) -> None:
    """Print what a load found in the store and how fast each phase wrote."""
    stdout_console.print(counts_table(report.found, report.expected))
    if report.up_to_date:
        stdout_console.print("store already holds this load: nothing written (use --force to re-merge)")
    else:
        total_rows = sum(report.rows.values())
        total_seconds = sum(report.seconds.values())
        if total_seconds > 0:
            stdout_console.print(
                f"wrote {total_rows:,} rows in {total_seconds:.1f} s ({total_rows / total_seconds:,.0f} rows/s)"
            )
    stdout_console.print(f"exact duplicate KG triples dropped: {report.duplicate_triples:,}")
    stdout_console.print(f"loaded: {summary_line(report.found)}")


def show_counts(counts: GraphCounts) -> None:
    """Print the counts of a store."""
    stdout_console.print(counts_table(counts))
    stdout_console.print(summary_line(counts))


def show_export(report: ExportReport) -> None:
    """Print what `kragrec kg export` wrote."""
    stdout_console.print(
        f"exported {report.nodes:,} nodes and {report.relationships:,} relationships as {report.format} "
        f"to {escape(str(report.out))} in {report.seconds:.1f} s"
    )


def show_registered(dataset: Dataset) -> None:
    """Print what a registered dataset holds."""
    stdout_console.print(
        f"registered {dataset.name}: {len(dataset.users):,} users, {len(dataset.items):,} items, "
        f"{len(dataset.interactions):,} interactions, {len(dataset.triples):,} KG triples "
        f"({dataset.duplicate_triples:,} exact duplicates dropped), {len(dataset.links):,} item links"
    )


def show_prepared(summary: PreparedSummary) -> None:
    """Print where the prepared files went and their sample counts."""
    counts = ", ".join(f"{name} {count:,}" for name, count in summary.counts.items())
    stdout_console.print(f"prepared {summary.directory}: {counts} samples")


def show_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], as_json: bool) -> None:
    """Print query results as a table, or one JSON object per row."""
    if as_json:
        for row in rows:
            print(json.dumps(dict(zip(columns, row, strict=True)), default=str, ensure_ascii=False))
        return
    table = Table()
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(value) for value in row))
    stdout_console.print(table)
    stdout_console.print(f"{len(rows)} row(s)")


def show_index_report(report: IndexReport) -> None:
    """Print what `kragrec index` built or confirmed."""
    spec = report.spec
    state = "up to date, nothing rebuilt" if report.up_to_date else "built"
    stdout_console.print(
        f"index {spec.collection!r} {state}: {report.points:,} entities x {len(spec.vector_names)} layers "
        f"({', '.join(spec.vector_names)}), {report.dim}-d, encoder {spec.encoder}, graph {spec.graph_fingerprint}"
        + (f"; vectors in {escape(report.store)}" if report.store else "")
    )
    stdout_console.print("timings: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.seconds.items()))


def show_evidence(view: dict[str, Any]) -> None:
    """Print a user's history and the retrieved sub-graphs as a tree."""
    target = f" (target item {view['target']})" if view["target"] is not None else ""
    tree = Tree(escape(f"user {view['user']}{target}"))
    history = tree.add("history (★ = less popular, augmented with KG evidence)")
    for entry in view["history"]:
        mark = "★" if entry["augmented"] else " "
        history.add(escape(f"{mark} {entry['title']}  (popularity percentile {entry['pop_pct']:.2f})"))
    kept = tree.add(f"kept sub-graphs ({len(view['subgraphs'])})")
    for subgraph in view["subgraphs"]:
        texts = {node["id"]: node["text"] for node in subgraph["nodes"]}
        branch = kept.add(
            escape(
                f"#{subgraph['rank']} hop{subgraph['layer']} {subgraph['entity_text']}  "
                f"(score {subgraph['score']:.3f}, {len(subgraph['nodes'])} nodes, {len(subgraph['edges'])} edges)"
            )
        )
        for edge in subgraph["edges"]:
            branch.add(escape(f"{_short(texts[edge['head']])} —{edge['relation']}→ {_short(texts[edge['tail']])}"))
    stdout_console.print(tree, soft_wrap=False)
    stdout_console.print("timings: " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in view["timings_ms"].items()))


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def show_training_summary(summary: dict[str, Any]) -> None:
    """Print the best validation metrics of a run next to popularity and chance on the same samples."""
    best = summary["best"]
    if best is None:
        stdout_console.print(f"run {summary['run_dir']}: no validation yet")
        return
    names = list(best["valid"])
    table = Table(title=f"validation, {summary['valid_samples']} samples: {summary['run_dir']}")
    table.add_column("ranking")
    for name in names:
        table.add_column(name, justify="right")
    table.add_row(f"model (best: step {best['step']})", *(f"{best['valid'][n]:.4f}" for n in names))
    for label, metrics in summary["references"].items():
        table.add_row(label, *(f"{metrics[n]:.4f}" for n in names))
    stdout_console.print(table)


def _metric_table(title: str, columns: list[tuple[str, dict[str, Any]]], chance: dict[str, float] | None) -> Table:
    """One row per metric, one column per ranking (value and 95 % interval): narrow enough for 80 columns."""
    table = Table(title=escape(title))
    table.add_column("metric")
    for label, _ in columns:
        table.add_column(escape(label), justify="right")
    if chance is not None:
        table.add_column("chance", justify="right")
    for name in columns[0][1]["metrics"]:
        cells = [with_interval(block, name) for _, block in columns]
        table.add_row(name, *cells, *([f"{chance[name]:.3f}"] if chance is not None else []))
    return table


def show_evaluation(report: dict[str, Any], reference: dict[str, Any] | None) -> None:
    """Metrics with 95 % bootstrap intervals next to popularity (same samples) and chance; cold start; fictions."""
    rows = [r for r in (report, reference) if r is not None]
    title = f"{report['split']}, {report['samples']} samples (95 % bootstrap intervals)"
    stdout_console.print(_metric_table(title, [(r["method"], r) for r in rows], report["chance"]))
    cold = [(r["method"], r["cold_start"]) for r in rows]
    title = f"cold start: the {report['cold_start']['samples']} samples with the least rated targets"
    stdout_console.print(_metric_table(title, cold, None))
    if "prior" in report:
        prior = report["prior"]
        stdout_console.print(
            f"mixed with the {escape(prior['method'])} run {escape(prior['run'])} at share {prior['share']:.2f}, "
            f"chosen on {prior['valid_samples']} validation samples"
        )
    for row in rows:
        if "fictional_first" in row:
            stdout_console.print(
                f"{escape(row['method'])}: a fictional film ranked first in {row['fictional_first']:.1%}"
            )


def show_recommendation(result: Recommendation) -> None:
    """A user's ranked candidates with probabilities (the held-out target marked), then the evidence if asked."""
    table = Table(title=escape(f"user {result.user}: top {len(result.ranked)}"))
    for column, justify in (("#", "right"), ("item", "left"), ("title", "left"), ("probability", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for rank, entry in enumerate(result.ranked, start=1):
        mark = " ← held-out target" if entry["is_target"] else ""
        table.add_row(str(rank), escape(entry["item"]), escape(entry["title"] + mark), f"{entry['probability']:.3f}")
    stdout_console.print("history: " + escape("; ".join(result.history)))
    stdout_console.print(table)
    if result.evidence is not None:
        show_evidence(result.evidence)
    elif result.paths is not None:
        tree = Tree("relation paths given to the LLM (one chosen per history item)")
        for line in result.paths or ["none: no history item reaches a candidate within the path settings"]:
            tree.add(escape(line))
        stdout_console.print(tree)
    elif result.fed not in ("graph", "text", "paths"):
        stdout_console.print(f"this method is given no KG evidence ({result.fed})")


def show_full_ranking(report: dict[str, Any]) -> None:
    """Full-ranking metrics: over all users, on the retrieval subset, and the retriever alone (95 % intervals)."""
    columns = [
        (f"all users ({report['overall']['users']})", report["overall"]),
        (f"retrieved ({report['retrieval_subset']['users']})", report["retrieval_subset"]),
        ("retriever alone", report["retriever_alone"]),
    ]
    stdout_console.print(escape(report["method"]))
    stdout_console.print(_metric_table(f"{report['split']}: {report['protocol']}", columns, None))


def show_evaluation_result(result: EvaluationResult) -> None:
    """A full-ranking report, or a report of the prepared lists beside its popularity reference."""
    if result.full_ranking:
        show_full_ranking(result.report)
    else:
        show_evaluation(result.report, result.reference)
