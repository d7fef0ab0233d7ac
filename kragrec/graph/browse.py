"""Read-only browsing of a loaded store: `kragrec kg stats` and `kragrec kg query`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from kragrec.config import Settings
from kragrec.errors import KragrecError
from kragrec.graph.backends import reading_graph_store
from kragrec.graph.counts import GraphCounts, graph_counts
from kragrec.graph.query_guard import read_only_parameters


def parse_params(pairs: Sequence[str]) -> dict[str, Any]:
    """`name=value` pairs, each name once; a value that parses as JSON (number, list, …) is taken as such, else as
    a string."""
    params: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.isidentifier():
            raise KragrecError(f"--param {pair!r}: expected name=value with a plain name")
        if name in params:
            raise KragrecError(f"--param {pair!r}: {name!r} is given twice; give each parameter once")
        try:
            params[name] = json.loads(raw)
        except json.JSONDecodeError:
            params[name] = raw
    return params


def store_counts(settings: Settings) -> GraphCounts:
    """Node and relationship counts of the settings' store."""
    with reading_graph_store(settings) as store:
        return graph_counts(store)


def read_only_query(settings: Settings, text: str, params: dict[str, Any]) -> tuple[list[str], list[Sequence[Any]]]:
    """Run a browsing query: one read-only statement (checked before the store sees it, and the store is opened
    read-only too) with a value for every $parameter it uses."""
    missing = sorted(read_only_parameters(text) - params.keys())
    if missing:
        names = ", ".join(f"${name}" for name in missing)
        raise KragrecError(f"kg query: no value for {names}; pass each as --param NAME=VALUE")
    with reading_graph_store(settings) as store:
        return store.read_query(text, params)
