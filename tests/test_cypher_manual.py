"""Every clause keyword, function and comparison operator that kragrec sends to Neo4j is listed in the table of
docs/cypher-neo4j5.md, which records where the Neo4j 5 manual confirms it.

The constructs are read from the Neo4j-bound query files (graph/queries/common and graph/queries/neo4j) and from a
`kragrec kg export --format cypher` script, by a small tokenizer: upper-case words outside string literals, comments
and backticked names are keywords; a (possibly dotted) name followed by "(" is a function or procedure; labels and
relationship types after ":", property keys after ".", map keys, parameters and lower-case variables are skipped.
The documented set is read from the code spans of the table's Construct column, with the same tokenizer, so adding
a function to a query fails here until it is checked against the manual and listed.
"""

from __future__ import annotations

import itertools
import math
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from kragrec.graph import export_formats
from kragrec.graph.cypher import CYPHER_DIR
from kragrec.graph.cypher_lexer import cypher_tokens
from kragrec.graph.dump import read_store

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "cypher-neo4j5.md"
NEO4J_FOLDERS = ("common", "neo4j")
RECORDED_OPERATORS = frozenset({"=", "<>", "<", ">", "<=", ">=", "=~", "+=", "+", "/", "%", "^"})
LABEL_OPERATORS = frozenset({"|", "&", ":", "!"})
CLAUSE_WORDS = frozenset({"MATCH", "MERGE", "CREATE", "UNWIND", "RETURN", "WITH", "WHERE", "SET", "DELETE", "CALL"})


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, text) of each significant token."""
    return [(kind, value) for kind, value, _ in cypher_tokens(text)]


def constructs(text: str) -> set[str]:
    """Keywords ('MATCH'), functions and procedures ('count()', 'db.awaitIndexes()') and comparison or arithmetic
    operators ('<>') used by a Cypher text."""
    tokens = _tokens(text)
    found: set[str] = set()
    brackets: list[str] = []

    def at(i: int) -> tuple[str, str]:
        return tokens[i] if 0 <= i < len(tokens) else ("", "")

    def is_map_key(i: int) -> bool:
        before = at(i - 1)[1]
        return at(i + 1) == ("symbol", ":") and (before == "{" or (before == "," and brackets[-1:] == ["{"]))

    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        if kind in ("word", "quoted") and is_map_key(i):
            i += 2  # the key and its colon
            continue
        if kind == "symbol":
            if value in "([{":
                brackets.append(value)
            elif value in ")]}":
                if brackets:
                    brackets.pop()
            elif value == ":":
                i = _skip_label_expression(tokens, i + 1)
                continue
            elif value in RECORDED_OPERATORS:
                found.add(value)
        elif kind == "word" and at(i - 1) not in (("symbol", "."), ("symbol", "$")):
            end, name = i, value
            while at(end + 1) == ("symbol", ".") and at(end + 2)[0] == "word":
                name += "." + at(end + 2)[1]
                end += 2
            if len(value) > 1 and value.isupper():
                found.add(value)
            elif at(end + 1) == ("symbol", "("):
                found.add(name + "()")
                i = end + 1
                continue
        i += 1
    return found


def _skip_label_expression(tokens: list[tuple[str, str]], i: int) -> int:
    """The index after a label or relationship-type expression such as `Item`, `A|B|C` or `!A&B`."""
    while i < len(tokens):
        while i < len(tokens) and tokens[i] == ("symbol", "!"):
            i += 1
        if i < len(tokens) and tokens[i][0] in ("word", "quoted"):
            i += 1
        if i < len(tokens) and tokens[i][0] == "symbol" and tokens[i][1] in LABEL_OPERATORS - {"!"}:
            i += 1
            continue
        return i
    return i


def documented(doc: Path = DOC) -> dict[str, set[str]]:
    """Construct -> the table rows (their first cell) that document it, from the code spans of the Construct column."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("|"))
    rows = list(itertools.takewhile(lambda line: line.startswith("|"), lines[start:]))
    header = _cells(rows[0])
    assert header[0].lower() == "construct", header
    listed: dict[str, set[str]] = {}
    for row in rows[2:]:
        cells = _cells(row)
        assert len(cells) == len(header), row
        for span in re.findall(r"`([^`]+)`", cells[0]):
            for construct in constructs(span):
                listed.setdefault(construct, set()).add(cells[0])
    return listed


def _cells(row: str) -> list[str]:
    inner = row.strip().removeprefix("|").removesuffix("|")
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", inner)]


def neo4j_query_files(folder: Path = CYPHER_DIR) -> list[Path]:
    """The query files kragrec sends to Neo4j: common/ (both engines) and neo4j/, not embedded/."""
    return sorted(path for name in NEO4J_FOLDERS for path in (folder / name).glob("*.cypher"))


def neo4j_query_texts(folder: Path = CYPHER_DIR) -> dict[str, str]:
    """Each Neo4j-bound query file's text, by its path under the queries folder."""
    return {str(path.relative_to(folder)): path.read_text(encoding="utf-8") for path in neo4j_query_files(folder)}


def undocumented(texts: dict[str, str], listed: dict[str, set[str]]) -> dict[str, set[str]]:
    """Construct -> the sources that use it without a row in the table."""
    missing: dict[str, set[str]] = {}
    for source, text in texts.items():
        for construct in constructs(text) - set(listed):
            missing.setdefault(construct, set()).add(source)
    return missing


