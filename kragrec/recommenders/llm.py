"""The LLM methods as Recommenders: a trained run (K-RagRec, KG text, no KG, LlamaRec, LKG-RAG) and the untrained
LLM (`llm-zero-shot`); both build prompts as the method does and score every batch the way validation does."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from kragrec.config import Settings
from kragrec.data.records import Scored
from kragrec.data.sample import Record, Titles
from kragrec.models.batch_scores import scored_batches
from kragrec.models.checkpoint import TrainedParts, apply_trained_parts, read_trained_parts
from kragrec.models.choices import TITLE_ANSWER, AnswerFormat
from kragrec.models.collate import collate
from kragrec.models.graph_llm import GraphLLM, TitleHead
from kragrec.models.llm import load_llm, load_tokenizer
from kragrec.models.precision import bf16_autocast
from kragrec.models.prompt import letter_token_ids
from kragrec.progress import progress_bar
from kragrec.recommenders.contract import Recommender
from kragrec.recommenders.runs import TrainedRun
from kragrec.retrieval.retriever import Retriever
from kragrec.retrieval.subgraph import GraphFeatures
from kragrec.training.config import TrainConfig
from kragrec.training.dataset import PromptDataset
from kragrec.training.model_build import build_model
from kragrec.training.sources import open_sample_source


@dataclass(frozen=True)
class TrainedLLM:
    """A trained LLM run's checkpoint."""

    run: TrainedRun
    which: str = "best"

    @property
    def name(self) -> str:
        """The method and the run folder's name."""
        return f"{self.run.method} ({self.run.folder.name})"

    @property
    def fed(self) -> str:
        """graph, text, paths or none: how the method's retrieved knowledge reaches the LLM."""
        return self.run.config.evidence

    def score(self, split: str, records: list[Record], titles: Titles, retriever: Retriever | None = None) -> Scored:
        """Scores with the checkpoint; its trained parts are read before any retrieval, so a damaged checkpoint fails
        at once."""
        parts = read_trained_parts(self.run.checkpoint(self.which))
        model_for = partial(trained_model, self.run, parts=parts)
        return llm_scores(self.run.settings, self.run.config, records, titles, model_for, retriever)


class ResidentLLM:
    """A trained LLM run whose model is built on the first call and kept for the next ones (`kragrec serve`)."""

    def __init__(self, checkpoint: TrainedLLM) -> None:
        self.checkpoint = checkpoint
        self.parts = read_trained_parts(checkpoint.run.checkpoint(checkpoint.which))
        self.model: GraphLLM | None = None

    @property
    def name(self) -> str:
        """As the checkpoint's."""
        return self.checkpoint.name

    @property
    def fed(self) -> str:
        """As the checkpoint's."""
        return self.checkpoint.fed

    def score(self, split: str, records: list[Record], titles: Titles, retriever: Retriever | None = None) -> Scored:
        """Scores with the kept model, without a progress bar (a server answers one small request at a time)."""
        run = self.checkpoint.run
        return llm_scores(run.settings, run.config, records, titles, self._model_for, retriever, show_progress=False)

    def _model_for(self, features: GraphFeatures | None) -> GraphLLM:
        if self.model is None:
            self.model = trained_model(self.checkpoint.run, features, self.parts)
        return self.model


def kept_resident(recommender: Recommender) -> Recommender:
    """The recommender, with an LLM run's model kept between calls; other methods are cheap to rebuild."""
    return ResidentLLM(recommender) if isinstance(recommender, TrainedLLM) else recommender


def trained_model(run: TrainedRun, features: GraphFeatures, parts: TrainedParts) -> GraphLLM:
    """The run's model with a checkpoint's trained parts (read_trained_parts) loaded, in eval mode."""
    model = build_model(run.settings, dataclasses.replace(run.config, shard=False), features)
    apply_trained_parts(model, parts)
    return model.eval()


