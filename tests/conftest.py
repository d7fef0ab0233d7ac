"""Shared fixtures: tiny RecBole datasets, settings on a temporary data dir, both graph backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from kragrec.baselines.sasrec import SasrecConfig
from kragrec.baselines.sasrec_training import train_sasrec
from kragrec.config import Secret, Settings
from kragrec.data.prepare import prepare
from kragrec.data.registry import register
from kragrec.loading.loader import load_kg
from kragrec.models.choices import DEFAULT_LLM
from kragrec.models.llm import load_tokenizer
from kragrec.retrieval.index_builder import build_index
from kragrec.training.config import TrainConfig
from kragrec.training.trainer import launch_training

FIXTURES = Path(__file__).parent / "fixtures"
TINY = FIXTURES / "tiny"
BROKEN = FIXTURES / "broken"
NEO4J_URI = os.environ.get("KRAGREC_NEO4J_URI")
QDRANT_URL = os.environ.get("KRAGREC_QDRANT_URL")


def make_settings(data_dir: Path, backend: str = "embedded", vectors: str = "edge", **overrides) -> Settings:
    """Settings built directly, so a developer's KRAGREC_* variables never leak into a test: the graph in the
    embedded store or Neo4j (KRAGREC_NEO4J_*), vectors in qdrant-edge (the default), Qdrant's local mode or a Qdrant
    server (`qdrant-server`: KRAGREC_QDRANT_URL, whose tiny.* collections are replaced)."""
    if vectors == "qdrant-server":
        overrides.setdefault("qdrant_url", QDRANT_URL)
    else:
        overrides.setdefault("vector_backend", vectors)
    if backend == "neo4j":
        password = os.environ.get("KRAGREC_NEO4J_PASSWORD")
        overrides = {
            "neo4j_uri": NEO4J_URI,
            "neo4j_user": os.environ.get("KRAGREC_NEO4J_USER", "neo4j"),
            "neo4j_password": Secret(password) if password else None,
            "neo4j_database": os.environ.get("KRAGREC_NEO4J_DATABASE", "neo4j"),
            **overrides,
        }
    return Settings(data_dir=data_dir, backend=backend, **overrides)


def one_error_line(result) -> str:
    """The CLI result's one stderr line `error: ...` after exit 1: no exception escaped, no traceback printed."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # an escaped error would sit here
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """A temporary working folder, with the KRAGREC_* variables that name data, backend or config file unset."""
    for name in ("KRAGREC_DATA_DIR", "KRAGREC_BACKEND", "KRAGREC_DATASET", "KRAGREC_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# Congruence: every graph-store test runs on both graph backends and every index and retrieval test on every pair of
# graph and vector backend, through the fixtures below; a server backend runs wherever its variable is set.
SERVER_MARKS = {"neo4j": pytest.mark.neo4j, "qdrant-server": pytest.mark.qdrant}
SERVERS = {
    "neo4j": (NEO4J_URI, "KRAGREC_NEO4J_URI is not set: no Neo4j server to test against (the tests wipe its database)"),
    "qdrant-server": (QDRANT_URL, "KRAGREC_QDRANT_URL is not set: no Qdrant server to test against"),
}
# Vector backends of the index and retrieval tests: qdrant-edge (embedded, HNSW; the default), qdrant-client's local
# mode (embedded, brute force) and a Qdrant server.
VECTOR_BACKENDS = ("edge", "local", "qdrant-server")


def backends_param(*backends: str) -> Any:
    """One fixture parameter: these backends, marked with the servers they need."""
    marks = [SERVER_MARKS[name] for name in backends if name in SERVER_MARKS]
    return pytest.param(backends if len(backends) > 1 else backends[0], marks=marks, id="-".join(backends))


def require_server(*backends: str) -> None:
    """Skip the test where a server backend it runs on has no server."""
    for name in backends:
        address, reason = SERVERS.get(name, ("embedded", ""))
        if not address:
            pytest.skip(reason)


def server_options(settings: Settings) -> list[str]:
    """The CLI options that choose the settings' stores and reach their servers (the Neo4j password comes from
    KRAGREC_NEO4J_PASSWORD)."""
    options = ["--backend", settings.backend, "--vector-backend", settings.vector_backend]
    if settings.neo4j_uri and settings.backend == "neo4j":
        options += ["--neo4j-uri", settings.neo4j_uri]
    return options + (["--qdrant-url", settings.qdrant_url] if settings.qdrant_url else [])


def empty_graph(settings: Settings) -> None:
    """Start a Neo4j test from an empty database (an embedded store starts empty in its new folder)."""
    if settings.backend == "neo4j":
        from kragrec.graph.backends import open_graph_store

        store = open_graph_store(settings)
        store.clear()
        store.close()


@pytest.fixture(params=[backends_param("embedded"), backends_param("neo4j")])
def backend(request) -> str:
    """The graph backend of a graph-store test."""
    require_server(request.param)
    return request.param


@pytest.fixture(scope="module", params=[backends_param(g, v) for g in ("embedded", "neo4j") for v in VECTOR_BACKENDS])
def stores(request) -> tuple[str, str]:
    """The graph and vector backends of a module of index and retrieval tests (every pair)."""
    require_server(*request.param)
    return request.param


@pytest.fixture
def tiny_settings(tmp_path: Path, backend: str) -> Settings:
    """Settings for the registered tiny dataset on the parametrised backend, starting from an empty store."""
    settings = make_settings(tmp_path / "data", backend, dataset="tiny", candidates=20, batch_size=7)
    register(settings, TINY, "tiny", origin="fixture")
    empty_graph(settings)
    return settings


def tiny_llama_config(vocab_size: int, hidden: int) -> LlamaConfig:
    """A 2-layer Llama small enough for CPU tests; weights come from its random initialisation."""
    return LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
    )