class _FakeStore:
    """A store of two users, two items, a rating and a KG edge, with values that exercise every literal form."""

    backend = "neo4j"

    def stream(self, name: str, params=None) -> Iterator[dict]:
        if name == "export_nodes":
            yield {"ref": "u", "labels": ["User"], "properties": {"id": "u'1\n", "age": 30, "gender": None}}
            yield {"ref": "v", "labels": ["User"], "properties": {"id": "u2", "age": -(2**63), "occupation": "x"}}
            yield {"ref": "i", "labels": ["Item"], "properties": {"id": "i1", "pop_pct": 1e-05, "title": "A `b`"}}
            yield {"ref": "e", "labels": ["Entity"], "properties": {"id": "m.1", "text": "t"}}
            yield {"ref": "f", "labels": ["Entity"], "properties": {"id": "m.2", "text": "u"}}
            yield {"ref": "d", "labels": ["Dataset"], "properties": {"name": "tiny"}}
        else:
            yield {"start_ref": "u", "end_ref": "i", "type": "RATED", "properties": {"rating": math.nan, "ts": 1.5}}
            yield {"start_ref": "v", "end_ref": "i", "type": "RATED", "properties": {"rating": math.inf, "ts": 2.0}}
            yield {"start_ref": "i", "end_ref": "e", "type": "LINKS_TO", "properties": {}}
            yield {"start_ref": "e", "end_ref": "f", "type": "REL", "properties": {"type": "film.genre"}}


def _export_script(tmp_path: Path) -> str:
    scratch = tmp_path / "spool"
    scratch.mkdir()
    dump = read_store(_FakeStore(), scratch, lambda n: None)
    out = tmp_path / "export.cypher"
    export_formats.write_cypher(dump, out, "tiny", lambda n: None)
    return out.read_text(encoding="utf-8")


def test_every_construct_kragrec_sends_to_neo4j_is_checked_against_the_manual(tmp_path):
    listed = documented()
    texts = neo4j_query_texts()
    texts["kg export --format cypher"] = _export_script(tmp_path)
    assert undocumented(texts, listed) == {}
    used = set().union(*(constructs(text) for text in texts.values()))
    assert {"CALL", "db.awaitIndexes()", "shortestPath()", "elementId()", "/"} <= used  # the scan reaches them
    stale = {name for name in listed if name.endswith("()") and name not in used}
    assert stale == set(), "functions in the table that no query uses any more"


def test_a_new_function_in_a_copy_of_a_query_fails_until_it_is_listed(tmp_path):
    queries = tmp_path / "queries"
    shutil.copytree(CYPHER_DIR, queries)
    assert undocumented(neo4j_query_texts(queries), documented()) == {}
    paths = queries / "neo4j" / "item_paths.cypher"
    original = paths.read_text(encoding="utf-8")
    changed = original.replace("RETURN a.id AS head", "RETURN coalesce(a.id, toString(a.title)) AS head")
    assert changed != original
    paths.write_text(changed, encoding="utf-8")
    assert undocumented(neo4j_query_texts(queries), documented()) == {
        "coalesce()": {"neo4j/item_paths.cypher"},
        "toString()": {"neo4j/item_paths.cypher"},
    }
    lines = DOC.read_text(encoding="utf-8").splitlines()
    separator = next(n for n, line in enumerate(lines) if line.startswith("| ---"))
    lines.insert(separator + 1, "| `coalesce()`, `toString()` | neo4j/item_paths | functions/scalar | 5.0 | yes |")
    doc = tmp_path / "doc.md"
    doc.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert undocumented(neo4j_query_texts(queries), documented(doc)) == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "// MATCH shortestPath( in a comment\n"
            "MATCH (n:RATED)-[:HAS_GENRE|GENRE_OF*1..2]->(m {`ORDER`: 'CREATE x(', ID: $LIMIT, type: n.DELETE})\n"
            'WHERE n.type = "SKIP(" AND m:Item|!Genre OR n.`x y` <> 1 /* UNWIND */\n'
            "RETURN n.count AS c, `weird(`",
            {"MATCH", "WHERE", "AND", "OR", "RETURN", "AS", "=", "<>"},
        ),
        (
            "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10 ROWS",
            {"CALL", "DETACH", "DELETE", "IN", "TRANSACTIONS", "OF", "ROWS"},
        ),
        ("CALL db.awaitIndexes(300)", {"CALL", "db.awaitIndexes()"}),
        (
            "RETURN [x IN labels(n) | x][0], all(y IN nodes(p) WHERE y:A), 0.0/0.0",
            {"RETURN", "IN", "WHERE", "labels()", "all()", "nodes()", "/"},
        ),
        (
            "CREATE INDEX i IF NOT EXISTS FOR ()-[r:T]-() ON (r.p)",
            {"CREATE", "INDEX", "IF", "NOT", "EXISTS", "FOR", "ON"},
        ),
    ],
)
def test_the_tokenizer_skips_labels_types_keys_parameters_strings_and_comments(text, expected):
    assert constructs(text) == expected


def test_clause_words_in_the_neo4j_files_are_upper_case():
    """The tokenizer reads keywords by their case, so a lower-case `match` would go unnoticed: refuse it."""
    for path in neo4j_query_files():
        words = {value for kind, value in _tokens(path.read_text(encoding="utf-8")) if kind == "word"}
        assert not {word for word in words if word.upper() in CLAUSE_WORDS and not word.isupper()}, path
