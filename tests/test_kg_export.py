"""`kragrec kg export`: Cypher literals, and the tiny store exported as a cypher-shell script, GraphML and
neo4j-admin CSV files whose contents give back the store's counts and values; atomic writes; the command line."""

from __future__ import annotations

import csv
import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from typer.testing import CliRunner

from kragrec.cli import app
from kragrec.errors import KragrecError
from kragrec.graph import export, export_formats
from kragrec.graph.backends import open_graph_store
from kragrec.graph.browse import store_counts
from kragrec.graph.counts import GraphCounts
from kragrec.graph.cypher import cypher_statements
from kragrec.graph.export import export_graph
from kragrec.graph.literals import cypher_literal, cypher_name, cypher_string
from kragrec.loading.loader import load_kg

from conftest import TINY, make_settings, one_error_line
from test_load_kg import ODD_ID, tiny_expected

TRICKY = [
    "",
    "it's",
    'say "hi"',
    "back\\slash",
    "\\'",
    "line\nbreak",
    "cr\rlf\r\n",
    "tab\there",
    "nul\x00bell\x07esc\x1b",
    "del\x7f and nel\x85",
    "separators\u2028\u2029",
    "é ü ß 日本 🎬",
    "'; MATCH (n) DETACH DELETE n; //",
    "lone \ud800 surrogate",
    "`backtick`",
    ODD_ID,
]


# --- a tiny reader of the literals the exporter writes, to read them back ---------------------------------------------

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")
_UNESCAPE = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


def read_literal(text: str) -> Any:
    """The value of one Cypher literal (null, booleans, numbers, strings, lists, maps with plain or backticked keys)."""
    value, end = _read(text, 0)
    assert end == len(text), f"unread text after the literal: {text[end:]!r}"
    return value


def _read(text: str, i: int) -> tuple[Any, int]:
    char = text[i]
    if char == "'":
        return _read_string(text, i + 1)
    if char in "[{":
        close, items, i = "]" if char == "[" else "}", [], i + 1
        while text[i] != close:
            if char == "{":
                key, i = _read_name(text, i)
                assert text[i : i + 2] == ": ", text[i:]
                value, i = _read(text, i + 2)
                items.append((key, value))
            else:
                value, i = _read(text, i)
                items.append(value)
            if text[i] == ",":
                assert text[i + 1] == " "
                i += 2
        return (dict(items) if char == "{" else items), i + 1
    for word, value in (("null", None), ("true", True), ("false", False)):
        if text.startswith(word, i):
            return value, i + len(word)
    number = _NUMBER.match(text, i)
    assert number, f"no literal at {text[i:]!r}"
    digits = number.group()
    return (float(digits) if "." in digits or "e" in digits else int(digits)), number.end()


def _read_string(text: str, i: int) -> tuple[str, int]:
    chars = []
    while text[i] != "'":
        if text[i] == "\\":
            if text[i + 1] == "u":
                chars.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
            else:
                chars.append(_UNESCAPE[text[i + 1]])
                i += 2
        else:
            chars.append(text[i])
            i += 1
    return "".join(chars), i + 1


def _read_name(text: str, i: int) -> tuple[str, int]:
    if text[i] != "`":
        plain = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(text, i)
        assert plain
        return plain.group(), plain.end()
    chars, i = [], i + 1
    while True:
        if text[i] == "`":
            if text[i + 1 : i + 2] != "`":
                return "".join(chars), i + 1
            i += 1
        chars.append(text[i])
        i += 1


# --- Cypher literals --------------------------------------------------------------------------------------------------


def test_string_literals_escape_quotes_backslashes_and_control_characters():
    assert cypher_string("it's") == r"'it\'s'"
    assert cypher_string('say "hi"') == "'say \"hi\"'"
    assert cypher_string("a\\b") == r"'a\\b'"
    assert cypher_string("1\n2\r3\t4\b5\f") == r"'1\n2\r3\t4\b5\f'"
    assert cypher_string("\x00\x1b\x7f\x85\u2028") == r"'\u0000\u001b\u007f\u0085\u2028'"
    assert cypher_string("é 日本 🎬") == "'é 日本 🎬'"  # the script is UTF-8: printable characters stay as they are
    assert cypher_string(ODD_ID) == r"'x\'}) DETACH DELETE n //'"


@pytest.mark.parametrize("text", TRICKY)
def test_string_literals_read_back_unchanged_and_stay_on_one_line(text):
    literal = cypher_string(text)
    assert read_literal(literal) == text
    assert not re.search("[\x00-\x1f\x7f-\x9f\u2028\u2029]", literal)
    assert literal.count("'") - literal.count("\\'") == 2  # only the two quotes that delimit it are bare


