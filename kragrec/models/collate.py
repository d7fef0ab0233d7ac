"""Turn encoded samples into a ModelBatch (runs in DataLoader workers, off the training step's hot path)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch_geometric.data import Batch, Data

from kragrec.models.graph_llm import ModelBatch
from kragrec.models.path_preference import PathGroup
from kragrec.models.prompt import PromptTokens


@dataclass(frozen=True)
class EncodedSample:
    """One sample ready for the model: prompt pieces, its sub-graphs, the target's position among the candidates."""

    tokens: PromptTokens
    graphs: list[Data]
    label: int
    num_candidates: int
    user_index: int = -1
    path_groups: tuple[PathGroup, ...] = ()
    history: tuple[str, ...] = ()  # item ids, read by collaborative tokens
    candidates: tuple[str, ...] = ()


def collate(samples: list[EncodedSample]) -> ModelBatch:
    """Stack prompt pieces and flatten every sample's sub-graphs into one PyG batch."""
    counts = {s.num_candidates for s in samples}
    if len(counts) != 1:
        raise ValueError(f"a batch mixes candidate-list sizes {sorted(counts)}")
    graphs = [g for s in samples for g in s.graphs]
    owner = torch.tensor([n for n, s in enumerate(samples) for _ in s.graphs], dtype=torch.long)
    if graphs:
        flat = Batch.from_data_list(graphs)
        x, edge_index, edge_attr, node_graph = flat.x, flat.edge_index, flat.edge_attr, flat.batch
    else:
        x = edge_attr = torch.zeros((0, 0))
        edge_index = torch.zeros((2, 0), dtype=torch.long)
        node_graph = torch.zeros(0, dtype=torch.long)
    option_ids, option_mask = _padded_options(samples)
    return ModelBatch(
        before=[torch.tensor(s.tokens.before, dtype=torch.long) for s in samples],
        after=[torch.tensor(s.tokens.after, dtype=torch.long) for s in samples],
        x=x,
        edge_index=edge_index,
        edge_attr=edge_attr,
        node_graph=node_graph,
        graph_owner=owner,
        labels=torch.tensor([s.label for s in samples], dtype=torch.long),
        num_candidates=counts.pop(),
        option_ids=option_ids,
        option_mask=option_mask,
        users=torch.tensor([s.user_index for s in samples], dtype=torch.long),
        path_groups=[list(s.path_groups) for s in samples],
        histories=[s.history for s in samples],
        candidates=[s.candidates for s in samples],
    )


def _padded_options(samples: list[EncodedSample]) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The candidates' answer tokens of every sample, right-padded to the longest: [batch, candidates, length] ids
    and mask; None for letter-answer samples."""
    if not any(s.tokens.options for s in samples):
        return None, None
    if any(len(s.tokens.options) != s.num_candidates for s in samples):
        raise ValueError("a title-answer batch needs answer tokens for every candidate of every sample")
    length = max(len(option) for s in samples for option in s.tokens.options)
    ids = torch.zeros((len(samples), samples[0].num_candidates, length), dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, sample in enumerate(samples):
        for column, option in enumerate(sample.tokens.options):
            ids[row, column, : len(option)] = torch.tensor(option, dtype=torch.long)
            mask[row, column, : len(option)] = 1
    return ids, mask
