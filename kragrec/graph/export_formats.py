"""The three formats of `kragrec kg export`, each written from a GraphDump: a cypher-shell script, a GraphML file,
a folder of `neo4j-admin database import` CSV files."""

from __future__ import annotations

import csv
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from kragrec.errors import KragrecError, visible
from kragrec.files import write_json
from kragrec.graph.cypher import cypher_statements
from kragrec.graph.dump import GraphDump, Meter, merged_types, node_keys
from kragrec.graph.literals import cypher_literal, cypher_name

CYPHER_BATCH = 1000  # rows per UNWIND statement of the script
CSV_MARKER = "export.json"  # what marks a folder as an earlier CSV export, which a new one may replace
GRAPHML_NODE_LABELS = "labels"  # node attribute with the labels, ':User' (as APOC writes them)
GRAPHML_EDGE_TYPE = "label"  # edge attribute with the relationship type (APOC's and Gephi's edge label)
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_CSV_NAME = re.compile(r'[^\x00-\x20\x7f:;,(){}\[\]"]+')
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9_.-]")


def _batches(records: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for record in records:
        batch.append(record)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _scalar_text(value: Any) -> str:
    """A value as text: booleans lower case, floats as Java and Python read them back, lists as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# --- cypher ---------------------------------------------------------------------------------------------------------


def write_cypher(dump: GraphDump, path: Path, dataset: str, meter: Meter) -> None:
    """A cypher-shell script for an empty Neo4j 5 database: kragrec's constraints and indexes, then the nodes and the
    relationships in UNWIND batches of literal rows."""
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(
            f"// kragrec kg export of dataset {visible(dataset)}: {dump.node_count:,} nodes, "
            f"{dump.relationship_count:,} relationships.\n"
            "// Run it against an empty Neo4j 5 database: cypher-shell -f FILE\n"
        )
        for statement in cypher_statements("neo4j", "schema"):
            out.write(statement.rstrip(";") + ";\n")
        out.write("CALL db.awaitIndexes(300);\n")
        for nodes in dump.nodes:
            labels = "".join(":" + cypher_name(label) for label in nodes.labels)
            for batch in _batches(nodes.records(), CYPHER_BATCH):
                out.write(_unwind(batch, f"CREATE (n{labels}) SET n = row;\n"))
                meter(len(batch))
        for rels in dump.relationships:
            has_properties = bool(rels.types)
            match = (
                f"MATCH (a:{cypher_name(rels.start)} {{{cypher_name(node_keys()[rels.start])}: row.s}})\n"
                f"MATCH (b:{cypher_name(rels.end)} {{{cypher_name(node_keys()[rels.end])}: row.e}})\n"
                f"CREATE (a)-[r:{cypher_name(rels.type)}]->(b)" + (" SET r = row.p;\n" if has_properties else ";\n")
            )
            for batch in _batches(rels.records(), CYPHER_BATCH):
                rows = [{"s": s, "e": e, "p": p} if has_properties else {"s": s, "e": e} for s, e, p in batch]
                out.write(_unwind(rows, match))
                meter(len(batch))
    meter(0)


def _unwind(rows: list[dict[str, Any]], clause: str) -> str:
    return "UNWIND [\n" + ",\n".join(cypher_literal(row) for row in rows) + "\n] AS row\n" + clause


# --- graphml --------------------------------------------------------------------------------------------------------


def write_graphml(dump: GraphDump, path: Path, dataset: str, meter: Meter) -> None:
    """A directed GraphML graph: node ids 'Label:key', a `labels` attribute, typed property attributes (lists as JSON
    strings), the relationship type in the edge attribute `label`."""
    node_types = merged_types(dump.nodes)
    edge_types = merged_types(dump.relationships)
    for reserved, types, what in ((GRAPHML_NODE_LABELS, node_types, "node"), (GRAPHML_EDGE_TYPE, edge_types, "edge")):
        if reserved in types:
            raise KragrecError(f"kg export: a {what} property named {reserved!r} clashes with GraphML's {reserved!r}")
    node_attr_keys = {name: f"n{i}" for i, name in enumerate(sorted(node_types))}
    edge_attr_keys = {name: f"e{i}" for i, name in enumerate(sorted(edge_types))}
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
            'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
            f"<!-- kragrec kg export of dataset {_xml_text(visible(dataset)).replace('--', '- -')} -->\n"
        )
        out.write(
            f'<key id="{GRAPHML_NODE_LABELS}" for="node" attr.name="{GRAPHML_NODE_LABELS}" attr.type="string"/>\n'
        )
        for name, key in node_attr_keys.items():
            out.write(_graphml_key(key, "node", name, node_types[name]))
        out.write(f'<key id="{GRAPHML_EDGE_TYPE}" for="edge" attr.name="{GRAPHML_EDGE_TYPE}" attr.type="string"/>\n')
        for name, key in edge_attr_keys.items():
            out.write(_graphml_key(key, "edge", name, edge_types[name]))
        out.write('<graph id="G" edgedefault="directed">\n')
        for nodes in dump.nodes:
            labels = _graphml_data(GRAPHML_NODE_LABELS, "".join(f":{label}" for label in nodes.labels))
            for properties in nodes.records():
                node_id = _xml_attr(graphml_node_id(nodes.labels[0], properties[nodes.key]))
                data = "".join(_graphml_data(node_attr_keys[name], value) for name, value in properties.items())
                out.write(f"<node id={node_id}>{labels}{data}</node>\n")
                meter(1)
        for rels in dump.relationships:
            edge_type = _graphml_data(GRAPHML_EDGE_TYPE, rels.type)
            for start, end, properties in rels.records():
                source = _xml_attr(graphml_node_id(rels.start, start))
                target = _xml_attr(graphml_node_id(rels.end, end))
                data = "".join(_graphml_data(edge_attr_keys[name], value) for name, value in properties.items())
                out.write(f"<edge source={source} target={target}>{edge_type}{data}</edge>\n")
                meter(1)
        out.write("</graph>\n</graphml>\n")
    meter(0)


def graphml_node_id(key_label: str, key: Any) -> str:
    """The GraphML id of the node with this key label and key."""
    return f"{key_label}:{key}"


def _graphml_key(key: str, domain: str, name: str, kind: str) -> str:
    graphml_type = kind if kind in ("long", "double", "boolean") else "string"
    return f'<key id="{key}" for="{domain}" attr.name={_xml_attr(name)} attr.type="{graphml_type}"/>\n'


def _graphml_data(key: str, value: Any) -> str:
    return f'<data key="{key}">{_xml_text(_scalar_text(value))}</data>'


def _xml_checked(text: str) -> str:
    bad = _XML_INVALID.search(text)
    if bad:
        raise KragrecError(
            f"kg export: GraphML (XML 1.0) cannot hold the character U+{ord(bad.group()):04X} of {visible(text)!r}; "
            "use --format cypher or csv"
        )
    return text


def _xml_text(text: str) -> str:
    return escape(_xml_checked(text), {"\r": "&#13;"})


def _xml_attr(text: str) -> str:
    return quoteattr(_xml_checked(text), {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


# --- csv ------------------------------------------------------------------------------------------------------------


def write_csv(dump: GraphDump, folder: Path, dataset: str, meter: Meter) -> None:
    """`neo4j-admin database import full` input: nodes/LABEL.csv and relationships/TYPE.csv with typed headers, an
    import.sh that runs the import with every file, schema.cypher with kragrec's constraints, and export.json."""
    for name in (
        *(label for nodes in dump.nodes for label in nodes.labels),
        *(rels.type for rels in dump.relationships),
        *(name for group in (*dump.nodes, *dump.relationships) for name in group.types),
    ):
        if not _CSV_NAME.fullmatch(name):
            raise KragrecError(
                f"kg export: the name {visible(name)!r} cannot appear in a neo4j-admin CSV header; use --format cypher"
            )
    type_counts = Counter(rels.type for rels in dump.relationships)
    node_files = _file_names("nodes", ["_".join(nodes.labels) for nodes in dump.nodes])
    rel_files = _file_names(
        "relationships",
        [
            rels.type if type_counts[rels.type] == 1 else f"{rels.type}_{rels.start}_{rels.end}"
            for rels in dump.relationships
        ],
    )
    for sub in ("nodes", "relationships"):
        (folder / sub).mkdir()
    for nodes, name in zip(dump.nodes, node_files, strict=True):
        key_is_text = nodes.types[nodes.key] == "string"
        columns = [column for column in nodes.types if not (key_is_text and column == nodes.key)]
        id_column = f"{nodes.key if key_is_text else ''}:ID({nodes.labels[0]})"
        header = [id_column, ":LABEL", *(_csv_header(column, nodes.types[column]) for column in columns)]
        labels = ";".join(nodes.labels)
        rows = (
            [str(properties[nodes.key]), labels, *(_csv_cell(properties.get(c), nodes.types[c]) for c in columns)]
            for properties in nodes.records()
        )
        _write_csv_file(folder / name, header, rows, meter)
    for rels, name in zip(dump.relationships, rel_files, strict=True):
        columns = list(rels.types)
        header = [f":START_ID({rels.start})", f":END_ID({rels.end})", ":TYPE"]
        header += [_csv_header(column, rels.types[column]) for column in columns]
        rows = (
            [str(start), str(end), rels.type, *(_csv_cell(properties.get(c), rels.types[c]) for c in columns)]
            for start, end, properties in rels.records()
        )
        _write_csv_file(folder / name, header, rows, meter)
    arguments = [f"--nodes={name}" for name in node_files] + [f"--relationships={name}" for name in rel_files]
    (folder / "import.sh").write_text(
        "#!/bin/sh\n"
        f"# kragrec kg export of dataset {visible(dataset)}, for a stopped Neo4j 5 whose target database is empty:\n"
        "#   sh import.sh [DATABASE] [more neo4j-admin options]   (default database: neo4j)\n"
        "# then create the constraints and indexes: cypher-shell -d DATABASE -f schema.cypher\n"
        'cd "$(dirname "$0")" || exit 1\n'
        "exec neo4j-admin database import full --multiline-fields=true \\\n"
        + "".join(f"  {argument} \\\n" for argument in arguments)
        + '  "$@"\n',
        encoding="utf-8",
    )
    (folder / "schema.cypher").write_text(
        "".join(statement.rstrip(";") + ";\n" for statement in cypher_statements("neo4j", "schema")), encoding="utf-8"
    )
    write_json(
        folder / CSV_MARKER,
        {
            "format": "csv",
            "dataset": dataset,
            "nodes": {name: nodes.count for nodes, name in zip(dump.nodes, node_files, strict=True)},
            "relationships": {name: rels.count for rels, name in zip(dump.relationships, rel_files, strict=True)},
        },
    )
    meter(0)


def _file_names(folder: str, stems: list[str]) -> list[str]:
    """Relative CSV paths: the stem with characters unsafe in file names or shells replaced, made unique."""
    names: list[str] = []
    used: set[str] = set()
    for stem in stems:
        safe = _UNSAFE_FILE_CHARS.sub("_", stem) or "_"
        candidate, number = safe, 1
        while candidate.lower() in used:
            number += 1
            candidate = f"{safe}-{number}"
        used.add(candidate.lower())
        names.append(f"{folder}/{candidate}.csv")
    return names


def _csv_header(name: str, kind: str) -> str:
    return name if kind == "string" else f"{name}:{kind}"


def _csv_cell(value: Any, kind: str) -> Any:
    """A cell: None (empty, unquoted: no property), a finite number (unquoted) or text (quoted: "" is an empty
    string); list elements are joined by neo4j-admin's array delimiter ';'."""
    if value is None:
        return None
    if isinstance(value, list) and kind.endswith("[]"):
        parts = [_scalar_text(item) for item in value]
        if any(";" in part for part in parts):
            raise KragrecError(f"kg export: a list element holds ';', the CSV array delimiter: {visible(str(value))}")
        return ";".join(parts)
    if kind in ("long", "double") and not isinstance(value, bool) and math.isfinite(value):
        return value
    return _scalar_text(value)


def _write_csv_file(path: Path, header: list[str], rows: Iterable[list[Any]], meter: Meter) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerow(header)
        writer = csv.writer(handle, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        for row in rows:
            writer.writerow(row)
            meter(1)


WRITERS: dict[str, Callable[[GraphDump, Path, str, Meter], None]] = {
    "cypher": write_cypher,
    "graphml": write_graphml,
    "csv": write_csv,
}