def test_names_are_backticked_when_not_plain_or_spelled_like_a_keyword():
    assert [cypher_name(name) for name in ("User", "pop_pct", "_x1")] == ["User", "pop_pct", "_x1"]
    assert cypher_name("end") == "`end`" and cypher_name("Match") == "`Match`"
    assert cypher_name("a b") == "`a b`" and cypher_name("a`b") == "`a``b`" and cypher_name("1st") == "`1st`"


def test_value_literals():
    values = (None, True, False, 0, -7, 2.5, 1e20, 1.5e-07, -0.0)
    assert [cypher_literal(v) for v in values] == ["null", "true", "false", "0", "-7", "2.5", "1e20", "1.5e-7", "-0.0"]
    assert cypher_literal(float("nan")) == "0.0/0.0"
    assert (cypher_literal(float("inf")), cypher_literal(float("-inf"))) == ("1.0/0.0", "-1.0/0.0")
    assert cypher_literal(2**63 - 1) == "9223372036854775807"
    assert cypher_literal(-(2**63)) == "-9223372036854775807 - 1"
    with pytest.raises(KragrecError, match="64-bit"):
        cypher_literal(2**63)
    with pytest.raises(KragrecError, match="no Cypher literal"):
        cypher_literal(object())
    assert cypher_literal({"id": "1", "end": [1, 2.0, "x"], "a b": {}}) == "{id: '1', `end`: [1, 2.0, 'x'], `a b`: {}}"


def test_maps_and_lists_of_tricky_strings_read_back_unchanged():
    value = {text: [text, {"v": text, "n": 3, "f": 0.1}] for text in TRICKY}
    assert read_literal(cypher_literal(value)) == value


# --- the tiny store, exported -----------------------------------------------------------------------------------------


@pytest.fixture
def loaded(tiny_settings):
    """The tiny dataset loaded into the parametrised backend; its counts are the ones `kragrec kg stats` prints."""
    load_kg(tiny_settings)
    counts = store_counts(tiny_settings)
    assert counts == tiny_expected()
    return tiny_settings, counts


def test_the_stores_cypher_parser_reads_the_literals_back(loaded):
    """A second opinion on the escaping: the backend's own Cypher parser (the embedded engine, or Neo4j when
    KRAGREC_NEO4J_URI is set) evaluates each literal to the original value."""
    settings, _ = loaded
    store = open_graph_store(settings, read_only=True)
    try:
        for text in (t for t in TRICKY if not re.search("[\ud800-\udfff]", t)):  # the engine stores UTF-8 only
            assert store.read_query(f"RETURN {cypher_literal(text)} AS v")[1] == [[text]]
        _, [[big, small, nan]] = store.read_query(
            f"RETURN {cypher_literal(1e20)}, {cypher_literal(-(2**63))}, {cypher_literal(float('nan'))}"
        )
        assert (big, small, math.isnan(nan)) == (1e20, -(2**63), True)
        assert store.read_query(f"RETURN {cypher_literal({'a b': ['x'], 'end': 'y'})} AS v")[1] == [
            [{"a b": ["x"], "end": "y"}]
        ]
    finally:
        store.close()


def test_graphml_opens_in_networkx_with_the_stores_counts_labels_types_and_values(loaded, tmp_path):
    settings, counts = loaded
    out = tmp_path / "out" / "tiny.graphml"
    report = export_graph(settings, "graphml", out)
    assert (report.nodes, report.relationships) == (sum(counts.nodes.values()), sum(counts.relationships.values()))
    graph = nx.read_graphml(out, force_multigraph=True)
    assert graph.is_directed()
    assert graph.number_of_nodes() == sum(counts.nodes.values())
    assert graph.number_of_edges() == sum(counts.relationships.values())
    labels = Counter(label for _, data in graph.nodes(data=True) for label in data["labels"].split(":")[1:])
    types = Counter(data["label"] for _, _, data in graph.edges(data=True))
    assert GraphCounts(dict(labels), dict(types)) == counts
    assert graph.nodes[f"User:{ODD_ID}"] == {
        "labels": ":User",
        "id": ODD_ID,
        "age": 30,
        "gender": "F",
        "occupation": "student",
    }
    assert graph.nodes["Genre:Children's"]["name"] == "Children's"
    item = graph.nodes["Item:1"]
    assert (item["title"], item["year"], type(item["pop_pct"])) == ("Film 1", 1981, float)
    ratings = [data for _, target, data in graph.out_edges(f"User:{ODD_ID}", data=True) if target == "Item:1"]
    assert ratings == [{"label": "RATED", "rating": 5.0, "ts": 1030.0, "split": "train"}]
    relations = {data["type"] for _, target, data in graph.out_edges("Entity:m.film1", data=True)}
    assert "film.film.subjects" in relations
    assert [p.name for p in out.parent.iterdir()] == ["tiny.graphml"]  # no spool or partial file is left behind


