"""Loading into the graph store: counts, idempotence, resume, verification, safety of odd ids."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from kragrec.data.dataset import load_dataset
from kragrec.data.registry import register
from kragrec.data.splits import leave_one_out, split_of_ratings
from kragrec.errors import KragrecError, LoadVerificationError
from kragrec.graph.backends import embedded_store_dir, open_graph_store
from kragrec.graph.browse import read_only_query, store_counts
from kragrec.graph.counts import GraphCounts
from kragrec.loading.loader import load_kg

from conftest import TINY, make_settings

ODD_ID = "x'}) DETACH DELETE n //"


def tiny_expected() -> GraphCounts:
    dataset = load_dataset(TINY, "tiny")
    return GraphCounts(
        nodes={
            "User": 6,
            "Item": 30,
            "Genre": len({g for i in dataset.items.values() for g in i.genres}),
            "Entity": len(dataset.entities),
            "Year": 30,  # every item has its own year
            "Person": 8,  # people of film.film.actor / film.actor.film triples of linked films
        },
        relationships={
            "RATED": 38,
            "REL": 101,
            "LINKS_TO": 20,
            "HAS_GENRE": sum(len(i.genres) for i in dataset.items.values()),
            "GENRE_OF": sum(len(i.genres) for i in dataset.items.values()),
            "RELEASED_IN": 30,
            "YEAR_OF": 30,
            "HAS_ACTOR": 40,  # distinct (film, actor) pairs, whichever side the triple states them from
            "ACTED_IN": 40,
        },
    )


def test_load_matches_input_counts(tiny_settings):
    report = load_kg(tiny_settings)
    assert not report.up_to_date
    assert report.found == tiny_expected()
    assert report.duplicate_triples == 1
    assert store_counts(tiny_settings) == tiny_expected()


def test_second_load_is_a_no_op_and_forced_reload_adds_nothing(tiny_settings):
    load_kg(tiny_settings)
    again = load_kg(tiny_settings)
    assert again.up_to_date and again.found == tiny_expected()
    forced = load_kg(tiny_settings, force=True)
    assert not forced.up_to_date
    assert forced.rows["kg triples"] == 101  # every row was merged again ...
    assert store_counts(tiny_settings) == tiny_expected()  # ... and nothing was added


def test_cypher_looking_ids_are_stored_verbatim(tiny_settings):
    load_kg(tiny_settings)
    _, users = read_only_query(tiny_settings, "MATCH (u:User {id: $id}) RETURN u.id, u.age", {"id": ODD_ID})
    assert [list(row) for row in users] == [[ODD_ID, 30]]
    _, entities = read_only_query(
        tiny_settings, "MATCH (:Entity {id: 'm.film1'})-[r:REL]->(e:Entity {id: $id}) RETURN r.type", {"id": ODD_ID}
    )
    assert [list(row) for row in entities] == [["film.film.subjects"]]
    assert store_counts(tiny_settings).nodes["User"] == 6


def test_item_popularity_counts_train_ratings_only(tiny_settings):
    load_kg(tiny_settings)
    dataset = load_dataset(TINY, "tiny")
    labels = split_of_ratings(dataset, leave_one_out(dataset))
    train_counts = Counter(item for (_, item), split in labels.items() if split == "train")
    _, rows = read_only_query(tiny_settings, "MATCH (i:Item) RETURN i.id, i.popularity, i.pop_pct", {})
    by_id = {row[0]: (row[1], row[2]) for row in rows}
    assert {item: pop for item, (pop, _) in by_id.items()} == {i: train_counts.get(i, 0) for i in dataset.items}
    ordered = sorted(by_id.values())
    assert all(0 < pct < 1 for _, pct in ordered)
    assert [pct for _, pct in ordered] == sorted(pct for _, pct in ordered)


def test_rated_edges_carry_their_split(tiny_settings):
    load_kg(tiny_settings)
    _, rows = read_only_query(tiny_settings, "MATCH ()-[r:RATED]->() RETURN r.split, count(*)", {})
    assert dict((split, n) for split, n in rows) == {"train": 38 - 12, "valid": 6, "test": 6}


def test_queries_that_write_are_refused(tiny_settings):
    load_kg(tiny_settings)
    with pytest.raises(KragrecError, match="read-only queries; DETACH is not allowed"):
        read_only_query(tiny_settings, "MATCH (u:User) DETACH DELETE u", {})
    assert store_counts(tiny_settings).nodes["User"] == 6


def write_star_dataset(folder: Path, triples: int, entities: int) -> None:
    """Many triples over few entities: ladybug's one-statement MERGE+MERGE+CREATE keeps one edge per node here."""
    folder.mkdir(parents=True)
    (folder / "star.inter").write_text("user_id:token\titem_id:token\n1\t1\n1\t2\n", encoding="utf-8")
    rows = [f"n{i % entities}\tr{i}\tn{(i * 7 + 1) % entities}" for i in range(triples)]
    (folder / "star.kg").write_text("head_id:token\trelation_id:token\ttail_id:token\n" + "\n".join(rows) + "\n")


