"""Index, vector store and retriever end to end on the tiny dataset, with the real MiniLM encoder."""

from __future__ import annotations

import json
import shutil
from dataclasses import fields, replace

import networkx as nx
import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from kragrec.cli import app
from kragrec.config import public_url
from kragrec.data.prepare import prepare
from kragrec.data.registry import register
from kragrec.errors import KragrecError
from kragrec.graph.backends import open_graph_store
from kragrec.loading.loader import load_kg
from kragrec.retrieval import index_builder
from kragrec.retrieval.graph_view import KnowledgeGraph, read_graph_snapshot, read_knowledge_graph
from kragrec.retrieval.index_builder import build_index
from kragrec.retrieval.index_spec import GRAPH_FILE, current_spec, index_dir, read_item_queries
from kragrec.retrieval.retriever import retrieval_query_text
from kragrec.retrieval.session import open_retriever
from kragrec.retrieval.subgraph import SubGraphExtractor
from kragrec.vectors import edge
from kragrec.vectors.backends import open_vector_store, store_folder, store_identity

from conftest import TINY, empty_graph, make_settings, server_options


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, stores):
    """The tiny dataset loaded and indexed on every pair of graph and vector backends."""
    graph, vectors = stores
    folder = tmp_path_factory.mktemp("idx")
    settings = make_settings(folder, graph, vectors, dataset="tiny", fanout=2, pop_threshold=0.6)
    register(settings, TINY, "tiny", origin="fixture")
    empty_graph(settings)
    prepare(settings)
    load_kg(settings)
    report = build_index(settings)
    assert not report.up_to_date
    return settings


def test_the_index_lives_where_the_parameter_says(indexed, stores):
    graph, vectors = stores
    assert indexed.backend == graph
    identities = {
        "edge": f"edge:v{edge.FORMAT_VERSION}:ef{edge.SEARCH_EF}:fetch{edge.SEARCH_FETCH}",
        "local": "local:qdrant",
        "qdrant-server": public_url(str(indexed.qdrant_url)),
    }
    assert store_identity(indexed) == identities[vectors]
    collection = current_spec(indexed).collection
    embedded = {"edge": indexed.data_dir / "edge" / collection / "format.json", "local": indexed.data_dir / "qdrant"}
    for backend, path in embedded.items():
        assert path.exists() == (backend == vectors), backend


def reference_subgraph(multigraph: nx.MultiDiGraph, seed: str, hops: int, fanout: int):
    """The extraction rule, written independently with networkx."""
    undirected = multigraph.to_undirected(as_view=True)
    nodes, edges, frontier = [seed], set(), [seed]
    for _ in range(hops):
        following = []
        for node in frontier:
            for neighbour in sorted(n for n in undirected.neighbors(node) if n != node)[:fanout]:
                for h, t in ((node, neighbour), (neighbour, node)):
                    for data in multigraph.get_edge_data(h, t, default={}).values():
                        edges.add((h, data["type"], t))
                if neighbour not in nodes:
                    nodes.append(neighbour)
                    following.append(neighbour)
        frontier = following
    return tuple(nodes), tuple(sorted(edges))


@pytest.fixture(scope="module")
def kg_multigraph(indexed):
    store = open_graph_store(indexed, read_only=True)
    graph = nx.MultiDiGraph()
    for row in store.run("read_kg_edges"):
        graph.add_edge(row["head"], row["tail"], type=row["type"])
    store.close()
    return graph


@pytest.mark.parametrize("hops", [1, 2])
@pytest.mark.parametrize("fanout", [1, 2, 50])
def test_subgraphs_equal_a_networkx_reference(indexed, kg_multigraph, hops, fanout):
    store = open_graph_store(indexed, read_only=True)
    try:
        extractor = SubGraphExtractor(store, fanout)
        seeds = sorted(kg_multigraph.nodes)
        found = extractor.extract([(seed, hops) for seed in seeds])
        assert 1 <= extractor.round_trips <= hops  # at most one batched query per hop level, for all seeds at once
    finally:
        store.close()
    for seed in seeds:
        nodes, edges = reference_subgraph(kg_multigraph, seed, hops, fanout)
        assert (found[(seed, hops)].nodes, found[(seed, hops)].edges) == (nodes, edges)


