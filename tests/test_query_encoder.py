"""The query-time encoder: the sentence encoder exported to ONNX and run by onnxruntime gives the torch encoder's
vectors, and an export that is stale (another record, a changed model folder) or damaged is made again."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kragrec.config import Settings
from kragrec.retrieval.encoder import load_text_encoder
from kragrec.retrieval.encoder_source import DEFAULT_ENCODER, encoder_location
from kragrec.retrieval.query_encoder import MODEL_FILE, RECORD_FILE, export_folder, load_query_encoder

TEXTS = [
    "Star Wars (1977)",
    "What is the top recommended movie for the user who watched Toy Story (1995), Fargo (1996), Heat (1995)?",
    "",
    "Amélie (2001) — 千と千尋の神隠し",
    " ".join(["a very long text that the encoder must truncate"] * 120),
]


@pytest.fixture(scope="module")
def encoder_copy(tmp_path_factory):
    """A private copy of the packaged encoder's folder (so a test may touch its files) and a private cache."""
    root = tmp_path_factory.mktemp("query-encoder")
    folder = root / "encoder"
    shutil.copytree(encoder_location(DEFAULT_ENCODER, Settings().cache_dir), folder)
    return str(folder), root / "cache"


def test_onnx_vectors_equal_the_torch_encoder(encoder_copy):
    name, cache = encoder_copy
    reference = load_text_encoder(name, cache).encode(TEXTS)
    onnx = load_query_encoder(name, cache)
    assert onnx.dim == reference.shape[1]
    np.testing.assert_allclose(onnx.encode(TEXTS), reference, atol=1e-5)
    np.testing.assert_allclose(onnx.encode(TEXTS, batch_size=2), reference, atol=1e-5)  # other padding per batch
    np.testing.assert_allclose(np.linalg.norm(onnx.encode(TEXTS), axis=1), 1.0, atol=1e-5)


def exported_at(name, cache) -> int:
    return (export_folder(name, cache) / MODEL_FILE).stat().st_mtime_ns


@pytest.mark.parametrize("change", ["record of another version", "damaged model file", "changed encoder files"])
def test_a_stale_or_damaged_export_is_made_again(encoder_copy, change):
    name, cache = encoder_copy
    reference = load_query_encoder(name, cache).encode(TEXTS[:2])
    folder = export_folder(name, cache)
    before = exported_at(name, cache)
    if change == "record of another version":
        record = json.loads((folder / RECORD_FILE).read_text())
        (folder / RECORD_FILE).write_text(json.dumps({**record, "version": record["version"] + 1}))
    elif change == "damaged model file":
        (folder / MODEL_FILE).write_bytes(b"not an onnx model")
    else:
        os.utime(Path(name) / "config.json", ns=(before + 10**9, before + 10**9))
    again = load_query_encoder(name, cache)
    remade = exported_at(name, cache)
    assert remade != before
    np.testing.assert_allclose(again.encode(TEXTS[:2]), reference, atol=1e-6)
    load_query_encoder(name, cache)
    assert exported_at(name, cache) == remade  # current again: opened, not exported


def test_processes_that_start_at_once_export_once(encoder_copy, tmp_path):
    name, _ = encoder_copy
    cache = tmp_path / "cache"
    code = (
        "import sys\nfrom pathlib import Path\nfrom kragrec.retrieval.query_encoder import load_query_encoder\n"
        "encoder = load_query_encoder(sys.argv[1], Path(sys.argv[2]))\nprint(encoder.encode(['Fargo (1996)'])[0][0])\n"
    )
    runs = [subprocess.Popen([sys.executable, "-c", code, name, str(cache)], stdout=subprocess.PIPE, text=True)]
    runs.append(subprocess.Popen([sys.executable, "-c", code, name, str(cache)], stdout=subprocess.PIPE, text=True))
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    assert outputs[0] == outputs[1]
    assert [path.name for path in (cache / "onnx").iterdir() if not path.name.endswith(".lock")] == [
        export_folder(name, cache).name
    ]
