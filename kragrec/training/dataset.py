"""Torch datasets over prompt samples, and a resumable, seeded order of batches."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Dataset, Sampler

from kragrec.models.collate import EncodedSample
from kragrec.retrieval.subgraph import GraphFeatures
from kragrec.training.samples import PromptSample


class PromptDataset(Dataset):
    """Builds each sample's PyG sub-graphs on access, so a DataLoader worker does it off the training step."""

    def __init__(self, samples: list[PromptSample], features: GraphFeatures | None) -> None:
        self.samples = samples
        self.features = features

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> EncodedSample:
        sample = self.samples[index]
        graphs = [self.features.data(g) for g in sample.subgraphs] if self.features is not None else []
        return EncodedSample(
            sample.tokens,
            graphs,
            sample.label,
            len(sample.record.candidates),
            sample.user_index,
            sample.path_groups,
            tuple(sample.record.history),
            tuple(sample.record.candidates),
        )


class EpochOrder(Sampler[int]):
    """A seeded permutation per epoch, sharded over ranks, that can start part-way (to resume mid-epoch)."""

    def __init__(self, size: int, seed: int, shuffle: bool, rank: int = 0, world: int = 1) -> None:
        self.size, self.seed, self.shuffle, self.rank, self.world = size, seed, shuffle, rank, world
        self.epoch = 0
        self.skip = 0

    def order(self) -> list[int]:
        """This rank's indices for the current epoch, before skipping."""
        indices = list(range(self.size))
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
            indices = torch.randperm(self.size, generator=generator).tolist()
        per_rank = self.size // self.world
        return indices[self.rank * per_rank : (self.rank + 1) * per_rank]

    def __iter__(self) -> Iterator[int]:
        return iter(self.order()[self.skip :])

    def __len__(self) -> int:
        return len(self.order()) - self.skip