def test_fanout_cap_bounds_every_hop(indexed, kg_multigraph):
    store = open_graph_store(indexed, read_only=True)
    try:
        hub = max(kg_multigraph.nodes, key=lambda n: kg_multigraph.degree(n))
        subgraph = SubGraphExtractor(store, 2).extract([(hub, 2)])[(hub, 2)]
    finally:
        store.close()
    assert kg_multigraph.to_undirected().degree(hub) > 2
    assert len(subgraph.nodes) <= 1 + 2 + 2 * 2


def test_rerun_is_a_no_op_and_stale_index_is_detected(indexed):
    assert build_index(indexed).up_to_date
    stricter = replace(indexed, min_rating=4.0)
    load_kg(stricter)  # a different load: the graph fingerprint changes
    try:
        with pytest.raises(KragrecError, match=r"no up-to-date index .* run 'kragrec index'"), open_retriever(stricter):
            pass
        assert not build_index(stricter).up_to_date
    finally:
        load_kg(indexed)
    assert not build_index(indexed).up_to_date  # the collection followed the graph, so going back rebuilds it


def assert_search_equals_brute_force_cosine(settings) -> None:
    """The store's hits for mixed-layer queries have the scores of exact cosine search over vectors.npz."""
    spec = current_spec(settings)
    with np.load(index_dir(settings, spec) / "vectors.npz") as stored:
        layers = [stored[name] for name in spec.vector_names]
    queries = np.concatenate([layers[0][:4] * 0.5 + layers[2][4:8] * 0.5, layers[1][-3:]])
    store = open_vector_store(settings)
    try:
        results = store.search(spec.collection, queries, spec.vector_names, limit=3)
    finally:
        store.close()
    for query, hits in zip(queries, results, strict=True):
        scores = np.stack([layer @ query / np.linalg.norm(query) for layer in layers], axis=1)
        best = np.sort(scores.ravel())[::-1][:3]
        assert [h.score for h in hits] == pytest.approx(best, abs=1e-4)
        for hit in hits:  # each hit is the point and layer it names
            layer = spec.vector_names.index(hit.vector_name)
            assert scores[hit.point_id, layer] == pytest.approx(hit.score, abs=1e-4)


def test_search_equals_brute_force_cosine(indexed):
    assert_search_equals_brute_force_cosine(indexed)


def test_dimension_mismatch_is_one_clear_line(indexed):
    spec = current_spec(indexed)
    store = open_vector_store(indexed)
    try:
        with pytest.raises(KragrecError) as raised:
            store.search(spec.collection, np.ones((1, 8), dtype=np.float32), ["hop0"], limit=1)
    finally:
        store.close()
    assert str(raised.value) == (
        f"collection {spec.collection!r} holds 384-d vectors but the encoder gives 8-d: "
        "re-run 'kragrec index' with the same --encoder, or rebuild the index"
    )


def test_interrupted_upsert_resumes_where_it_stopped(indexed, monkeypatch):
    settings = replace(indexed, hops=1)  # another collection, so the shared index stays intact
    monkeypatch.setattr(index_builder, "UPSERT_BATCH", 10)
    opened = index_builder.open_vector_store
    starts = []

    def opening(settings):
        store = opened(settings)
        original = store.upsert

        def interrupted(name, vectors, payloads, batch_size, start=0, on_batch=None):
            starts.append(start)
            if len(starts) == 1:

                def stop_after_first(done):
                    on_batch(done)
                    raise KeyboardInterrupt

                return original(name, vectors, payloads, batch_size, start, stop_after_first)
            return original(name, vectors, payloads, batch_size, start, on_batch)

        store.upsert = interrupted
        return store

    monkeypatch.setattr(index_builder, "open_vector_store", opening)
    with pytest.raises(KeyboardInterrupt):
        build_index(settings)
    report = build_index(settings)
    assert starts == [0, 10]
    assert report.points > 10 and not report.up_to_date
    assert build_index(settings).up_to_date


def _rewrite_format(folder, **changes):
    record = json.loads((folder / "format.json").read_text())
    (folder / "format.json").write_text(json.dumps({**record, **changes}))