@dataclass(frozen=True)
class ZeroShotLLM:
    """The untrained LLM without knowledge: the `llm-zero-shot` baseline (title answer unless told otherwise)."""

    settings: Settings
    llm: str
    answer_format: AnswerFormat = TITLE_ANSWER
    name: str = "llm-zero-shot"
    fed: str = "none"

    def score(self, split: str, records: list[Record], titles: Titles, retriever: Retriever | None = None) -> Scored:
        """Scores of the LLM as loaded, frozen, prompted like lora-no-kg."""
        config = TrainConfig(
            run_dir=Path("."),
            method="lora-no-kg",
            llm=self.llm,
            bf16=True,
            answer=self.answer_format.answer,
            title_options=self.answer_format.title_options,
            title_prompt=self.answer_format.title_prompt,
        )
        model_for = partial(zero_shot_model, self.settings, self.llm, self.answer_format)
        return llm_scores(self.settings, config, records, titles, lambda _: model_for(), retriever)


def zero_shot_model(settings: Settings, llm: str, answer_format: AnswerFormat) -> GraphLLM:
    """The LLM as loaded, frozen, with no graph encoder, answering as `answer_format` says."""
    tokenizer = load_tokenizer(llm, settings.cache_dir)
    letters = letter_token_ids(tokenizer, settings.candidates)
    title_head = TitleHead() if answer_format.answer == "title" else None
    return GraphLLM(load_llm(llm, settings.cache_dir), letters, None, None, "frozen", title_head=title_head).eval()


@torch.no_grad()
def llm_scores(
    settings: Settings,
    config: TrainConfig,
    records: list[Record],
    titles: Titles,
    model_for: Callable[[GraphFeatures | None], GraphLLM],
    retriever: Retriever | None = None,
    show_progress: bool = True,
) -> Scored:
    """Retrieve as the method does (through `retriever`, or one opened here), build prompts, then score every batch
    (deterministic, as validation does) on the first GPU when there is one, else on the CPU."""
    with open_sample_source(settings, config, retriever) as source:
        samples = source.samples(records, training=False, titles=titles)
        features = source.features
    device = torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")
    model = model_for(features).to(device)
    loader = DataLoader(PromptDataset(samples, features), batch_size=config.batch_size, collate_fn=collate)
    batches, evidence = [], []
    with progress_bar(disable=not show_progress) as bar:
        task = bar.add_task("scoring", total=len(samples))
        for batch, scores in scored_batches(model, loader, bf16_autocast(config.bf16, device.type)):
            batches.append(scores)
            chosen = model.chosen_evidence(batch)
            given = samples[len(evidence) : len(evidence) + batch.size]
            evidence.extend(chosen if chosen is not None else [list(s.evidence) for s in given])
            bar.update(task, advance=batch.size)
    scores = np.concatenate(batches) if batches else np.zeros((0, settings.candidates))
    return Scored(records, scores, evidence)


class LLMTrainer:
    """Trains and reopens the LLM methods (training/config.py METHODS)."""

    ranks_all_items = False

    def config(self, run_dir: Path, options: dict[str, Any]) -> TrainConfig:
        """TrainConfig from `kragrec train` options."""
        return TrainConfig(run_dir=run_dir, **options)

    def recorded(self, folder: Path, train: dict[str, Any]) -> TrainConfig:
        """The recorded TrainConfig; runs recorded before --title-prompt answered in the chat template."""
        before_completion = {"title_prompt": "chat"}
        return TrainConfig(**{**before_completion, **train, "run_dir": folder, "betas": tuple(train["betas"])})

    def train(self, settings: Settings, run_dir: Path, config: TrainConfig, resume: bool) -> dict[str, Any]:
        """Fabric training (DDP, sharding, bf16 as the config says); Lightning is imported here, so scoring a run
        (`recommend`, `eval`) never loads it."""
        from kragrec.training.trainer import launch_training

        return launch_training(settings, config, resume=resume)

    def open(self, run: TrainedRun, which: str) -> TrainedLLM:
        """The run's checkpoint as a Recommender."""
        return TrainedLLM(run, which)