def test_many_triples_over_few_entities_are_all_loaded(tmp_path, backend):
    source = tmp_path / "star-src"
    write_star_dataset(source, triples=5000, entities=300)
    settings = make_settings(tmp_path / "data", backend, dataset="star", batch_size=5000)
    register(settings, source, "star", origin="test")
    report = load_kg(settings, fresh=True)
    assert report.found.relationships["REL"] == 5000
    assert report.found.nodes["Entity"] == 300


def test_store_holding_another_dataset_is_not_overwritten(tiny_settings, tmp_path):
    if tiny_settings.backend == "embedded":
        pytest.skip("embedded stores are one folder per dataset")
    load_kg(tiny_settings)
    source = tmp_path / "star-src"
    write_star_dataset(source, triples=10, entities=5)
    other = make_settings(tiny_settings.data_dir, "neo4j", dataset="star")
    register(other, source, "star", origin="test")
    with pytest.raises(KragrecError, match="already holds dataset 'tiny'"):
        load_kg(other)


@pytest.fixture
def embedded_tiny(tmp_path) -> object:
    settings = make_settings(tmp_path / "data", dataset="tiny", batch_size=5)
    register(settings, TINY, "tiny", origin="fixture")
    return settings


def test_interrupted_load_resumes_from_the_unfinished_phase(embedded_tiny, monkeypatch):
    from kragrec.graph import embedded

    real_run = embedded.EmbeddedGraphStore.run
    calls = Counter()

    def interrupt_during_ratings(self, name, params=None):
        calls[name] += 1
        if name == "merge_rated" and calls[name] == 3:
            raise KeyboardInterrupt
        return real_run(self, name, params)

    monkeypatch.setattr(embedded.EmbeddedGraphStore, "run", interrupt_during_ratings)
    with pytest.raises(KeyboardInterrupt):
        load_kg(embedded_tiny)
    folder = embedded_store_dir(embedded_tiny)
    assert not folder.exists() and folder.with_name("tiny.staging").exists()
    monkeypatch.setattr(embedded.EmbeddedGraphStore, "run", real_run)
    resumed = load_kg(embedded_tiny)
    assert "users" not in resumed.rows and "ratings" in resumed.rows
    assert resumed.found == tiny_expected()
    assert not folder.with_name("tiny.staging").exists()


def test_failed_verification_leaves_the_previous_store_untouched(embedded_tiny):
    load_kg(embedded_tiny)
    store = open_graph_store(embedded_tiny)
    store.run("merge_genres", {"rows": [{"name": "Stray", "degree": 0}]})
    store.close()
    with pytest.raises(LoadVerificationError, match=r"label Genre: expected 5, found 6"):
        load_kg(embedded_tiny, force=True)
    folder = embedded_store_dir(embedded_tiny)
    assert not folder.with_name("tiny.staging").exists()
    assert store_counts(embedded_tiny).nodes["Genre"] == 6  # the store is as it was before the failed load


def test_changed_input_rebuilds_the_store(embedded_tiny):
    load_kg(embedded_tiny)
    stricter = make_settings(embedded_tiny.data_dir, dataset="tiny", min_rating=4)
    report = load_kg(stricter)
    assert not report.up_to_date
    _, rows = read_only_query(stricter, "MATCH ()-[r:RATED {split: 'excluded'}]->() RETURN count(*)", {})
    dataset = load_dataset(TINY, "tiny")
    assert rows[0][0] == sum(1 for i in dataset.interactions if i.rating < 4)