# Ways an edge collection folder can be unusable: each is found on open or first search, and `kragrec index`
# rebuilds it (never reads it as an index).
DAMAGE = {
    "missing": lambda folder: shutil.rmtree(folder),
    "older format": lambda folder: _rewrite_format(folder, version=edge.FORMAT_VERSION - 1),
    "newer format": lambda folder: _rewrite_format(folder, version=edge.FORMAT_VERSION + 1),
    "foreign format": lambda folder: _rewrite_format(folder, format="something-else", backend="local"),
    "other engine release": lambda folder: _rewrite_format(folder, engine="0.1.0"),
    "no format record": lambda folder: (folder / "format.json").unlink(),
    "unreadable format record": lambda folder: (folder / "format.json").write_bytes(b"\x00{not json"),
    "unreadable metadata": lambda folder: (folder / "meta.json").write_text("{"),
    "shard that does not load": lambda folder: [
        path.write_text("{junk") for path in (folder / "shard" / "segments").glob("*/segment.json")
    ],
    "shard that lost its segments": lambda folder: shutil.rmtree(folder / "shard" / "segments"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_an_unusable_edge_folder_is_refused_then_rebuilt(indexed, stores, damage):
    if stores[1] != "edge":
        pytest.skip("format records and shards belong to the edge backend")
    settings = replace(indexed, hops=3)  # another collection, so the shared index stays intact
    build_index(settings)
    folder = store_folder(settings) / current_spec(settings).collection
    DAMAGE[damage](folder)
    with pytest.raises(KragrecError, match="run 'kragrec index'") as raised, open_retriever(settings) as retriever:
        retriever.hits_for_items([item for item in sorted(retriever.graph.items)][:3])
    assert "\n" not in str(raised.value)
    report = build_index(settings)
    assert not report.up_to_date and build_index(settings).up_to_date
    assert json.loads((folder / "format.json").read_text()) == edge.format_record(
        current_spec(settings).vector_names, 384
    )
    assert_search_equals_brute_force_cosine(settings)


def test_edge_hnsw_search_equals_brute_force_cosine(indexed, stores, monkeypatch):
    if stores[1] != "edge":
        pytest.skip("HNSW graphs built in-process belong to the edge backend")
    monkeypatch.setattr(edge, "INDEXING_THRESHOLD_KB", 1)  # the tiny graph's segment gets HNSW graphs too
    settings = replace(indexed, hops=4)
    build_index(settings, force=True)
    store = open_vector_store(settings)
    try:
        info = store._shard(current_spec(settings).collection).info()
        assert info.indexed_vectors_count == info.points_count * 5  # every point in the HNSW graph of all 5 layers
    finally:
        store.close()
    assert_search_equals_brute_force_cosine(settings)


def test_retrieval_follows_policy_rerank_and_caches(indexed):
    with open_retriever(indexed) as retriever:
        history = [item for item in sorted(retriever.graph.items) if retriever.graph.items[item].entity_id][:8]
        result = retriever.retrieve(history)
        assert result.augmented == [i for i in history if retriever.graph.items[i].pop_pct < 0.6]
        assert 0 < len(result.kept) <= 5
        assert [c.score for c in result.kept] == sorted((c.score for c in result.kept), reverse=True)
        query = retriever.query_vectors[retrieval_query_text([retriever.graph.items[i].text for i in history])]
        for candidate in result.kept:
            assert candidate.score == pytest.approx(
                float(retriever.layers[candidate.layer][candidate.row] @ query), abs=1e-5
            )
        for candidate, subgraph in zip(result.kept, result.subgraphs, strict=True):
            assert subgraph.hops == candidate.layer and subgraph.seed == retriever.graph.entity_ids[candidate.row]
            data = retriever.features.data(subgraph)
            assert data.x.shape == (len(subgraph.nodes), 384)
            assert data.edge_index.shape == (2, 2 * len(subgraph.edges))
            assert data.edge_attr.shape == (2 * len(subgraph.edges), 384)
            seed_row = retriever.graph.entity_ids.index(subgraph.seed)
            torch.testing.assert_close(data.x[0], torch.from_numpy(retriever.layers[0][seed_row]))
        trips = retriever.extractor.round_trips
    with open_retriever(indexed) as warm:
        again = warm.retrieve(history)
        assert warm.vector_store._store is None  # item hits came from the persisted cache: Qdrant never opened
        assert warm.extractor.round_trips == 0 and trips > 0
        assert [(c.row, c.layer) for c in again.kept] == [(c.row, c.layer) for c in result.kept]
        warm.clear_caches()
        cold = warm.retrieve(history)
        assert warm.extractor.round_trips > 0 and warm.vector_store._store is not None
        assert [(c.row, c.layer) for c in cold.kept] == [(c.row, c.layer) for c in result.kept]


def test_retrieve_command_prints_tree_json_and_html(indexed, tmp_path):
    runner = CliRunner()
    args = ["retrieve", "--user", "1", "--dataset", "tiny", "--data-dir", str(indexed.data_dir)]
    args += ["--fanout", "2", "--pop-threshold", "0.6", *server_options(indexed)]
    tree = runner.invoke(app, [*args, "--html", str(tmp_path / "view.html")])
    assert tree.exit_code == 0, tree.output
    assert "kept sub-graphs" in tree.stdout and "timings:" in tree.stdout
    assert "(popularity percentile 0." in tree.stdout
    html = (tmp_path / "view.html").read_text()
    assert "<script" in html and "<title>kragrec: evidence retrieved for user 1</title>" in html
    view = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    assert view["user"] == "1"
    assert {"history", "subgraphs", "timings_ms", "target"} <= set(view)
    augmented = [h["item"] for h in view["history"] if h["augmented"]]
    assert all(h["pop_pct"] < 0.6 for h in view["history"] if h["augmented"]) and augmented
    for subgraph in view["subgraphs"]:
        node_ids = {n["id"] for n in subgraph["nodes"]}
        assert subgraph["entity_id"] in node_ids
        assert all(e["head"] in node_ids and e["tail"] in node_ids for e in subgraph["edges"])


def test_without_rerank_the_best_search_hits_are_kept(indexed):
    from dataclasses import replace

    with open_retriever(replace(indexed, rerank=False)) as retriever:
        history = [item for item in sorted(retriever.graph.items) if retriever.graph.items[item].entity_id][:8]
        result = retriever.retrieve(history)
        hits = [c for item in result.augmented for c in retriever.hits_for_items([item])[item]]
        best = sorted({(c.row, c.layer): c for c in hits}.values(), key=lambda c: (-c.score, c.row, c.layer))[:5]
        assert [(c.row, c.layer, c.score) for c in result.kept] == [(c.row, c.layer, c.score) for c in best]
    with open_retriever(indexed) as reranking:
        assert [(c.row, c.layer) for c in reranking.retrieve(history).kept] != [(c.row, c.layer) for c in best]


def test_readers_open_the_graph_snapshot_of_the_same_load(indexed):
    spec = current_spec(indexed)
    path = index_dir(indexed, spec) / GRAPH_FILE
    store = open_graph_store(indexed, read_only=True)
    try:
        graph = read_knowledge_graph(store)
    finally:
        store.close()
    snapshot = read_graph_snapshot(path, spec.graph_fingerprint)
    assert snapshot is not None
    for field in fields(KnowledgeGraph):
        expected, found = getattr(graph, field.name), getattr(snapshot, field.name)
        if isinstance(expected, np.ndarray):
            np.testing.assert_array_equal(found, expected)
        else:
            assert found == expected, field.name
    assert read_graph_snapshot(path, "another load") is None
    path.write_text("{", encoding="utf-8")  # damaged: readers fall back to the store, and index writes it again
    assert read_graph_snapshot(path, spec.graph_fingerprint) is None
    with open_retriever(indexed, persist_cache=False) as retriever:
        assert retriever.graph.entity_ids == graph.entity_ids
    assert build_index(indexed).up_to_date
    restored = read_graph_snapshot(path, spec.graph_fingerprint)
    assert restored is not None and restored.entity_ids == graph.entity_ids and restored.items == graph.items


def test_the_index_saves_every_items_query_vector(indexed):
    spec = current_spec(indexed)
    saved = read_item_queries(index_dir(indexed, spec))
    with open_retriever(indexed, persist_cache=False) as retriever:
        items = sorted(retriever.graph.items)
        assert sorted(saved) == items
        encoded = retriever.encoder.encode([retriever.graph.items[item].text for item in items])
        np.testing.assert_allclose(np.stack([saved[item] for item in items]), encoded, atol=1e-6)
        retriever.clear_caches()
        retriever.item_queries.clear()  # encoded again on the fly: the same hits
        fresh = retriever.hits_for_items(items)
    with open_retriever(indexed, persist_cache=False) as retriever:
        saved_hits = retriever.hits_for_items(items)
    for item in items:
        assert [(c.row, c.layer) for c in saved_hits[item]] == [(c.row, c.layer) for c in fresh[item]]
        assert [c.score for c in saved_hits[item]] == pytest.approx([c.score for c in fresh[item]], abs=1e-6)
