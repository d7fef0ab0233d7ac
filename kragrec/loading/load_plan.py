"""What a load writes: the rows of every phase, and the counts the store must hold afterwards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kragrec.data.dataset import Dataset, natural_key
from kragrec.data.popularity import item_popularity
from kragrec.data.splits import leave_one_out, split_of_ratings
from kragrec.graph.entity_text import entity_texts
from kragrec.loading.metadata import PEOPLE_RELATIONS, item_metadata

NODE_LABELS = ("User", "Item", "Genre", "Year", "Person", "Entity")


@dataclass(frozen=True)
class Phase:
    """One batched write: the named Cypher query, its rows, and the label or type it fills."""

    name: str
    query: str
    rows: list[dict[str, Any]]
    counts_as: tuple[str, ...]  # the label or relationship types it writes, one row each


@dataclass(frozen=True)
class LoadPlan:
    """Every phase of a load, in order, and the expected node and relationship counts."""

    phases: list[Phase]
    expected_nodes: dict[str, int]
    expected_relationships: dict[str, int]


def build_load_plan(dataset: Dataset, min_rating: float) -> LoadPlan:
    """Turn a validated dataset into the rows of each load phase."""
    splits_by_rating = split_of_ratings(dataset, leave_one_out(dataset, min_rating))
    pop = item_popularity(dataset, splits_by_rating)
    items = sorted(dataset.items.values(), key=lambda i: natural_key(i.id))
    texts = entity_texts(dataset)
    genres = sorted({g for item in items for g in item.genres})
    item_genres = [(i.id, g) for i in items for g in i.genres]
    metadata = item_metadata(dataset)
    degree = metadata.degrees(item_genres)
    phases = [
        Phase(
            "users",
            "merge_users",
            [
                {"id": u.id, "age": u.age, "gender": u.gender, "occupation": u.occupation}
                for u in sorted(dataset.users.values(), key=lambda u: natural_key(u.id))
            ],
            ("User",),
        ),
        Phase(
            "items",
            "merge_items",
            [
                {"id": i.id, "title": i.title, "year": i.year, "popularity": pop[i.id][0], "pop_pct": pop[i.id][1]}
                for i in items
            ],
            ("Item",),
        ),
        Phase("genres", "merge_genres", [{"name": g, "degree": degree["Genre"][g]} for g in genres], ("Genre",)),
        Phase(
            "years",
            "merge_years",
            [{"id": y, "degree": degree["Year"][y]} for y in sorted({y for _, y in metadata.years})],
            ("Year",),
        ),
        Phase(
            "people", "merge_people", [{"id": p, "degree": n} for p, n in sorted(degree["Person"].items())], ("Person",)
        ),
        Phase("entities", "merge_entities", [{"id": e, "text": texts[e]} for e in sorted(texts)], ("Entity",)),
        Phase(
            "ratings",
            "merge_rated",
            [
                {
                    "user": r.user,
                    "item": r.item,
                    "rating": r.rating,
                    "ts": r.timestamp,
                    "split": splits_by_rating[(r.user, r.item)],
                }
                for r in dataset.interactions
            ],
            ("RATED",),
        ),
        Phase("item genres", "merge_has_genre", [{"item": i, "genre": g} for i, g in item_genres], ("HAS_GENRE",)),
        Phase("genre items", "merge_genre_of", [{"item": i, "genre": g} for i, g in item_genres], ("GENRE_OF",)),
        Phase(
            "item years",
            "merge_released_in",
            [{"item": i, "year": y} for i, y in metadata.years],
            ("RELEASED_IN", "YEAR_OF"),
        ),
        *(
            Phase(
                f"item people {relation.forward}",
                f"merge_{relation.forward.lower()}",
                [{"item": i, "person": p} for i, p in metadata.people[relation.forward]],
                (relation.forward, relation.backward),
            )
            for relation in PEOPLE_RELATIONS
        ),
        Phase(
            "item links",
            "merge_links_to",
            [{"item": item, "entity": entity} for item, entity in dataset.links.items()],
            ("LINKS_TO",),
        ),
        Phase(
            "kg triples",
            "merge_rel",
            [{"head": t.head, "type": t.relation, "tail": t.tail} for t in dataset.triples],
            ("REL",),
        ),
    ]
    counts = {name: len(p.rows) for p in phases for name in p.counts_as if p.rows}  # stores list no empty type
    expected_nodes = {name: n for name, n in counts.items() if name in NODE_LABELS}
    expected_rels = {name: n for name, n in counts.items() if name not in expected_nodes}
    return LoadPlan(phases, expected_nodes, expected_rels)
