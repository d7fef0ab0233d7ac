"""Benchmark: do a trained run's soft tokens carry the sub-graphs, or have they collapsed to one constant prefix?

On validation samples that retrieved sub-graphs, for the run's model at initialisation (its seed) and at its best
checkpoint: the spread of the soft tokens (mean distance from their mean over their mean norm: 0 means every
sub-graph gives the same token), the cosine between the initial and trained mean token, and how the model ranks
the candidates with its own soft tokens, with the tokens of another sample (rotated within the batch) and with
none. A model that reads its sub-graphs loses ACC and listwise loss when the tokens are swapped or removed.

Run: .venv/bin/python bench/soft_tokens.py RUN_DIR [--data-dir .kragrec] [--samples 48]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from lightning_fabric.utilities.seed import seed_everything
from torch import nn

from kragrec.config import Settings
from kragrec.data.records import evaluation_records
from kragrec.models.checkpoint import read_trained_parts
from kragrec.models.collate import collate
from kragrec.models.graph_llm import GraphLLM, ModelBatch
from kragrec.recommenders.llm import trained_model
from kragrec.recommenders.registry import open_run
from kragrec.training.dataset import PromptDataset
from kragrec.training.model_build import build_model
from kragrec.training.sources import open_sample_source

CONDITIONS = ("own", "rotated", "none")


def soft_tokens_for(condition: str, tokens: list[torch.Tensor]) -> list[torch.Tensor]:
    """The soft tokens each sample gets: its own, the next sample's, or none."""
    if condition == "own":
        return tokens
    if condition == "rotated":
        return tokens[1:] + tokens[:1]
    return [t[:0] for t in tokens]


@torch.no_grad()
def measure(model: GraphLLM, batches: list[ModelBatch]) -> dict[str, float]:
    """Spread and mean of the soft tokens, then ACC and listwise loss under each condition."""
    results: dict[str, list[float]] = {f"{c} {m}": [] for c in CONDITIONS for m in ("acc", "loss")}
    every = []
    for batch in batches:
        tokens = model.graph_tokens(batch)
        every.append(torch.cat(tokens).float())
        for condition in CONDITIONS:
            scores = model.scores(batch, soft_tokens_for(condition, tokens))
            results[f"{condition} acc"] += (scores.argmax(dim=1) == batch.labels).float().tolist()
            results[f"{condition} loss"] += nn.functional.cross_entropy(scores, batch.labels, reduction="none").tolist()
    stacked = torch.cat(every)
    mean = stacked.mean(dim=0)
    summary = {name: sum(values) / len(values) for name, values in results.items()}
    summary["spread"] = float((stacked - mean).norm(dim=1).mean() / stacked.norm(dim=1).mean())
    summary["mean"] = mean  # type: ignore[assignment]
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--data-dir", type=Path, default=Path(".kragrec"))
    parser.add_argument("--samples", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=4)
    args = parser.parse_args()
    run = open_run(args.run_dir, Settings(data_dir=args.data_dir))
    records = evaluation_records(run.settings, "valid", None)
    with open_sample_source(run.settings, run.config) as source:
        samples = [s for s in source.samples(records, training=False) if s.subgraphs][: args.samples]
        features = source.features
    dataset = PromptDataset(samples, features)
    size = args.batch_size
    batches = [
        collate([dataset[i] for i in range(n, min(n + size, len(dataset)))]) for n in range(0, len(dataset), size)
    ]
    seed_everything(run.settings.seed)
    initial = measure(build_model(run.settings, run.config, features).eval(), batches)
    trained = measure(trained_model(run, features, read_trained_parts(run.checkpoint())), batches)
    cosine = float(nn.functional.cosine_similarity(initial.pop("mean"), trained.pop("mean"), dim=0))
    print(f"{len(samples)} validation samples with sub-graphs, run {args.run_dir}")
    print(f"{'measure':<14} {'initial':>9} {'trained':>9}")
    for name in initial:
        print(f"{name:<14} {initial[name]:>9.3f} {trained[name]:>9.3f}")
    print(f"cosine of the initial and trained mean soft token: {cosine:.3f}")


if __name__ == "__main__":
    main()
