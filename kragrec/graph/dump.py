"""The graph store's content read once, through the GraphStore protocol, into spools (JSON lines beside the output):
nodes grouped by labels, relationships by type and end labels, with every property's type over its group (CSV headers
and GraphML keys need them before the first row). Used by `kragrec kg export`.

Nodes are named by their key, the property of the uniqueness constraint kragrec's Neo4j schema puts on their label
(User.id, Genre.name, ...), so relationships can point at them in every format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TextIO

from kragrec.errors import KragrecError
from kragrec.graph.counts import META_LABEL
from kragrec.graph.cypher import cypher_statements
from kragrec.graph.store import GraphStore

_CONSTRAINT = re.compile(r"FOR \(\w+:(\w+)\) REQUIRE \w+\.(\w+) IS UNIQUE")

Meter = Callable[[int], None]  # told how many more records are done (0: show the count now)


@cache
def node_keys() -> dict[str, str]:
    """The key property per label: the uniqueness constraints of kragrec's Neo4j schema."""
    found = (_CONSTRAINT.search(statement) for statement in cypher_statements("neo4j", "schema"))
    return {match[1]: match[2] for match in found if match}


@dataclass(kw_only=True)
class Spool:
    """Records of one group as JSON lines, with each property's type over the group."""

    path: Path
    handle: TextIO | None = None
    count: int = 0
    types: dict[str, str] = field(default_factory=dict)

    def add(self, record: Any, properties: dict[str, Any]) -> None:
        """Append a record, widening the group's type of each of its properties."""
        for name, value in properties.items():
            self.types[name] = _merge(self.types.get(name), _value_type(value))
        assert self.handle is not None
        self.handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.count += 1

    def records(self) -> Iterator[Any]:
        """The records in the order they were added."""
        with self.path.open(encoding="utf-8") as handle:
            for line in handle:
                yield json.loads(line)


@dataclass(kw_only=True)
class NodeGroup(Spool):
    """Nodes with the same labels (key label first); records are property maps."""

    labels: tuple[str, ...]
    key: str


@dataclass(kw_only=True)
class RelationshipGroup(Spool):
    """Relationships of one type between nodes of two key labels; records are [start key, end key, properties]."""

    type: str
    start: str
    end: str


@dataclass
class GraphDump:
    """The store's content, spooled."""

    nodes: list[NodeGroup]
    relationships: list[RelationshipGroup]

    @property
    def node_count(self) -> int:
        """Nodes spooled."""
        return sum(group.count for group in self.nodes)

    @property
    def relationship_count(self) -> int:
        """Relationships spooled."""
        return sum(group.count for group in self.relationships)


def read_store(store: GraphStore, scratch: Path, meter: Meter) -> GraphDump:
    """Stream every node, then every relationship, into spools grouped by labels and by type."""
    keys = node_keys()
    refs: dict[str, tuple[str, Any]] = {}  # the store's ref of a node -> (its key label, its key)
    nodes: dict[tuple[str, ...], NodeGroup] = {}
    relationships: dict[tuple[str, str, str], RelationshipGroup] = {}
    with ExitStack() as handles:

        def spool() -> tuple[Path, TextIO]:
            path = scratch / f"{len(nodes) + len(relationships)}.jsonl"
            return path, handles.enter_context(path.open("w", encoding="utf-8"))

        for row in store.stream("export_nodes"):
            stored_labels = list(row["labels"])
            if META_LABEL in stored_labels:
                continue
            properties = {name: value for name, value in row["properties"].items() if value is not None}
            key_label = next((label for label in sorted(stored_labels) if label in keys), None)
            if key_label is None:
                shown = ":".join(stored_labels) or "(no label)"
                raise KragrecError(
                    f"kg export: nodes labelled {shown} have no key in kragrec's schema; cannot name them"
                )
            key = keys[key_label]
            if not isinstance(properties.get(key), str | int) or isinstance(properties[key], bool):
                raise KragrecError(f"kg export: a {key_label} node has no string or integer {key!r}")
            labels = (key_label, *sorted(set(stored_labels) - {key_label}))
            if labels not in nodes:
                path, handle = spool()
                nodes[labels] = NodeGroup(path=path, handle=handle, labels=labels, key=key)
            nodes[labels].add(properties, properties)
            refs[row["ref"]] = (key_label, properties[key])
            meter(1)
        if len(set(refs.values())) != len(refs):
            raise KragrecError("kg export: two nodes share a label and key; the store breaks kragrec's schema")
        for row in store.stream("export_relationships"):
            start, end = refs.get(row["start_ref"]), refs.get(row["end_ref"])
            if start is None or end is None:
                raise KragrecError(
                    f"kg export: a {row['type']} relationship touches a node that was not exported "
                    "(the store changed during the export?); run it again"
                )
            properties = {name: value for name, value in row["properties"].items() if value is not None}
            group = (row["type"], start[0], end[0])
            if group not in relationships:
                path, handle = spool()
                relationships[group] = RelationshipGroup(
                    path=path, handle=handle, type=row["type"], start=start[0], end=end[0]
                )
            relationships[group].add([start[1], end[1], properties], properties)
            meter(1)
    meter(0)
    return GraphDump([nodes[name] for name in sorted(nodes)], [relationships[name] for name in sorted(relationships)])


def _value_type(value: Any) -> str:
    """long, double, boolean or string, or a list type such as long[]; anything else is refused."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        element: str | None = None
        for item in value:
            if isinstance(item, list):
                raise KragrecError("kg export: a property holds a list of lists, which no export format can hold")
            element = _merge(element, _value_type(item))
        return f"{element or 'string'}[]"
    raise KragrecError(
        f"kg export: a property holds a {type(value).__name__} value; only numbers, booleans, "
        "strings and lists of them are exported"
    )


def _merge(seen: str | None, new: str) -> str:
    """One type for a property whose values have types `seen` and `new`: long and double widen to double, any other
    mix is a string."""
    if seen is None or seen == new:
        return new
    if {seen, new} == {"long", "double"}:
        return "double"
    if {seen, new} == {"long[]", "double[]"}:
        return "double[]"
    return "string"


def merged_types(groups: Iterable[Spool]) -> dict[str, str]:
    """Each property's type over several groups."""
    merged: dict[str, str] = {}
    for group in groups:
        for name, kind in group.types.items():
            merged[name] = _merge(merged.get(name), kind)
    return merged
