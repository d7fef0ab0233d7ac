"""Benchmark: LKG-RAG path retrieval per sample on ML-100K test users, cold and warm, against the released pattern.

kragrec reads the shortest typed path (at most 4 hops, hubs capped) of every (history item, candidate) pair of a
sample in one Cypher round trip and caches each pair. The released code's pattern (re-implemented, not copied)
sends one unbounded, untyped shortestPath query per user-history pair and per history-candidate pair: with this
project's 10-item histories and 20 candidates that is 10 + 200 = 210 round trips per sample (420 with the paper's
20-item histories). Both run on the embedded store in the same process.

Run: .venv/bin/python bench/paths.py [--data-dir .kragrec] [--samples 100] [--released-samples 3]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from ml100k import loaded_ml100k

from kragrec.files import read_jsonl
from kragrec.graph.backends import open_graph_store
from kragrec.graph.store import GraphStore
from kragrec.paths.finder import PathFinder

TARGET_WARM_MS = 20.0
# The released queries (unbounded: the engine's longest recursive bound, 30; any relationship type).
RELEASED_USER_HISTORY = (
    "MATCH (u:User {id: $user}), (m:Item {id: $item}) MATCH p = (u)-[* SHORTEST 1..30]->(m) RETURN length(p)"
)
RELEASED_HISTORY_CANDIDATE = (
    "MATCH (a:Item {id: $head}), (b:Item {id: $tail}) MATCH p = (a)-[* SHORTEST 1..30]->(b) RETURN length(p)"
)


def milliseconds(seconds: list[float]) -> str:
    """'p50 / p95 ms' of a list of durations."""
    values = np.array(seconds) * 1000
    return f"p50 {np.percentile(values, 50):.2f} ms, p95 {np.percentile(values, 95):.2f} ms"


def released_sample(store: GraphStore, sample: dict) -> int:
    """The released per-pair pattern for one sample; returns its number of round trips."""
    trips = 0
    for item in sample["history"]:
        store.read_query(RELEASED_USER_HISTORY, {"user": sample["user"], "item": item})
        trips += 1
        for candidate in sample["candidates"]:
            store.read_query(RELEASED_HISTORY_CANDIDATE, {"head": item, "tail": candidate})
            trips += 1
    return trips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(".kragrec"))
    parser.add_argument("--samples", type=int, default=100, help="test samples timed cold and warm")
    parser.add_argument("--released-samples", type=int, default=3, help="samples timed with the released pattern")
    args = parser.parse_args()
    settings = loaded_ml100k(args.data_dir)
    samples = read_jsonl(settings.prepared_dir / "test.jsonl")[: args.samples]
    store = open_graph_store(settings, read_only=True)
    try:
        finder = PathFinder(store, settings.path_hops, settings.path_hub_cap)
        cold, warm, connected = [], [], 0
        for sample in samples:
            began = time.perf_counter()
            found = finder.paths(sample["history"], sample["candidates"])
            cold.append(time.perf_counter() - began)
            connected += sum(path is not None for path in found.values())
        trips_cold = finder.round_trips
        for sample in samples:
            began = time.perf_counter()
            finder.paths(sample["history"], sample["candidates"])
            warm.append(time.perf_counter() - began)
        pairs = sum(len(s["history"]) * len(s["candidates"]) for s in samples)
        print(
            f"kragrec, {len(samples)} test samples, {pairs:,} pairs, {connected / pairs:.1%} connected within "
            f"{settings.path_hops} hops (hub cap {settings.path_hub_cap})"
        )
        print(f"  cold: {milliseconds(cold)}; round trips per sample: {trips_cold / len(samples):.2f}")
        print(f"  warm (pair cache): {milliseconds(warm)}; round trips: {finder.round_trips - trips_cold}")
        released, trips = [], 0
        for sample in samples[: args.released_samples]:
            began = time.perf_counter()
            trips += released_sample(store, sample)
            released.append(time.perf_counter() - began)
        shown = len(released)
        print(
            f"released pattern, {shown} samples: {milliseconds(released)}; round trips per sample: {trips / shown:.0f}"
        )
        ratio = np.median(released) / np.median(cold[:shown])
        print(f"ratio at p50 on the same {shown} samples, released / kragrec cold: {ratio:.1f}x")
        verdict = "met" if np.percentile(np.array(warm) * 1000, 95) <= TARGET_WARM_MS else "NOT met"
        print(f"target: warm <= {TARGET_WARM_MS:.0f} ms per sample at p95 — {verdict}")
    finally:
        store.close()


if __name__ == "__main__":
    main()