def _csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def test_csv_folder_has_a_file_per_label_and_type_with_neo4j_admin_headers(loaded, tmp_path):
    settings, counts = loaded
    out = tmp_path / "csv"
    export_graph(settings, "csv", out)
    keys = {}
    for label, total in counts.nodes.items():
        header, rows = _csv_rows(out / "nodes" / f"{label}.csv")
        assert len(rows) == total
        assert header[1] == ":LABEL" and {row[1] for row in rows} == {label}
        key = "name" if label == "Genre" else "id"
        assert header[0] == f"{key}:ID({label})"
        keys[label] = {row[0] for row in rows}
        assert len(keys[label]) == total
    for rel_type, total in counts.relationships.items():
        header, rows = _csv_rows(out / "relationships" / f"{rel_type}.csv")
        assert len(rows) == total
        start, end = (re.fullmatch(r":(?:START|END)_ID\((\w+)\)", column)[1] for column in header[:2])
        assert header[2] == ":TYPE" and {row[2] for row in rows} == {rel_type}
        assert all(row[0] in keys[start] and row[1] in keys[end] for row in rows)  # every end node is in the files
    assert _csv_rows(out / "nodes" / "User.csv")[0] == ["id:ID(User)", ":LABEL", "age:long", "gender", "occupation"]
    assert [ODD_ID, "User", "30", "F", "student"] in _csv_rows(out / "nodes" / "User.csv")[1]
    assert _csv_rows(out / "nodes" / "Item.csv")[0] == [
        "id:ID(Item)",
        ":LABEL",
        "title",
        "year:long",
        "popularity:long",
        "pop_pct:double",
    ]
    rated = out / "relationships" / "RATED.csv"
    assert _csv_rows(rated)[0] == [":START_ID(User)", ":END_ID(Item)", ":TYPE", "rating:double", "ts:double", "split"]
    assert f'"{ODD_ID}","1","RATED",5.0,1030.0,"train"' in rated.read_text().splitlines()  # numbers unquoted
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*.csv"))
    script = (out / "import.sh").read_text()
    assert sorted(re.findall(r"--(?:nodes|relationships)=(\S+)", script)) == files
    assert (out / "schema.cypher").read_text().splitlines() == [
        s.rstrip(";") + ";" for s in cypher_statements("neo4j", "schema")
    ]
    assert sum(json.loads((out / "export.json").read_text())["relationships"].values()) == sum(
        counts.relationships.values()
    )


def test_csv_cells_keep_null_empty_and_special_values_apart():
    assert export_formats._csv_cell(None, "string") is None  # written empty and unquoted: no property
    assert export_formats._csv_cell("", "string") == ""  # written "" : an empty string
    assert export_formats._csv_cell(3, "double") == 3 and export_formats._csv_cell(float("nan"), "double") == "NaN"
    assert export_formats._csv_cell(True, "boolean") == "true" and export_formats._csv_cell([1, 2], "long[]") == "1;2"
    with pytest.raises(KragrecError, match="array delimiter"):
        export_formats._csv_cell(["a;b"], "string[]")


def _script_statements(text: str) -> list[tuple[list[str], str]]:
    """The script's UNWIND statements as (row literals, the clause after `AS row`)."""
    statements, lines = [], iter(text.splitlines())
    for line in lines:
        if line != "UNWIND [":
            continue
        rows = []
        for row in lines:
            if row == "] AS row":
                break
            rows.append(row.removesuffix(","))
        clause = []
        for rest in lines:
            clause.append(rest)
            if rest.endswith(";"):
                break
        statements.append((rows, "\n".join(clause)))
    return statements


