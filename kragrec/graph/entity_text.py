"""Readable text for KG entities: items by title, nameless entities from the films they touch."""

from __future__ import annotations

from collections import defaultdict

from kragrec.data.dataset import Dataset, ItemInfo, natural_key

TITLES_PER_RELATION = 5


def item_label(item: ItemInfo) -> str:
    """'Title (year)', or the title alone when the year is unknown."""
    return f"{item.title} ({item.year})" if item.year is not None else item.title


def _relation_phrase(relation: str, entity_is_head: bool) -> str:
    """'film.film.actor' seen from the actor gives 'actor'; 'film.actor.film' seen from the actor also does."""
    parts = relation.split(".")
    word = parts[-2] if entity_is_head and len(parts) >= 2 else parts[-1]
    return word.replace("_", " ")


def entity_texts(dataset: Dataset) -> dict[str, str]:
    """Text for every entity: linked items use their title; others list relation and linked titles."""
    item_of_entity: dict[str, str] = {}
    for item_id in sorted(dataset.links, key=natural_key):
        item_of_entity.setdefault(dataset.links[item_id], item_id)
    # Facts stated from the film's side read best ("produced by"); the reverse direction is a fallback.
    from_film: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    to_film: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for triple in dataset.triples:
        head_item, tail_item = item_of_entity.get(triple.head), item_of_entity.get(triple.tail)
        if head_item is not None and tail_item is None:
            from_film[triple.tail][_relation_phrase(triple.relation, False)].add(head_item)
        elif tail_item is not None and head_item is None:
            to_film[triple.head][_relation_phrase(triple.relation, True)].add(tail_item)
    texts = {}
    for entity in dataset.entities:
        if entity in item_of_entity:
            texts[entity] = item_label(dataset.items[item_of_entity[entity]])
        elif entity in from_film or entity in to_film:
            phrases = from_film.get(entity) or to_film[entity]
            texts[entity] = " | ".join(_describe(phrase, items, dataset) for phrase, items in sorted(phrases.items()))
        else:
            texts[entity] = entity
    return texts


def _describe(phrase: str, items: set[str], dataset: Dataset) -> str:
    ordered = sorted(items, key=natural_key)
    shown = "; ".join(item_label(dataset.items[i]) for i in ordered[:TITLES_PER_RELATION])
    more = len(ordered) - TITLES_PER_RELATION
    return f"{phrase}: {shown}" + (f" (+{more} more)" if more > 0 else "")
