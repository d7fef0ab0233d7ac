"""A whole RecBole atomic dataset, read, cross-checked and typed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kragrec.data.atomic import AtomicTable, read_atomic
from kragrec.errors import DataError

ATOMIC_KINDS = ("inter", "item", "user", "kg", "link")
TITLE_COLUMNS = ("movie_title", "title", "name")
YEAR_COLUMNS = ("release_year", "year")
GENRE_COLUMNS = ("class", "genre", "genres", "categories")


@dataclass(frozen=True)
class Interaction:
    """One rating of an item by a user."""

    user: str
    item: str
    rating: float | None
    timestamp: float


@dataclass(frozen=True)
class ItemInfo:
    """An item's metadata; title falls back to the id when the data has none."""

    id: str
    title: str
    year: int | None
    genres: tuple[str, ...]


@dataclass(frozen=True)
class UserInfo:
    """A user's demographic fields, None where the data has none."""

    id: str
    age: int | None
    gender: str | None
    occupation: str | None


@dataclass(frozen=True)
class Triple:
    """One knowledge-graph fact (head, relation, tail)."""

    head: str
    relation: str
    tail: str


@dataclass(frozen=True)
class Dataset:
    """Validated contents of a dataset folder holding NAME.inter and optional .item/.user/.kg/.link."""

    name: str
    interactions: tuple[Interaction, ...]
    items: dict[str, ItemInfo]
    users: dict[str, UserInfo]
    triples: tuple[Triple, ...]
    links: dict[str, str]
    duplicate_triples: int

    @property
    def entities(self) -> set[str]:
        """Every KG entity id: triple ends and linked entities."""
        found = {t.head for t in self.triples} | {t.tail for t in self.triples}
        return found | set(self.links.values())


def natural_key(token: str) -> tuple[int, int, str]:
    """Sort key that puts numeric ids in numeric order before other ids."""
    return (0, int(token), "") if token.isdigit() else (1, 0, token)


def item_rows(items: Iterable[str]) -> dict[str, int]:
    """The row of each item in an item-indexed table (SASRec's embeddings): 1..N in natural id order, 0 pads."""
    return {item: row for row, item in enumerate(sorted(items, key=natural_key), start=1)}


def atomic_path(directory: Path, name: str, kind: str) -> Path:
    """Where the atomic file of this kind lives for a dataset."""
    return Path(directory) / f"{name}.{kind}"


def _first_column(table: AtomicTable, candidates: tuple[str, ...]) -> str | None:
    return next((c for c in candidates if table.has(c)), None)


def _as_text(value: Any) -> str:
    return " ".join(value) if isinstance(value, tuple) else str(value)


def _as_int(value: Any) -> int | None:
    text = _as_text(value).strip()
    return int(text) if text.isdigit() else None


def _unique_ids(table: AtomicTable, column: str, what: str) -> list[str]:
    seen: dict[str, int] = {}
    for row_number, value in enumerate(table.column(column)):
        if value in seen:
            raise table.error(row_number, column, f"duplicate {what} {value!r} (first at line {seen[value]})")
        seen[value] = table.lines[row_number]
    return list(seen)


def _items(table: AtomicTable) -> dict[str, ItemInfo]:
    ids = _unique_ids(table, "item_id", "item")
    title_col = _first_column(table, TITLE_COLUMNS)
    year_col = _first_column(table, YEAR_COLUMNS)
    genre_col = _first_column(table, GENRE_COLUMNS)
    items = {}
    for item_id, record in zip(ids, table.records(), strict=True):
        title = _as_text(record[title_col]) if title_col else ""
        genres = record[genre_col] if genre_col else ()
        items[item_id] = ItemInfo(
            id=item_id,
            title=title or item_id,
            year=_as_int(record[year_col]) if year_col else None,
            genres=tuple(dict.fromkeys(genres if isinstance(genres, tuple) else (genres,))),
        )
    return items


def _users(table: AtomicTable) -> dict[str, UserInfo]:
    ids = _unique_ids(table, "user_id", "user")
    users = {}
    for user_id, record in zip(ids, table.records(), strict=True):
        users[user_id] = UserInfo(
            id=user_id,
            age=_as_int(record["age"]) if "age" in record else None,
            gender=_as_text(record["gender"]) if "gender" in record else None,
            occupation=_as_text(record["occupation"]) if "occupation" in record else None,
        )
    return users


def _interactions(table: AtomicTable) -> tuple[Interaction, ...]:
    users, items = table.column("user_id"), table.column("item_id")
    ratings = table.column("rating") if table.has("rating") else [None] * len(users)
    stamps = table.column("timestamp") if table.has("timestamp") else [float(n) for n in table.lines]
    seen: dict[tuple[str, str], int] = {}
    result = []
    for row_number, (user, item, rating, stamp) in enumerate(zip(users, items, ratings, stamps, strict=True)):
        if (user, item) in seen:
            raise table.error(
                row_number, "item_id", f"user {user!r} already rated item {item!r} at line {seen[(user, item)]}"
            )
        seen[(user, item)] = table.lines[row_number]
        result.append(Interaction(user, item, rating, stamp))
    return tuple(result)


def _check_references(table: AtomicTable, column: str, known: set[str] | dict, target: Path, what: str) -> None:
    for row_number, value in enumerate(table.column(column)):
        if value not in known:
            raise table.error(row_number, column, f"{what} {value!r} is not in {target.name}")


def _links(table: AtomicTable) -> dict[str, str]:
    _unique_ids(table, "item_id", "linked item")
    return dict(zip(table.column("item_id"), table.column("entity_id"), strict=True))


def _triples(table: AtomicTable) -> tuple[tuple[Triple, ...], int]:
    unique = dict.fromkeys(
        Triple(h, r, t)
        for h, r, t in zip(table.column("head_id"), table.column("relation_id"), table.column("tail_id"), strict=True)
    )
    return tuple(unique), len(table.rows) - len(unique)


def load_dataset(directory: Path, name: str) -> Dataset:
    """Read every atomic file of a dataset and check cross-file references; raises DataError."""
    directory = Path(directory)
    paths = {kind: atomic_path(directory, name, kind) for kind in ATOMIC_KINDS}
    if not paths["inter"].is_file():
        raise DataError(paths["inter"], 0, "file", "required interaction file not found")
    tables = {kind: read_atomic(path, kind) for kind, path in paths.items() if path.is_file()}

    inter = tables["inter"]
    if not inter.rows:
        raise DataError(paths["inter"], 0, "file", "no interactions: the file has a header but no rows")
    interactions = _interactions(inter)
    if "item" in tables:
        items = _items(tables["item"])
        _check_references(inter, "item_id", items, paths["item"], "item")
    else:
        items = {i.item: ItemInfo(i.item, i.item, None, ()) for i in interactions}
    if "user" in tables:
        users = _users(tables["user"])
        _check_references(inter, "user_id", users, paths["user"], "user")
    else:
        users = {i.user: UserInfo(i.user, None, None, None) for i in interactions}
    links: dict[str, str] = {}
    if "link" in tables:
        reference = paths["item"] if "item" in tables else paths["inter"]
        _check_references(tables["link"], "item_id", items, reference, "linked item")
        links = _links(tables["link"])
    triples, duplicates = _triples(tables["kg"]) if "kg" in tables else ((), 0)
    return Dataset(name, interactions, items, users, triples, links, duplicates)
