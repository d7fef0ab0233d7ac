"""Score the prepared candidate lists of a split: with a trained run, or with a baseline that needs no training."""

from __future__ import annotations

import contextlib

import numpy as np
import torch
from torch.utils.data import DataLoader

from kragrec.baselines.sasrec import SasrecConfig
from kragrec.baselines.sasrec_training import load_sasrec, sasrec_scores, user_sequences
from kragrec.evaluation.baselines import Scored
from kragrec.evaluation.runs import TrainedRun, trained_model
from kragrec.models.collate import collate
from kragrec.models.llm import load_tokenizer
from kragrec.progress import progress_bar
from kragrec.retrieval.session import open_retriever
from kragrec.training.config import TrainConfig
from kragrec.training.dataset import PromptDataset
from kragrec.training.samples import evaluation_records, prompt_samples


def score_run(run: TrainedRun, split: str, which: str = "best", limit: int | None = None) -> Scored:
    """Scores of the split's prepared lists with the run's checkpoint (deterministic), whatever its method."""
    if isinstance(run.config, SasrecConfig):
        return score_sasrec_run(run, split, which, limit)
    return score_llm_run(run, split, which, limit)


def score_sasrec_run(run: TrainedRun, split: str, which: str, limit: int | None) -> Scored:
    """SASRec scores after each user's whole sequence before the target."""
    assert isinstance(run.config, SasrecConfig)
    sequences = user_sequences(run.settings)
    records = evaluation_records(run.settings, split, limit)
    model = load_sasrec(run.checkpoint(which), len(sequences.index_of), run.config)
    scores = sasrec_scores(model, sequences, records, split, run.config.batch_size)
    return Scored(records, scores, [[] for _ in records])


@torch.no_grad()
def score_llm_run(run: TrainedRun, split: str, which: str, limit: int | None) -> Scored:
    """One forward pass per batch of prompts over the split's prepared lists."""
    settings, config = run.settings, run.config
    assert isinstance(config, TrainConfig)
    tokenizer = load_tokenizer(config.llm, settings.cache_dir)
    with open_retriever(settings) as retriever:
        records = evaluation_records(settings, split, limit)
        samples = prompt_samples(records, retriever, tokenizer, config.evidence, training=False)
        features = retriever.features
    model = trained_model(run, features, which)
    loader = DataLoader(
        PromptDataset(samples, features, settings.candidates), batch_size=config.batch_size, collate_fn=collate
    )
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if config.bf16 else contextlib.nullcontext()
    batches = []
    with progress_bar() as bar, autocast:
        task = bar.add_task(f"scoring {split}", total=len(samples))
        for batch in loader:
            batches.append(model.scores(batch).float().cpu().numpy())
            bar.update(task, advance=batch.size)
    scores = np.concatenate(batches) if batches else np.zeros((0, settings.candidates))
    return Scored(records, scores, [list(s.evidence) for s in samples])
