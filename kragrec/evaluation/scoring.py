"""Score the prepared candidate lists of a split: with a trained run, or with a baseline that needs no training."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from kragrec.baselines.sasrec import SasrecConfig
from kragrec.baselines.sasrec_training import load_sasrec, sasrec_scores, user_sequences
from kragrec.config import Settings
from kragrec.data.records import Record, Scored, Titles
from kragrec.evaluation.runs import TrainedRun, trained_model
from kragrec.models.batch_scores import scored_batches
from kragrec.models.checkpoint import read_trained_parts
from kragrec.models.collate import collate
from kragrec.models.graph_llm import GraphLLM, TitleHead
from kragrec.models.llm import load_llm, load_tokenizer
from kragrec.models.prompt import TITLE_ANSWER, AnswerFormat, letter_token_ids
from kragrec.progress import progress_bar
from kragrec.retrieval.retriever import Retriever
from kragrec.retrieval.subgraph import GraphFeatures
from kragrec.training.config import TrainConfig
from kragrec.training.dataset import PromptDataset
from kragrec.training.sources import open_sample_source


def score_run(
    run: TrainedRun,
    split: str,
    records: list[Record],
    titles: Titles,
    which: str = "best",
    retriever: Retriever | None = None,
) -> Scored:
    """Scores of `records` (from `split`) with the run's checkpoint (deterministic), whatever its method.

    An LLM run retrieves through `retriever` when the caller holds one open, else through its own.
    """
    if isinstance(run.config, SasrecConfig):
        sequences = user_sequences(run.settings)
        model = load_sasrec(run.checkpoint(which), len(sequences.index_of), run.config)
        scores = sasrec_scores(model, sequences, records, split, run.config.batch_size)
        return Scored(records, scores, [[] for _ in records])
    parts = read_trained_parts(run.checkpoint(which))  # before any retrieval: a damaged checkpoint fails at once
    model_for = partial(trained_model, run, parts=parts)
    return llm_scores(run.settings, run.config, records, titles, model_for, retriever)


def score_zero_shot(
    settings: Settings, llm: str, records: list[Record], titles: Titles, answer_format: AnswerFormat = TITLE_ANSWER
) -> Scored:
    """The untrained LLM without knowledge: the `llm-zero-shot` baseline (title answer unless told otherwise)."""
    config = TrainConfig(
        run_dir=Path("."),
        method="lora-no-kg",
        llm=llm,
        bf16=True,
        answer=answer_format.answer,
        title_options=answer_format.title_options,
        title_prompt=answer_format.title_prompt,
    )
    return llm_scores(settings, config, records, titles, lambda _: zero_shot_model(settings, llm, answer_format))


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
    with progress_bar() as bar:
        task = bar.add_task("scoring", total=len(samples))
        for batch, scores in scored_batches(model, loader, config.bf16):
            batches.append(scores)
            chosen = model.chosen_evidence(batch)
            given = samples[len(evidence) : len(evidence) + batch.size]
            evidence.extend(chosen if chosen is not None else [list(s.evidence) for s in given])
            bar.update(task, advance=batch.size)
    scores = np.concatenate(batches) if batches else np.zeros((0, settings.candidates))
    return Scored(records, scores, evidence)
