"""LKG-RAG relation paths: equal to a networkx reference (bounded, typed, hub-capped, no ratings), verbalised."""

from __future__ import annotations

import dataclasses
import itertools

import networkx as nx
import pytest

from kragrec.data.registry import open_dataset
from kragrec.errors import KragrecError
from kragrec.graph.backends import open_graph_store
from kragrec.loading.loader import load_kg
from kragrec.paths.finder import ItemPath, PathFinder, open_path_finder, read_path_cache
from kragrec.paths.verbalise import verbalise

PAIRS = {"HAS_GENRE": "GENRE_OF", "RELEASED_IN": "YEAR_OF", "HAS_ACTOR": "ACTED_IN"}


def reference_graph(dataset) -> nx.MultiDiGraph:
    """Items, single genres, years and actors of the tiny fixture, each link in both typed directions."""
    graph = nx.MultiDiGraph()
    links = [(i.id, ("Genre", g), "HAS_GENRE") for i in dataset.items.values() for g in i.genres]
    links += [(i.id, ("Year", str(i.year)), "RELEASED_IN") for i in dataset.items.values() if i.year is not None]
    item_of = {entity: item for item, entity in dataset.links.items()}
    for t in dataset.triples:
        if t.relation == "film.film.actor" and t.head in item_of:
            links.append((item_of[t.head], ("Person", t.tail), "HAS_ACTOR"))
        if t.relation == "film.actor.film" and t.tail in item_of:
            links.append((item_of[t.tail], ("Person", t.head), "HAS_ACTOR"))
    for item, node, relation in set(links):
        graph.add_edge(("Item", item), node, key=relation)
        graph.add_edge(node, ("Item", item), key=PAIRS[relation])
    return graph


def distinct_neighbours(graph: nx.MultiDiGraph, node) -> int:
    return len(set(graph.successors(node)))


def within_cap(graph, node, cap: int) -> bool:
    """Items are never hubs; a genre, year or person is one when linked to more than `cap` items."""
    return node[0] == "Item" or distinct_neighbours(graph, node) <= cap


def reference_hops(graph, head: str, tail: str, hops: int, cap: int) -> int | None:
    keep = [n for n in graph if within_cap(graph, n, cap)]
    lengths = nx.single_source_shortest_path_length(graph.subgraph(keep), ("Item", head), cutoff=hops)
    return lengths.get(("Item", tail))


@pytest.fixture
def loaded(tiny_settings):
    load_kg(tiny_settings)
    return tiny_settings


@pytest.mark.parametrize(("hops", "cap"), [(4, 1000), (3, 1000), (4, 5), (4, 4)])
def test_paths_equal_the_networkx_reference(loaded, hops, cap):
    dataset = open_dataset(loaded, "tiny")
    graph = reference_graph(dataset)
    items = sorted(dataset.items, key=int)
    history, candidates = items[:6], items[10:22]
    store = open_graph_store(loaded, read_only=True)
    try:
        found = PathFinder(store, hops, cap).paths(history, candidates)
    finally:
        store.close()
    reachable = 0
    for head, tail in itertools.product(history, candidates):
        expected = reference_hops(graph, head, tail, hops, cap)
        path = found[(head, tail)]
        assert (path.hops if path else None) == expected, (head, tail)
        if path is None:
            continue
        reachable += 1
        assert path.nodes[0] == ("Item", head) and path.nodes[-1] == ("Item", tail)
        for (a, b), relation in zip(itertools.pairwise(path.nodes), path.relations, strict=True):
            assert graph.has_edge(a, b, key=relation), (a, relation, b)  # typed, directed, no User or RATED
        assert all(within_cap(graph, node, cap) for node in path.nodes)
    assert reachable > 0  # the fixture connects some pairs under every setting


def test_pairs_are_cached_and_a_sample_costs_one_round_trip(loaded):
    with open_path_finder(loaded) as finder:
        finder.paths(["1", "2"], ["11", "12", "13"])
        finder.paths(["2"], ["12", "13"])
        assert finder.round_trips == 1  # every pair of the second call was cached
        finder.paths(["1", "3"], ["11", "14"])
        assert finder.round_trips == 2  # new pairs: one more query for all of them
        cached = dict(finder.cache)
    with open_path_finder(loaded) as reopened:  # the cache persisted with the finder
        assert reopened.cache == cached
        reopened.paths(["1", "2"], ["11", "12", "13"])
        assert reopened.round_trips == 0


def test_found_pairs_are_on_disk_at_once_and_a_torn_last_line_is_dropped(loaded):
    pattern = f"*-h{loaded.path_hops}-cap{loaded.path_hub_cap}.jsonl"
    with open_path_finder(loaded) as finder:
        finder.paths(["1", "2"], ["11", "12"])
        cache_file = next((loaded.data_dir / "paths" / loaded.dataset).glob(pattern))
        found = dict(finder.cache)
        assert read_path_cache(cache_file) == found  # before the finder closes: a killed run keeps them
    with cache_file.open("a", encoding="utf-8") as handle:
        handle.write('["3", "1')  # a write interrupted mid-line
    with open_path_finder(loaded) as reopened:
        assert reopened.cache == found
        reopened.paths(["3"], ["11"])
    assert read_path_cache(cache_file) == {**found, ("3", "11"): reopened.cache[("3", "11")]}
    lines = len(cache_file.read_text().splitlines())
    cache_file.write_text(cache_file.read_text() + "[1]\n", encoding="utf-8")
    with pytest.raises(KragrecError, match=rf"{cache_file.name}:{lines + 1}: not a cached path pair"):
        read_path_cache(cache_file)


def test_changed_path_settings_use_another_cache(loaded):
    with open_path_finder(loaded) as finder:
        finder.paths(["1"], ["11"])
    with open_path_finder(dataclasses.replace(loaded, path_hops=2)) as shorter:
        assert shorter.cache == {}


def test_verbalisation_names_items_genres_years_and_the_roles_of_nameless_people():
    titles = {"1": "Toy Story (1995)", "2": "Aladdin (1992)", "3": "Heat (1995)"}
    genre_path = ItemPath((("Item", "1"), ("Genre", "Animation"), ("Item", "2")), ("HAS_GENRE", "GENRE_OF"))
    assert verbalise(genre_path, "(1)", "(B)", titles) == (
        "(1) Toy Story (1995) -> HAS_GENRE -> Animation -> GENRE_OF -> (B) Aladdin (1992)"
    )
    long_path = ItemPath(
        (("Item", "1"), ("Year", "1995"), ("Item", "3"), ("Person", "m.0x"), ("Item", "2")),
        ("RELEASED_IN", "YEAR_OF", "DIRECTED_BY", "DIRECTED"),
    )
    assert verbalise(long_path, "(4)", "(A)", titles) == (
        "(4) Toy Story (1995) -> RELEASED_IN -> 1995 -> YEAR_OF -> Heat (1995) -> DIRECTED_BY -> a director "
        "-> DIRECTED -> (A) Aladdin (1992)"
    )
