"""The model a run trains or reopens, built from its settings and TrainConfig (no training machinery imported, so
scoring a checkpoint never loads Lightning)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from kragrec.config import Settings
from kragrec.data.dataset import item_rows
from kragrec.data.registry import open_dataset
from kragrec.errors import KragrecError
from kragrec.models.collab import SASREC_ITEM_TABLE, SASREC_WEIGHTS, CollabTokens
from kragrec.models.graph_encoder import GraphEncoder, Projector
from kragrec.models.graph_llm import GraphLLM, LoraSettings, TitleHead
from kragrec.models.llm import load_llm, load_tokenizer
from kragrec.models.path_llm import PathLLM
from kragrec.models.path_preference import UserPreference
from kragrec.models.prompt import letter_token_ids
from kragrec.models.soft_norm import mean_token_norm
from kragrec.models.tensor_files import read_torch_file
from kragrec.retrieval.subgraph import GraphFeatures
from kragrec.training.config import TrainConfig
from kragrec.training.run_folder import RunFolder


def build_model(settings: Settings, config: TrainConfig, features: GraphFeatures | None) -> GraphLLM:
    """The LLM (frozen or LoRA) with a fresh graph encoder and projector when the method uses the KG (and fresh
    collaborative tokens with --collab), or the path-reading LLM with a fresh preference module for LKG-RAG."""
    llm = load_llm(config.llm, settings.cache_dir, config.llm_dtype, shard=config.shard)
    tokenizer = load_tokenizer(config.llm, settings.cache_dir)
    targets = tuple(name.strip() for name in config.lora_targets.split(",") if name.strip())
    lora = LoraSettings(config.lora_r, config.lora_alpha, config.lora_dropout, targets)
    letters = letter_token_ids(tokenizer, settings.candidates)
    title_head = TitleHead(config.title_scale, config.lm_weight) if config.answer == "title" else None
    if config.evidence == "paths":
        preference = None
        if config.path_select == "learned":
            preference = UserPreference(len(open_dataset(settings, settings.dataset).users), config.user_dim)
        return PathLLM(llm, letters, preference, config.mode, lora, config.answer_loss, title_head)
    encoder = projector = None
    if config.uses_graph:
        assert features is not None
        encoder = GraphEncoder(
            features.node_vectors.shape[1],
            features.relation_vectors.shape[1],
            hidden=config.gnn_hidden,
            layers=config.gnn_layers,
            heads=config.gnn_heads,
        )
        projector = Projector(config.gnn_hidden, llm.config.hidden_size)
    return GraphLLM(
        llm,
        letters,
        encoder,
        projector,
        config.mode,
        config.soft_tokens,
        lora,
        config.soft_norm,
        config.answer_loss,
        title_head,
        collab_tokens(settings, Path(config.collab), llm.get_input_embeddings()) if config.collab else None,
    )


def collab_tokens(settings: Settings, sasrec_run: Path, embeddings: nn.Embedding) -> CollabTokens:
    """Collaborative tokens over the item embeddings of a trained SASRec run's best checkpoint (same dataset)."""
    table, rows = sasrec_item_table(settings, sasrec_run)
    return CollabTokens(table, rows, embeddings.embedding_dim, mean_token_norm(embeddings))


def sasrec_item_table(settings: Settings, sasrec_run: Path) -> tuple[torch.Tensor, dict[str, int]]:
    """A trained SASRec run's item embeddings and the row of each item; a missing or foreign run is a one-line
    error."""
    weights = RunFolder(sasrec_run).checkpoint("best") / SASREC_WEIGHTS
    if not weights.is_file():
        raise KragrecError(f"--collab {sasrec_run}: no trained SASRec checkpoint ({weights}); train --method sasrec")
    table = read_torch_file(weights).get(SASREC_ITEM_TABLE)
    rows = item_rows(open_dataset(settings, settings.dataset).items)
    if table is None or table.shape[0] != len(rows) + 1:
        raise KragrecError(f"{weights}: not a SASRec checkpoint of {settings.dataset}'s {len(rows)} items")
    return table, rows
