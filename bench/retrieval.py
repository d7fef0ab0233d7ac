"""Benchmark: K-RagRec retrieval on ML-100K test users, cold and warm cache, against the released code's loop,
and the vector store's search against exact search.

The baseline re-implements the released retrieval loop (not its code): per sample it encodes every
augmented item's title and the prompt, ranks all layer-0 and layer-1 vectors by brute-force cosine,
keeps N per layer, and builds each kept node's 1-hop star after rebuilding an edge -> index dict over
all KG edges for every sub-graph. Both sides produce PyG Data objects for the same samples and items.

The vector store (--vector-backend: edge, the default, searches HNSW graphs; local is brute force) is timed
opening, and per item query (all hop layers, top-k); its hits are compared with exact cosine search in numpy over
the index's vectors.npz for every item's query: recall@k (a hit counts when its score reaches the exact k-th
score, since ML-100K has many entities with identical vectors), and every test sample's kept sub-graphs.
Cold retrievals are broken down by step (item search with its item-text encoding, query encoding, re-rank,
Cypher sub-graph expansion), and each CLI verb a person waits for is timed as a fresh process: `kg stats`,
`retrieve --user U` with no retrieval cache, and `recommend RUN --user U` when --run names a trained run; then
`kragrec serve RUN` is started (timed until it serves) and `recommend RUN --user U --server URL` is timed for users
the server has not ranked yet.

Run: .venv/bin/python bench/retrieval.py [--data-dir .kragrec] [--vector-backend edge] [--rebuild] [--cold-users 100]
     [--run RUN_DIR] [--cli-user 5]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import networkx as nx
import numpy as np
import torch
from ml100k import loaded_ml100k
from torch_geometric.data import Data

from kragrec.config import Settings
from kragrec.data.records import evaluation_records
from kragrec.files import read_jsonl
from kragrec.retrieval.index_builder import build_index
from kragrec.retrieval.retriever import Retriever, retrieval_query_text
from kragrec.retrieval.session import cache_path, open_retriever
from kragrec.vectors.backends import describe_store, store_identity
from kragrec.vectors.store import Hit

TARGET_WARM_P95_MS = 10.0
TARGET_RATIO = 50.0
TARGET_RECALL = 0.99
TARGET_COLD_P95_MS = 30.0
TARGET_COLD_RATIO = 20.0
TARGET_OPEN_S = 1.0
# Wall-time targets (seconds) of the CLI verbs a person waits for.
TARGET_WALL_S = {"kg stats": 1.0, "retrieve": 2.0, "recommend": 4.0, "recommend --server": 4.0}
CLI_REPEATS = 3


def percentiles(seconds: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    values = np.array(seconds) * 1000
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


class ExactSearch:
    """Brute-force cosine search over the layers in memory: the reference an index's hits are measured against.
    Same contract as VectorStore.search; ties are broken by point id, then layer."""

    def __init__(self, layers: Sequence[np.ndarray]) -> None:
        self.layers = [layer / np.linalg.norm(layer, axis=1, keepdims=True) for layer in layers]

    def search(self, name: str, queries: np.ndarray, vector_names: Sequence[str], limit: int) -> list[list[Hit]]:
        found = []
        for query in queries / np.linalg.norm(queries, axis=1, keepdims=True):
            hits = []
            for vector_name in vector_names:
                scores = self.layers[int(vector_name[3:])] @ query
                kth = np.partition(scores, len(scores) - limit)[len(scores) - limit]
                rows = np.flatnonzero(scores >= kth)  # every row tied with the k-th, so ties go to the lowest id
                hits += [Hit(int(row), vector_name, float(scores[row])) for row in rows]
            hits.sort(key=lambda h: (-h.score, h.point_id, h.vector_name))
            found.append(hits[:limit])
        return found


def recall_at_k(found: list[list[Hit]], exact: list[list[Hit]], tolerance: float = 1e-5) -> float:
    """Share of the exact top-k matched: a hit counts when its score reaches the exact k-th score."""
    matched = sum(sum(h.score >= e[-1].score - tolerance for h in f) for f, e in zip(found, exact, strict=True))
    return matched / sum(len(e) for e in exact)


def kept_lists(retriever: Retriever, samples: list[dict]) -> list[list[tuple[int, int, float]]]:
    """The (entity row, layer, score) each sample keeps: item search, then re-ranking, without the sub-graphs."""
    items = retriever.graph.items
    texts = [retrieval_query_text([items[i].text for i in s["history"]]) for s in samples]
    retriever.encode_queries(texts)
    kept = []
    for sample, text in zip(samples, texts, strict=True):
        augmented = retriever.select(sample["history"])
        hits = retriever.hits_for_items(augmented)
        found = [c for item in augmented for c in hits[item]]
        query = retriever.query_vectors[text]
        chosen = retriever.rerank(found, query) if retriever.settings.rerank else retriever.best_hits(found)
        kept.append([(c.row, c.layer, c.score) for c in chosen])
    return kept


def compare_with_exact(retriever: Retriever, samples: list[dict]) -> None:
    """Time one item search in the store and in exact search, report recall@k over every item's query, and count
    the test samples whose kept sub-graphs equal those of exact search."""
    store, collection = retriever.vector_store, retriever.collection
    names, k = retriever.vector_names, retriever.settings.top_k
    exact = ExactSearch(retriever.layers)
    items = sorted(retriever.graph.items)
    queries = retriever.encoder.encode([retriever.graph.items[item].text for item in items], batch_size=128)
    found, timed, exact_hits, exact_timed = [], [], [], []
    for query in queries:  # one loop each: numpy's BLAS threads keep spinning a while after each product
        began = time.perf_counter()
        found += store.search(collection, query[None], names, k)
        timed.append(time.perf_counter() - began)
    for query in queries:
        began = time.perf_counter()
        exact_hits += exact.search(collection, query[None], names, k)
        exact_timed.append(time.perf_counter() - began)
    print(f"one item's search ({len(names)} layers, top {k}), {len(items)} items:")
    for name, values in (
        (f"  {store_identity(retriever.settings)}", timed),
        ("  exact, numpy over vectors.npz", exact_timed),
    ):
        p50, p95 = percentiles(values)
        print(f"{name:<40} {p50:>9.2f} {p95:>9.2f}")
    recall = recall_at_k(found, exact_hits)
    same = sum(
        [(h.point_id, h.vector_name) for h in f] == [(h.point_id, h.vector_name) for h in e]
        for f, e in zip(found, exact_hits, strict=True)
    )
    print(
        f"recall@{k} against exact search over {len(items)} item queries: {recall:.4f} "
        f"({'meets' if recall >= TARGET_RECALL else 'MISSES'} the {TARGET_RECALL} target); "
        f"identical top-{k} lists (ids and layers): {same}/{len(items)}"
    )
    kept = kept_lists(retriever, samples)
    lazy = retriever.vector_store
    retriever.item_hits.clear()
    retriever.vector_store = exact  # type: ignore[assignment]
    try:
        reference = kept_lists(retriever, samples)
    finally:
        retriever.vector_store = lazy
        retriever.item_hits.clear()
    pairs = [(a, b) for a, b in zip(kept, reference, strict=True) if b]  # the samples with KG help
    identical = sum([r[:2] for r in a] == [r[:2] for r in b] for a, b in pairs)
    tied = sum(len(a) == len(b) and all(abs(x[2] - y[2]) <= 1e-5 for x, y in zip(a, b, strict=True)) for a, b in pairs)
    print(
        f"test samples with KG help whose kept sub-graphs equal exact search's: {identical}/{len(pairs)}; "
        f"with the same scores (differing at most among tied vectors): {tied}/{len(pairs)}"
    )


def kragrec_sample(retriever: Retriever, history: list[str]) -> list[Data]:
    """kragrec retrieval of one sample, down to PyG Data objects."""
    return [retriever.features.data(g) for g in retriever.retrieve(history).subgraphs]


def cold_retrievals(retriever: Retriever, samples: list[dict]) -> tuple[list[float], dict[str, list[float]]]:
    """Each sample retrieved with every cache emptied first: its time down to PyG Data, and its steps' times for
    the samples with KG help."""
    totals: list[float] = []
    steps: dict[str, list[float]] = {}
    for sample in samples:
        retriever.clear_caches()
        began = time.perf_counter()
        retrieval = retriever.retrieve(sample["history"])
        [retriever.features.data(g) for g in retrieval.subgraphs]
        totals.append(time.perf_counter() - began)
        if retrieval.augmented:
            for step, seconds in retrieval.timings.items():
                steps.setdefault(step, []).append(seconds)
    return totals, steps


def print_steps(steps: dict[str, list[float]]) -> None:
    """p50 and p95 of each step of the cold retrievals with KG help."""
    for step, values in steps.items():
        p50, p95 = percentiles(values)
        print(f"{'  step: ' + step:<40} {p50:>9.2f} {p95:>9.2f}")


def wall_seconds(arguments: list[str], before: Callable[[], None] | None = None) -> float:
    """Median wall time of a kragrec command run as a fresh process (`before` runs ahead of each, untimed)."""
    command = [str(Path(sys.executable).parent / "kragrec"), *arguments]
    times = []
    for _ in range(CLI_REPEATS):
        if before is not None:
            before()
        began = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - began)
    return float(np.median(times))


def served_wall_seconds(run_dir: Path, common: list[str], users: list[str]) -> tuple[float, float]:
    """Start `kragrec serve RUN` (seconds until it serves, its model built), then the median wall time of a fresh
    `recommend RUN --server URL` process over `users`, none ranked by the server before; the server is stopped."""
    kragrec = str(Path(sys.executable).parent / "kragrec")
    began = time.perf_counter()
    serve = [kragrec, "serve", str(run_dir), "--port", "0", *common]
    server = subprocess.Popen(serve, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        while "serving" not in line:
            line = server.stderr.readline()  # type: ignore[union-attr]
            if not line:
                raise RuntimeError("kragrec serve exited before serving")
        start_seconds = time.perf_counter() - began
        url = line.split(" at ")[1].split()[0]
        times = []
        for user in users:
            command = [kragrec, "recommend", str(run_dir), "--user", user, "--top", "3", *common, "--server", url]
            began = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            times.append(time.perf_counter() - began)
        server.terminate()
        server.wait(timeout=60)
    finally:
        server.kill()
    return start_seconds, float(np.median(times))


def cli_wall_times(
    settings: Settings, cache_file: Path, user: str, run_dir: Path | None, served_users: list[str]
) -> dict[str, float]:
    """Wall time of `kg stats`, of `retrieve --user` with no retrieval cache (the cache file is set aside and put
    back) and, given a trained run, of `recommend`, of `kragrec serve`'s start and of `recommend --server` for
    `served_users` (no retrieval cache either)."""
    data_dir = ["--data-dir", str(settings.data_dir)]
    common = [*data_dir, "--vector-backend", settings.vector_backend]
    times = {"kg stats": wall_seconds(["kg", "stats", *data_dir])}
    with tempfile.TemporaryDirectory() as kept:
        saved = Path(kept) / "cache.json"
        if cache_file.is_file():
            shutil.copy2(cache_file, saved)

        def uncached() -> None:
            cache_file.unlink(missing_ok=True)

        try:
            times["retrieve"] = wall_seconds(["retrieve", "--user", user, "--json", *common], uncached)
            if run_dir is not None:
                recommend = ["recommend", str(run_dir), "--user", user, "--top", "3", *common]
                times["recommend"] = wall_seconds(recommend, uncached)
                uncached()
                times["serve start"], times["recommend --server"] = served_wall_seconds(run_dir, common, served_users)
        finally:
            cache_file.unlink(missing_ok=True)
            if saved.is_file():
                shutil.copy2(saved, cache_file)
    return times


class ReleasedLoop:
    """The released code's retrieval loop over the same vectors and graph."""

    def __init__(self, retriever: Retriever) -> None:
        graph = retriever.graph
        self.retriever = retriever
        self.x0 = torch.from_numpy(retriever.layers[0])
        self.x1 = torch.from_numpy(retriever.layers[1])
        self.edge_index = np.stack([graph.heads, graph.tails])
        self.edge_attr = torch.from_numpy(retriever.features.relation_vectors[graph.edge_relations])
        self.nx_graph = nx.Graph()
        self.nx_graph.add_edges_from(self.edge_index.T.tolist())
        self.k = retriever.settings.top_k
        self.n = retriever.settings.top_n

    def ego1(self, node: int) -> Data:
        edge_to_index = {(int(s), int(d)): i for i, (s, d) in enumerate(self.edge_index.T)}  # rebuilt per call
        nodes = list({node, *self.nx_graph.neighbors(node)})
        local = {n: i for i, n in enumerate(nodes)}
        pairs = [(node, m) for m in nodes if m != node]
        rows = [edge_to_index.get(p, edge_to_index.get((p[1], p[0]))) for p in pairs]
        edge_index = torch.tensor([[local[a] for a, _ in pairs], [local[b] for _, b in pairs]], dtype=torch.long)
        return Data(x=self.x0[nodes], edge_index=edge_index.reshape(2, -1), edge_attr=self.edge_attr[rows])

    def sample(self, history: list[str], augmented: list[str]) -> list[Data]:
        encoder, items = self.retriever.encoder, self.retriever.graph.items
        c0: list[int] = []
        c1: list[int] = []
        for item in augmented:
            query = torch.from_numpy(encoder.encode([items[item].text])[0])
            c0 += torch.topk(torch.nn.functional.cosine_similarity(query[None], self.x0), self.k).indices.tolist()
            c1 += torch.topk(torch.nn.functional.cosine_similarity(query[None], self.x1), self.k).indices.tolist()
        prompt = torch.from_numpy(encoder.encode([retrieval_query_text([items[i].text for i in history])])[0])
        kept = []
        for layer, candidates in ((self.x0, c0), (self.x1, c1)):
            if candidates:
                scores = torch.nn.functional.cosine_similarity(prompt[None], layer[candidates])
                kept += [candidates[i] for i in torch.topk(scores, min(self.n, len(candidates))).indices.tolist()]
        return [self.ego1(node) for node in kept]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(".kragrec"))
    parser.add_argument("--vector-backend", default="edge", help="edge (default) or local")
    parser.add_argument("--rebuild", action="store_true", help="time a fresh index build")
    parser.add_argument("--cold-users", type=int, default=100, help="test users timed cold and through the baseline")
    parser.add_argument(
        "--search-only", action="store_true", help="only the store: opening, cold retrieval, search against exact"
    )
    parser.add_argument("--run", type=Path, help="a trained run, to time `kragrec recommend` with it")
    parser.add_argument("--cli-user", default="5", help="the user the CLI verbs are timed with")
    args = parser.parse_args()
    settings = replace(loaded_ml100k(args.data_dir), vector_backend=args.vector_backend)
    started = time.perf_counter()
    report = build_index(settings, force=args.rebuild)
    state = "fresh build" if not report.up_to_date else "already up to date (use --rebuild for a fresh build)"
    timings = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.seconds.items())
    print(
        f"index: {time.perf_counter() - started:.1f} s, {state} ({timings}); {report.points:,} entities, {report.dim}-d"
    )
    samples = read_jsonl(settings.prepared_dir / "test.jsonl")
    cold_samples = samples[: args.cold_users]

    warm_up_user = evaluation_records(settings, "test", 1)[0].user  # `kragrec serve` ranks it before serving
    served_users = [s["user"] for s in samples if s["user"] not in (args.cli_user, warm_up_user)][:CLI_REPEATS]
    walls = cli_wall_times(settings, cache_path(settings, report.spec), args.cli_user, args.run, served_users)
    print(f"CLI verbs, wall time of a fresh process (median of {CLI_REPEATS}):")
    for verb, seconds in walls.items():
        target = TARGET_WALL_S.get(verb)
        verdict = f" ({'meets' if seconds <= target else 'MISSES'} the {target:.1f} s target)" if target else ""
        print(f"  {verb:<20} {seconds:6.2f} s{verdict}")

    with open_retriever(settings, persist_cache=False) as retriever:
        opened = time.perf_counter()
        retriever.vector_store.count(report.spec.collection)
        open_seconds = time.perf_counter() - opened
        verdict = "meets" if open_seconds <= TARGET_OPEN_S else "MISSES"
        print(
            f"opening the vector store ({describe_store(settings)}): {open_seconds:.2f} s, once "
            f"({verdict} the {TARGET_OPEN_S:.1f} s target)"
        )

        cold, steps = cold_retrievals(retriever, cold_samples)
        compare_with_exact(retriever, samples)
        if args.search_only:
            with_kg = [len(retriever.select(s["history"])) > 0 for s in cold_samples]
            print_rows({f"kragrec cold cache, {args.vector_backend}": cold}, with_kg)
            print_steps(steps)
            return

        texts = [retrieval_query_text([retriever.graph.items[i].text for i in s["history"]]) for s in samples]
        retriever.query_vectors.clear()
        began = time.perf_counter()
        retriever.encode_queries(texts)
        encode_per_sample = (time.perf_counter() - began) / len(samples)
        for sample in samples:  # fill the item-level and sub-graph caches
            kragrec_sample(retriever, sample["history"])
        warm = []
        for sample in samples:
            began = time.perf_counter()
            kragrec_sample(retriever, sample["history"])
            warm.append(time.perf_counter() - began)

        loop = ReleasedLoop(retriever)
        baseline = []
        for sample in cold_samples:
            augmented = retriever.select(sample["history"])
            began = time.perf_counter()
            loop.sample(sample["history"], augmented)
            baseline.append(time.perf_counter() - began)

    augmented_counts = [len(retriever.select(s["history"])) for s in samples]
    print(f"samples: {len(samples)} test users, {np.mean(augmented_counts):.2f} augmented items per sample on average")
    with_kg = [n > 0 for n in augmented_counts]
    print_rows(
        {"kragrec warm cache": warm, f"kragrec cold cache, {args.vector_backend}": cold, "released loop": baseline},
        with_kg,
    )
    print("cold retrievals with KG help, by step:")
    print_steps(steps)
    print(f"query texts encoded in one batch: {1000 * encode_per_sample:.2f} ms per sample (not in the warm numbers)")
    same_users = [v for v, keep in zip(warm[: len(baseline)], with_kg, strict=False) if keep]
    base_helped = [v for v, keep in zip(baseline, with_kg, strict=False) if keep]
    cold_helped = [v for v, keep in zip(cold, with_kg, strict=False) if keep]
    warm50, warm95 = percentiles(same_users)
    base50, base95 = percentiles(base_helped)
    cold50, _ = percentiles(cold_helped)
    _, all_warm95 = percentiles(warm)
    ratio = base50 / warm50
    print(
        f"same {len(base_helped)} users with KG help: released loop / kragrec warm = {ratio:.0f}x at p50, "
        f"{base95 / warm95:.0f}x at p95; released loop / kragrec cold = {base50 / cold50:.1f}x at p50"
    )
    _, cold95 = percentiles(cold_helped)
    cold_ratio = base50 / cold50
    print(
        f"warm p95 {'meets' if all_warm95 <= TARGET_WARM_P95_MS else 'MISSES'} the {TARGET_WARM_P95_MS:.0f} ms "
        f"target; speed-up {'meets' if ratio >= TARGET_RATIO else 'MISSES'} the {TARGET_RATIO:.0f}x target"
    )
    print(
        f"cold with KG help: p95 {cold95:.1f} ms {'meets' if cold95 <= TARGET_COLD_P95_MS else 'MISSES'} the "
        f"{TARGET_COLD_P95_MS:.0f} ms target; {cold_ratio:.1f}x the released loop at p50 "
        f"{'meets' if cold_ratio >= TARGET_COLD_RATIO else 'MISSES'} the {TARGET_COLD_RATIO:.0f}x target"
    )


def print_rows(series: dict[str, list[float]], with_kg: list[bool]) -> None:
    """p50 and p95 of each series, and of its samples with KG help."""
    print(f"{'per-sample latency':<40} {'p50 ms':>9} {'p95 ms':>9}")
    for name, values in series.items():
        helped = [v for v, keep in zip(values, with_kg, strict=False) if keep]
        for label, part in (
            (f"{name} ({len(values)} users)", values),
            (f"  of which with KG help ({len(helped)})", helped),
        ):
            p50, p95 = percentiles(part)
            print(f"{label:<40} {p50:>9.2f} {p95:>9.2f}")


if __name__ == "__main__":
    main()
