"""Collaborative soft tokens (as LLaRA and CoLLM feed them): a trained sequential model's item embeddings, projected
into the LLM's embedding space, one token per history item in the prompt's slot and one before each candidate's
title, so the title's likelihood can depend on how the candidate relates to the history in collaborative space.

The item table is frozen (it is SASRec's, trained on the same split); only the projector learns. Items the table
does not hold (a fictional film, an item unseen by the sequential model) get no token in the history and a zero
token before their title.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from kragrec.models.soft_norm import rescaled

SASREC_WEIGHTS = "sasrec.pt"  # a SASRec checkpoint folder's state dict
SASREC_ITEM_TABLE = "items.weight"  # its item embeddings: row 0 pads, rows 1..N follow data.dataset.item_rows


class CollabTokens(nn.Module):
    """A frozen item table and a trained linear projector into the LLM's width; tokens are rescaled to the LLM's
    mean token-embedding norm, so the projector sets only their direction."""

    def __init__(self, table: torch.Tensor, rows: dict[str, int], width: int, norm: float) -> None:
        """`table`: [items + 1, dim], row 0 padding; `rows`: the row of each item id; `norm`: the tokens' length."""
        super().__init__()
        self.register_buffer("table", table.detach().float().clone())  # saved with the checkpoint: self-contained
        self.rows = rows
        self.norm = norm
        self.projector = nn.Linear(table.shape[1], width)

    def row_indices(self, items: Sequence[Sequence[str]]) -> torch.Tensor:
        """[samples, longest] table rows of each sample's items, 0 for unknown items and padding."""
        width = max((len(sample) for sample in items), default=0)
        indices = torch.zeros((len(items), width), dtype=torch.long)
        for row, sample in enumerate(items):
            indices[row, : len(sample)] = torch.tensor([self.rows.get(item, 0) for item in sample], dtype=torch.long)
        return indices.to(self.table.device)

    def forward(self, indices: torch.Tensor) -> torch.Tensor:
        """[..., dim] → [..., width]: projected, rescaled tokens; rows 0 (unknown, padding) give zero tokens."""
        scaled = rescaled(self.projector(self.table[indices]), self.norm)
        return scaled * (indices != 0).unsqueeze(-1).to(scaled.dtype)

    def history_tokens(self, histories: Sequence[Sequence[str]]) -> list[torch.Tensor]:
        """One token per known history item, in history order, per sample."""
        indices = self.row_indices(histories)
        tokens = self(indices)
        return [sample_tokens[sample_rows != 0] for sample_tokens, sample_rows in zip(tokens, indices, strict=True)]

    def candidate_tokens(self, candidates: Sequence[Sequence[str]]) -> torch.Tensor:
        """[samples, candidates, width]: the token before each candidate's title (zero for unknown items)."""
        return self(self.row_indices(candidates))