@pytest.fixture(scope="session")
def tiny_setup(tmp_path_factory):
    """The tiny dataset prepared, loaded and indexed, and a tiny random Llama saved with SmolLM2's tokenizer."""
    root = tmp_path_factory.mktemp("train")
    settings = make_settings(root / "data", dataset="tiny", candidates=10, pop_threshold=0.6, fanout=3)
    register(settings, TINY, "tiny", origin="fixture")
    prepare(settings)
    load_kg(settings)
    build_index(settings)
    tokenizer = load_tokenizer(DEFAULT_LLM, settings.cache_dir)
    torch.manual_seed(0)
    LlamaForCausalLM(tiny_llama_config(len(tokenizer), 32)).save_pretrained(root / "tiny-llama")
    tokenizer.save_pretrained(root / "tiny-llama")
    return settings, root


def tiny_config(root, name, **overrides) -> TrainConfig:
    """A fast training config on the tiny setup; overrides replace any field."""
    base = {
        "run_dir": root / name,
        "llm": str(root / "tiny-llama"),
        "epochs": 2,
        "batch_size": 2,
        "lr": 5e-3,
        "max_train": 8,
        "max_valid": 6,
        "gnn_hidden": 16,
        "gnn_layers": 2,
        "num_workers": 0,
        "checkpoint_every": 2,
    }
    return TrainConfig(**{**base, **overrides})


@pytest.fixture(scope="session")
def tiny_runs(tiny_setup):
    """A tiny K-RagRec (LoRA) run at root/kragrec-run and a tiny SASRec run at root/sasrec-run, trained once."""
    settings, root = tiny_setup
    launch_training(settings, tiny_config(root, "kragrec-run", epochs=1))
    train_sasrec(settings, root / "sasrec-run", SasrecConfig(hidden=16, epochs=2, val_every=1))
    return settings, root


ML_STACK = ("torch", "transformers", "peft", "torch_geometric", "sentence_transformers")


def ml_modules_after(arguments: list[str]) -> list[str]:
    """Run one kragrec command in a fresh interpreter; the ML modules it imported (it must succeed)."""
    code = (
        "import json, sys\nfrom kragrec.cli import app\n"
        f"app({arguments!r}, standalone_mode=False)\n"
        f"print(json.dumps(sorted(m for m in {ML_STACK!r} if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])
