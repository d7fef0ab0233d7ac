"""Benchmark: K-RagRec retrieval on ML-100K test users, cold and warm cache, against the released code's loop.

The baseline re-implements the released retrieval loop (not its code): per sample it encodes every
augmented item's title and the prompt, ranks all layer-0 and layer-1 vectors by brute-force cosine,
keeps N per layer, and builds each kept node's 1-hop star after rebuilding an edge -> index dict over
all KG edges for every sub-graph. Both sides produce PyG Data objects for the same samples and items.

Run: .venv/bin/python bench/retrieval.py [--data-dir .kragrec] [--rebuild] [--cold-users 100]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import networkx as nx
import numpy as np
import torch
from ml100k import loaded_ml100k
from torch_geometric.data import Data

from kragrec.files import read_jsonl
from kragrec.retrieval.index_builder import build_index
from kragrec.retrieval.retriever import Retriever, retrieval_query_text
from kragrec.retrieval.session import open_retriever

TARGET_WARM_P95_MS = 10.0
TARGET_RATIO = 50.0


def percentiles(seconds: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    values = np.array(seconds) * 1000
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def kragrec_sample(retriever: Retriever, history: list[str]) -> list[Data]:
    """kragrec retrieval of one sample, down to PyG Data objects."""
    return [retriever.features.data(g) for g in retriever.retrieve(history).subgraphs]


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
    parser.add_argument("--rebuild", action="store_true", help="time a fresh index build")
    parser.add_argument("--cold-users", type=int, default=100, help="test users timed cold and through the baseline")
    args = parser.parse_args()
    settings = loaded_ml100k(args.data_dir)
    started = time.perf_counter()
    report = build_index(settings, force=args.rebuild)
    state = "fresh build" if not report.up_to_date else "already up to date (use --rebuild for a fresh build)"
    print(f"index: {time.perf_counter() - started:.1f} s, {state}; {report.points:,} entities, {report.dim}-d")
    samples = read_jsonl(settings.prepared_dir / "test.jsonl")
    cold_samples = samples[: args.cold_users]

    with open_retriever(settings, persist_cache=False) as retriever:
        opened = time.perf_counter()
        retriever.vector_store.count(report.spec.collection)
        print(f"opening Qdrant ({retriever.vector_store.location}): {time.perf_counter() - opened:.1f} s, once")

        cold = []
        for sample in cold_samples:
            retriever.clear_caches()
            began = time.perf_counter()
            kragrec_sample(retriever, sample["history"])
            cold.append(time.perf_counter() - began)

        texts = [retrieval_query_text([retriever.graph.items[i].text for i in s["history"]]) for s in samples]
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
    rows = []
    for name, values in (("kragrec warm cache", warm), ("kragrec cold cache", cold), ("released loop", baseline)):
        rows.append((f"{name} ({len(values)} users)", values))
        helped = [v for v, keep in zip(values, with_kg, strict=False) if keep]
        rows.append((f"  of which with KG help ({len(helped)})", helped))
    print(f"{'per-sample latency':<40} {'p50 ms':>9} {'p95 ms':>9}")
    for name, values in rows:
        p50, p95 = percentiles(values)
        print(f"{name:<40} {p50:>9.2f} {p95:>9.2f}")
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
    print(
        f"warm p95 {'meets' if all_warm95 <= TARGET_WARM_P95_MS else 'MISSES'} the {TARGET_WARM_P95_MS:.0f} ms "
        f"target; speed-up {'meets' if ratio >= TARGET_RATIO else 'MISSES'} the {TARGET_RATIO:.0f}x target"
    )


if __name__ == "__main__":
    main()
