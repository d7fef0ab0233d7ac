"""The model a run trains or reopens, built from its settings and TrainConfig (no training machinery imported, so
scoring a checkpoint never loads Lightning)."""

from __future__ import annotations

from kragrec.config import Settings
from kragrec.data.registry import open_dataset
from kragrec.models.graph_encoder import GraphEncoder, Projector
from kragrec.models.graph_llm import GraphLLM, LoraSettings, TitleHead
from kragrec.models.llm import load_llm, load_tokenizer
from kragrec.models.path_llm import PathLLM
from kragrec.models.path_preference import UserPreference
from kragrec.models.prompt import letter_token_ids
from kragrec.retrieval.subgraph import GraphFeatures
from kragrec.training.config import TrainConfig


def build_model(settings: Settings, config: TrainConfig, features: GraphFeatures | None) -> GraphLLM:
    """The LLM (frozen or LoRA) with a fresh graph encoder and projector when the method uses the KG, or the
    path-reading LLM with a fresh preference module for LKG-RAG."""
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
    )
