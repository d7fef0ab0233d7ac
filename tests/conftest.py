"""Shared fixtures: tiny RecBole datasets, settings on a temporary data dir, both graph backends."""

from __future__ import annotations

import os
from pathlib import Path

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


def make_settings(data_dir: Path, backend: str = "embedded", **overrides) -> Settings:
    """Settings built directly, so a developer's KRAGREC_* variables never leak into a test.

    Vectors go to the Qdrant server at KRAGREC_QDRANT_URL when it is set (its tiny.* collections are replaced).
    """
    overrides.setdefault("qdrant_url", QDRANT_URL)
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


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def backend(request) -> str:
    """Every graph-store test runs on the embedded store, and on Neo4j when KRAGREC_NEO4J_URI is set."""
    if request.param == "neo4j" and not NEO4J_URI:
        pytest.skip("KRAGREC_NEO4J_URI is not set: no Neo4j server to test against (the tests wipe its database)")
    return request.param


@pytest.fixture
def tiny_settings(tmp_path: Path, backend: str) -> Settings:
    """Settings for the registered tiny dataset on the parametrised backend, starting from an empty store."""
    settings = make_settings(tmp_path / "data", backend, dataset="tiny", candidates=20, batch_size=7)
    register(settings, TINY, "tiny", origin="fixture")
    if backend == "neo4j":
        from kragrec.graph.backends import open_graph_store

        store = open_graph_store(settings)
        store.clear()
        store.close()
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