def test_cypher_script_recreates_the_store_with_schema_first_and_batched_rows(loaded, tmp_path, monkeypatch):
    settings, counts = loaded
    monkeypatch.setattr(export_formats, "CYPHER_BATCH", 7)
    out = tmp_path / "tiny.cypher"
    export_graph(settings, "cypher", out)
    text = out.read_text(encoding="utf-8")
    schema = [s.rstrip(";") + ";" for s in cypher_statements("neo4j", "schema")]
    first_unwind = text.index("UNWIND [")
    assert all(0 <= text.index(statement) < first_unwind for statement in schema)
    assert text.index("CALL db.awaitIndexes(300);") < first_unwind
    nodes: dict[str, list[dict]] = {}
    statements_per_label: Counter[str] = Counter()
    relationships: dict[str, list[tuple]] = {}
    for rows, clause in _script_statements(text):
        assert 1 <= len(rows) <= 7
        values = [read_literal(row) for row in rows]
        created = re.fullmatch(r"CREATE \(n:(\w+)\) SET n = row;", clause)
        if created:
            nodes.setdefault(created[1], []).extend(values)
            statements_per_label[created[1]] += 1
            continue
        matched = re.fullmatch(
            r"MATCH \(a:(\w+) \{(\w+): row\.s\}\)\nMATCH \(b:(\w+) \{(\w+): row\.e\}\)\n"
            r"CREATE \(a\)-\[r:(\w+)\]->\(b\)( SET r = row\.p)?;",
            clause,
        )
        assert matched, clause
        start, start_key, end, end_key, rel_type, with_properties = matched.groups()
        for value in values:
            assert set(value) == ({"s", "e", "p"} if with_properties else {"s", "e"})
            relationships.setdefault(rel_type, []).append((start, start_key, value["s"], end, end_key, value["e"]))
    assert GraphCounts({k: len(v) for k, v in nodes.items()}, {k: len(v) for k, v in relationships.items()}) == counts
    assert statements_per_label == {label: math.ceil(total / 7) for label, total in counts.nodes.items()}
    keys = {
        (label, key, node[key])
        for label, rows in nodes.items()
        for node in rows
        for key in ("id", "name")
        if key in node
    }
    for rows in relationships.values():
        assert all((s, sk, sv) in keys and (e, ek, ev) in keys for s, sk, sv, e, ek, ev in rows)
    assert {"id": ODD_ID, "age": 30, "gender": "F", "occupation": "student"} in nodes["User"]
    assert "Dataset" not in nodes  # the load's bookkeeping node is not part of the graph


def test_a_failed_export_keeps_the_previous_output_and_leaves_nothing_behind(loaded, tmp_path, monkeypatch):
    settings, _ = loaded
    out = tmp_path / "exports" / "tiny.graphml"
    out.parent.mkdir()
    out.write_text("previous export")
    folder = tmp_path / "exports" / "csv"
    export_graph(settings, "csv", folder)
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))

    def broken(dump, target, dataset, meter):
        Path(target, "half").write_text("x") if Path(target).is_dir() else Path(target).write_text("<graphml>")
        raise KragrecError("disk full")

    monkeypatch.setitem(export.WRITERS, "graphml", broken)
    monkeypatch.setitem(export.WRITERS, "csv", broken)
    for fmt, target in (("graphml", out), ("csv", folder)):
        with pytest.raises(KragrecError, match="disk full"):
            export_graph(settings, fmt, target)
    assert out.read_text() == "previous export"
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["csv", "tiny.graphml"]
    monkeypatch.undo()
    export_graph(settings, "csv", folder)  # an earlier export (it has export.json) is replaced whole
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before


def test_out_paths_that_would_be_overwritten_wrongly_are_refused(tmp_path):
    settings = make_settings(tmp_path / "data", dataset="tiny")  # no store: --out is checked before it is opened
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep")
    with pytest.raises(KragrecError, match="holds other files"):
        export_graph(settings, "csv", other)
    with pytest.raises(KragrecError, match="is a folder; --format cypher writes one file"):
        export_graph(settings, "cypher", other)
    with pytest.raises(KragrecError, match=r"--format 'xml': expected one of cypher, graphml, csv"):
        export_graph(settings, "xml", tmp_path / "g.xml")
    assert (other / "notes.txt").read_text() == "keep"
    with pytest.raises(KragrecError, match="run 'kragrec load-kg' first"):
        export_graph(settings, "cypher", tmp_path / "g.cypher")
    assert not (tmp_path / "g.cypher").exists()


# --- the command line -------------------------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_exports_graphml_and_refuses_an_unknown_format_in_one_line(clean_env):
    assert runner.invoke(app, ["data", "fetch", "--from", str(TINY), "tiny", "--data-dir", "d"]).exit_code == 0
    assert runner.invoke(app, ["load-kg", "--dataset", "tiny", "--data-dir", "d"]).exit_code == 0
    args = ["kg", "export", "--dataset", "tiny", "--data-dir", "d"]
    result = runner.invoke(app, [*args, "--format", "graphml", "--out", "g.graphml"])
    assert result.exit_code == 0, result.output
    assert "exported 111 nodes and 381 relationships as graphml to g.graphml" in result.stdout
    assert nx.read_graphml(clean_env / "g.graphml").number_of_nodes() == 111
    bad = runner.invoke(app, [*args, "--format", "xml", "--out", "g.xml"])
    assert one_error_line(bad) == "error: --format 'xml': expected one of cypher, graphml, csv"
    assert not (clean_env / "g.xml").exists()
