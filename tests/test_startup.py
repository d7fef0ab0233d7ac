"""Verbs that do not need the ML stack never import it: the data, load and graph-browsing verbs and `retrieve` (whose
query encoder runs in onnxruntime) start without torch, transformers, peft or PyG (each run in a fresh interpreter,
in the order a newcomer runs them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kragrec.data.prepare import prepare
from kragrec.data.registry import register
from kragrec.loading.loader import load_kg
from kragrec.retrieval.index_builder import build_index

from conftest import TINY, make_settings, ml_modules_after

QUERY = "MATCH (g:Genre) RETURN g.name AS genre ORDER BY genre LIMIT 2"


def data_dir_at(folder: Path, state: str) -> Path:
    """A data dir holding the tiny dataset as the verb expects it: nothing, registered, loaded, or indexed too."""
    settings = make_settings(folder / "data", dataset="tiny")
    if state != "empty":
        register(settings, TINY, "tiny", origin="fixture")
    if state in ("loaded", "indexed"):
        prepare(settings)
        load_kg(settings)
    if state == "indexed":
        build_index(settings)
    return settings.data_dir


@pytest.mark.parametrize(
    ("state", "verb"),
    [
        ("empty", ["data", "fetch", "--from", str(TINY), "tiny"]),
        ("registered", ["data", "prepare", "--dataset", "tiny"]),
        ("registered", ["load-kg", "--dataset", "tiny"]),
        ("loaded", ["kg", "stats", "--dataset", "tiny"]),
        ("loaded", ["kg", "query", QUERY, "--dataset", "tiny"]),
        ("loaded", ["kg", "export", "--format", "cypher", "--out", "EXPORT", "--dataset", "tiny"]),
        ("indexed", ["retrieve", "--user", "1", "--json", "--dataset", "tiny"]),
    ],
    ids=lambda value: " ".join(value[:2]) if isinstance(value, list) else value,
)
def test_verbs_without_a_model_do_not_import_the_ml_stack(tmp_path, state, verb):
    data_dir = data_dir_at(tmp_path, state)
    arguments = [str(tmp_path / "tiny.cypher") if part == "EXPORT" else part for part in verb]
    assert ml_modules_after([*arguments, "--data-dir", str(data_dir)]) == []


def test_a_verb_that_needs_a_model_does_import_it(tmp_path):
    """The check above can fail: `kragrec index` encodes texts with a transformer."""
    data_dir = data_dir_at(tmp_path, "loaded")
    assert "torch" in ml_modules_after(["index", "--dataset", "tiny", "--data-dir", str(data_dir)])
