"""Score the prepared candidate lists of a split: with a trained run, or with a baseline that needs no training."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader

from kragrec.config import Settings
from kragrec.data.registry import open_dataset
from kragrec.data.splits import leave_one_out, split_of_ratings
from kragrec.evaluation.runs import TrainedRun, trained_model
from kragrec.kg_loader.load_plan import popularity
from kragrec.models.collate import collate
from kragrec.models.llm import load_tokenizer
from kragrec.progress import progress_bar
from kragrec.retrieval.session import open_retriever
from kragrec.training.dataset import PromptDataset
from kragrec.training.samples import Record, evaluation_records, prompt_samples

UNTRAINED_BASELINES = ("random", "popularity")


@dataclass(frozen=True)
class Scored:
    """One score per candidate of every sample, and the sub-graph seeds each sample's prompt received."""

    records: list[Record]
    scores: np.ndarray
    evidence: list[list[str]]

    @property
    def labels(self) -> np.ndarray:
        """Position of each target in its candidate list."""
        return np.array([r.candidates.index(r.target) for r in self.records], dtype=np.int64)


def train_popularity(settings: Settings) -> dict[str, int]:
    """Rating count of every item in the train split (validation and test ratings are not counted)."""
    dataset = open_dataset(settings, settings.dataset)
    counts = popularity(dataset, split_of_ratings(dataset, leave_one_out(dataset, settings.min_rating)))
    return {item: count for item, (count, _) in counts.items()}


def score_baseline(name: str, settings: Settings, split: str) -> Scored:
    """`random` (seeded uniform scores) or `popularity` (train rating counts) on the prepared lists."""
    records = evaluation_records(settings, split, None)
    if name == "random":
        scores = np.random.default_rng(settings.seed).random((len(records), settings.candidates))
    elif name == "popularity":
        counts = train_popularity(settings)
        scores = np.array([[counts[c] for c in r.candidates] for r in records], dtype=np.float64)
    else:
        raise ValueError(f"unknown untrained baseline {name!r}")
    return Scored(records, scores, [[] for _ in records])


@torch.no_grad()
def score_run(run: TrainedRun, split: str, which: str = "best", limit: int | None = None) -> Scored:
    """One forward pass per batch over the split's prepared lists with the run's checkpoint (deterministic)."""
    settings, config = run.settings, run.config
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
