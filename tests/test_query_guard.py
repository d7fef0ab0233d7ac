"""`kragrec kg query` is read-only whatever the dialect: writes, file and network access and session statements are
refused before the store sees them, the store stays openable, and ordinary browsing still works."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from kragrec.cli import app
from kragrec.data.registry import register
from kragrec.errors import KragrecError
from kragrec.graph.backends import open_graph_store
from kragrec.graph.browse import read_only_query
from kragrec.graph.query_guard import read_only_parameters
from kragrec.loading.loader import load_kg

from conftest import TINY, make_settings, one_error_line

runner = CliRunner()
COUNTS = "6 users, 30 items, 38 ratings, 101 KG triples, 20 item links"
# Each statement with {out}: a folder the statement would write to or read from if it ran.
REFUSED = {
    "checkpoint": ("CHECKPOINT", "CHECKPOINT"),
    "export": ("EXPORT DATABASE '{out}/export'", "EXPORT"),
    "import": ("IMPORT DATABASE '{out}/export'", "IMPORT"),
    "copy-to": ("COPY (MATCH (i:Item) RETURN i.id) TO '{out}/items.csv'", "COPY"),
    "load-from": ("LOAD FROM '{out}/passwd' (file_format='csv', delim=':') RETURN *", "LOAD"),
    "load-csv": ("LOAD CSV FROM 'file://{out}/passwd' AS row RETURN row", "LOAD"),
    "install": ("INSTALL httpfs", "INSTALL"),
    "load-extension": ("LOAD EXTENSION httpfs", "LOAD"),
    "attach": ("ATTACH '{out}/other.lbug' AS other (dbtype lbug)", "ATTACH"),
    "detach-database": ("DETACH other", "DETACH"),
    "use": ("USE other MATCH (i:Item) RETURN i.id", "USE"),
    "detach-delete": ("MATCH (u:User) DETACH DELETE u", "DETACH"),
    "delete": ("MATCH (u:User) DELETE u", "DELETE"),
    "set": ("MATCH (i:Item) SET i.title = 'x'", "SET"),
    "remove": ("MATCH (i:Item) REMOVE i.title", "REMOVE"),
    "create": ("CREATE (:Genre {name: 'x'})", "CREATE"),
    "merge-after-match": ("MATCH (i:Item) MERGE (:Genre {name: i.title})", "MERGE"),
    "drop": ("DROP TABLE Item", "DROP"),
    "alter": ("ALTER TABLE Item ADD extra INT64", "ALTER"),
    "call": ("CALL show_tables() RETURN *", "CALL"),
    "foreach": ("UNWIND [1] AS x FOREACH (y IN [x] | CREATE (:Genre {name: 'y'}))", "FOREACH"),
    "begin": ("BEGIN TRANSACTION", "BEGIN"),
    "commit": ("COMMIT", "COMMIT"),
    "rollback": ("ROLLBACK", "ROLLBACK"),
    "explain": ("EXPLAIN MATCH (i:Item) RETURN i.id", "EXPLAIN"),
    "profile": ("PROFILE MATCH (i:Item) RETURN i.id", "PROFILE"),
    "show": ("SHOW DATABASES", "SHOW"),
    "lower-case": ("match (i:Item) with i copy (match (j:Item) return j.id) to '{out}/lower.csv'", "COPY"),
}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """A loaded embedded store of the tiny dataset; the tests only read it (they check that they cannot write)."""
    settings = make_settings(tmp_path_factory.mktemp("guard") / "data", dataset="tiny")
    register(settings, TINY, "tiny", origin="fixture")
    load_kg(settings)
    return settings


def kg(settings, *args: str):
    return runner.invoke(app, ["kg", *args, "--dataset", "tiny", "--data-dir", str(settings.data_dir)])


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_statements_that_write_or_reach_outside_are_refused_and_touch_nothing(loaded, clean_env, case):
    statement, keyword = REFUSED[case]
    out = clean_env / "targets"
    out.mkdir()
    (out / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    before = sorted(clean_env.rglob("*"))
    line = one_error_line(kg(loaded, "query", statement.replace("{out}", str(out))))
    assert line == f"error: kg query runs read-only queries; {keyword} is not allowed (use MATCH … RETURN)"
    assert "root:/root" not in line
    assert sorted(clean_env.rglob("*")) == before  # no export, csv or attached database written
    stats = kg(loaded, "stats")  # the store still opens read-only, with every node and edge
    assert stats.exit_code == 0, stats.output
    assert COUNTS in stats.stdout


def test_a_second_statement_is_refused(loaded, clean_env):
    line = one_error_line(kg(loaded, "query", "MATCH (i:Item) RETURN i.id; MATCH (u:User) DETACH DELETE u"))
    assert line == "error: kg query runs one statement at a time; remove what follows ';'"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "start with MATCH, OPTIONAL MATCH, UNWIND, WITH or RETURN"),
        ("// only a comment", "start with MATCH, OPTIONAL MATCH, UNWIND, WITH or RETURN"),
        ("`MATCH` (i:Item) RETURN i", "start with MATCH, OPTIONAL MATCH, UNWIND, WITH or RETURN"),
        ("RETURN 'unclosed", 'unclosed "\'" at character 8'),
        ("MATCH (i:Item) /* COPY", "unclosed '/*' at character 16"),
    ],
)
def test_malformed_or_non_read_starts_are_refused_before_the_store(text, problem):
    with pytest.raises(KragrecError, match=re.escape(problem)):
        read_only_parameters(text)


def test_the_guard_runs_before_any_backend_is_reached(tmp_path):
    settings = make_settings(tmp_path, backend="neo4j", neo4j_uri="bolt://127.0.0.1:1", dataset="tiny")
    with pytest.raises(KragrecError, match="COPY is not allowed"):  # not "cannot reach the Neo4j server"
        read_only_query(settings, f"COPY (MATCH (i:Item) RETURN i) TO '{tmp_path}/x.csv'", {})


def test_the_engine_refuses_writes_of_its_own(loaded):
    store = open_graph_store(loaded, read_only=True)
    try:
        with pytest.raises(KragrecError, match="refused"):
            store.read_query("MATCH (u:User) DETACH DELETE u")
    finally:
        store.close()


DEMO_QUERY = (  # scripts/demo.sh, with a title of the tiny dataset
    "MATCH (i:Item {title: $title})-[:LINKS_TO]->(:Entity)-[:REL]->(p:Entity)<-[:REL]-(:Entity)<-[:LINKS_TO]-(j:Item)\n"
    "   WHERE j.id <> i.id\n"
    "   RETURN j.title AS film, count(DISTINCT p) AS shared_kg_entities ORDER BY shared_kg_entities DESC, film LIMIT 5"
)
README_QUERIES = (  # the README's, with a title of the tiny dataset; then every read clause at once
    "MATCH (i:Item {title: 'Film 1'})-[:LINKS_TO]->(f:Entity)-[r:REL]->(e:Entity)\nRETURN i, f, r, e LIMIT 50;",
    "MATCH (i:Item {title: 'Film 1'})-[:LINKS_TO]->(:Entity)-[:REL]->(p:Entity)<-[:REL]-(:Entity)<-[:LINKS_TO]-(j:Item)"
    "\nWHERE j <> i\nRETURN j.title AS film, count(DISTINCT p) AS shared ORDER BY shared DESC LIMIT 10;",
    "MATCH (u:User {id: '1'})-[r:RATED {split: 'train'}]->(i:Item)-[:HAS_GENRE]->(g:Genre)\n"
    "RETURN i.title, r.rating, collect(g.name) AS genres, r.ts ORDER BY r.ts LIMIT 25;",
    "OPTIONAL MATCH (i:Item {id: '3'}) WITH i UNWIND [1, 2] AS n RETURN i.title AS t, n "
    "UNION ALL RETURN 'x' AS t, 0 AS n",
)


def test_browsing_queries_of_the_readme_and_demo_still_run(loaded, clean_env):
    demo = kg(loaded, "query", "--param", 'title="Film 1"', DEMO_QUERY, "--json")
    assert demo.exit_code == 0, demo.output
    assert [json.loads(line)["shared_kg_entities"] for line in demo.stdout.splitlines()] == [2] * 5
    for query in README_QUERIES:
        result = kg(loaded, "query", query, "--json")
        assert result.exit_code == 0, result.output
        assert result.stdout.strip(), query


def test_keywords_in_literals_comments_names_and_parameters_are_not_refused(loaded, clean_env):
    query = (
        "MATCH (i:Item {id: $delete}) WHERE i.title <> \"COPY (MATCH (n) RETURN n) TO '/tmp/x'; DROP TABLE Item\" "
        "RETURN i.title AS `delete`, {set: i.id, load: 1} AS m /* CHECKPOINT */ // INSTALL httpfs"
    )
    result = kg(loaded, "query", query, "-p", "delete=3", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"delete": "Film 3", "m": {"set": "3", "load": 1}}


def test_parameters_are_read_outside_literals_and_comments():
    text = "MATCH (i:Item {id: $id}) WHERE i.title <> '$no' AND i.id <> $`odd name` RETURN $limit // $not"
    assert read_only_parameters(text) == {"id", "odd name", "limit"}
