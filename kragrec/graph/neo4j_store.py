"""The Neo4j graph store, through the official `neo4j` driver."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import neo4j
from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable

from kragrec.config import Secret
from kragrec.errors import KragrecError
from kragrec.graph.cypher import cypher, cypher_statements
from kragrec.graph.store import Row

READ_ONLY_QUERY_TYPE = "r"


class Neo4jGraphStore:
    """A Neo4j 5 database; credentials come from settings and are never echoed."""

    backend = "neo4j"

    def __init__(self, uri: str, user: str, password: Secret | None, database: str) -> None:
        self.database = database
        auth = (user, password.reveal()) if password is not None else None
        try:
            self._driver = neo4j.GraphDatabase.driver(uri, auth=auth)
            self._driver.verify_connectivity()
        except AuthError:
            raise KragrecError("Neo4j refused the credentials from neo4j_user/neo4j_password") from None
        except (ServiceUnavailable, ValueError, neo4j.exceptions.ConfigurationError) as error:
            raise KragrecError(f"cannot reach the Neo4j server set by neo4j_uri ({type(error).__name__})") from None

    def ensure_schema(self) -> None:
        """Create the uniqueness constraints and indexes (IF NOT EXISTS)."""
        for statement in cypher_statements(self.backend, "schema"):
            self._execute(statement.rstrip(";"), None, "schema")

    def run(self, name: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run a named query in its own managed transaction."""
        return self._execute(cypher(self.backend, name), params, name)

    def stream(self, name: str, params: Mapping[str, Any] | None = None) -> Iterator[Row]:
        """Yield a named read query's rows as the server sends them, from one auto-commit read transaction."""
        with self._driver.session(database=self.database, default_access_mode=neo4j.READ_ACCESS) as session:
            try:
                for record in session.run(cypher(self.backend, name), dict(params or {})):
                    yield record.data()
            except Neo4jError as error:
                raise KragrecError(f"{name}: {error.message}") from None
            except ServiceUnavailable:
                raise KragrecError(f"{name}: lost the connection to the Neo4j server set by neo4j_uri") from None

    def read_query(self, text: str, params: Mapping[str, Any] | None = None) -> tuple[list[str], list[Sequence[Any]]]:
        """Refuse anything the planner does not classify as read-only, then run it in a read transaction."""
        with self._driver.session(database=self.database, default_access_mode=neo4j.READ_ACCESS) as session:
            try:
                plan = session.run("EXPLAIN " + text, dict(params or {})).consume()
                if plan.query_type != READ_ONLY_QUERY_TYPE:
                    raise KragrecError(f"refused: the query is of type {plan.query_type!r}, only read queries run here")
                return session.execute_read(_collect, text, dict(params or {}))
            except Neo4jError as error:
                raise KragrecError(f"query: {error.message}") from None

    def clear(self) -> None:
        """Delete everything, in batches of committed transactions."""
        with self._driver.session(database=self.database) as session:
            session.run(cypher(self.backend, "clear")).consume()

    def close(self) -> None:
        """Close the driver and its connection pool."""
        self._driver.close()

    def _execute(self, text: str, params: Mapping[str, Any] | None, name: str) -> list[Row]:
        try:
            records, _, _ = self._driver.execute_query(text, dict(params or {}), database_=self.database)
        except Neo4jError as error:
            raise KragrecError(f"{name}: {error.message}") from None
        return [record.data() for record in records]


def _collect(tx: neo4j.ManagedTransaction, text: str, params: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    result = tx.run(text, params)
    keys = list(result.keys())
    return keys, [list(record.values()) for record in result]
