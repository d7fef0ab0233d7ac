"""Item metadata of the heterogeneous KG (LlamaRec-LKG-RAG): release years and the people linked through the KG."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from kragrec.data.dataset import Dataset, natural_key


@dataclass(frozen=True)
class PeopleRelation:
    """A KG relation between a film and a person, and the typed relationship pair it becomes between Item and Person."""

    forward: str  # Item -> Person
    backward: str  # Person -> Item
    film_to_person: str  # KG relation with the film as head
    person_to_film: str  # the same fact stated from the person's side


PEOPLE_RELATIONS = (
    PeopleRelation("DIRECTED_BY", "DIRECTED", "film.film.directed_by", "film.director.film"),
    PeopleRelation("HAS_ACTOR", "ACTED_IN", "film.film.actor", "film.actor.film"),
    PeopleRelation("WRITTEN_BY", "WROTE", "film.film.written_by", "film.writer.film"),
)


@dataclass(frozen=True)
class ItemMetadata:
    """Years and people of the catalogue's items, each (item, node) pair once, sorted."""

    years: list[tuple[str, str]]  # (item, year)
    people: dict[str, list[tuple[str, str]]]  # forward type -> (item, person)

    def degrees(self, genres: list[tuple[str, str]]) -> dict[str, Counter[str]]:
        """Distinct items per genre, year and person, by label: what the path queries' hub cap reads."""
        links = {
            "Genre": set(genres),
            "Year": set(self.years),
            "Person": {pair for pairs in self.people.values() for pair in pairs},
        }
        return {label: Counter(node for _, node in pairs) for label, pairs in links.items()}


def item_metadata(dataset: Dataset) -> ItemMetadata:
    """Release years from the item table; people from KG triples of linked films, read from either side."""
    years = sorted(
        ((i.id, str(i.year)) for i in dataset.items.values() if i.year is not None), key=lambda p: natural_key(p[0])
    )
    items_of_entity: dict[str, list[str]] = defaultdict(list)
    for item, entity in dataset.links.items():
        items_of_entity[entity].append(item)
    people: dict[str, set[tuple[str, str]]] = {relation.forward: set() for relation in PEOPLE_RELATIONS}
    for triple in dataset.triples:
        for relation in PEOPLE_RELATIONS:
            if triple.relation == relation.film_to_person:
                film, person = triple.head, triple.tail
            elif triple.relation == relation.person_to_film:
                film, person = triple.tail, triple.head
            else:
                continue
            people[relation.forward].update((item, person) for item in items_of_entity.get(film, ()))
    ordered = {kind: sorted(pairs, key=lambda p: (natural_key(p[0]), p[1])) for kind, pairs in people.items()}
    return ItemMetadata(years, ordered)
