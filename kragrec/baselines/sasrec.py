"""SASRec (Kang & McAuley, ICDM 2018): causal self-attention over a user's item sequence.

Departure, documented: trained with full-softmax cross-entropy over all items at every position (as LlamaRec
trains its LRURec retriever) instead of the original's one sampled negative with binary cross-entropy;
full softmax is the stronger, more common choice for small catalogues such as ML-100K.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

PAD = 0  # item index 0 is padding; real items are 1..num_items


@dataclass(frozen=True)
class SasrecConfig:
    """Model and training options (SASRec paper defaults for MovieLens where it gives them)."""

    hidden: int = 64
    blocks: int = 2
    heads: int = 1
    dropout: float = 0.2
    max_len: int = 200
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 128
    epochs: int = 200
    val_every: int = 5
    patience: int = 5


class SASRec(nn.Module):
    """Item and position embeddings, pre-norm causal Transformer blocks, scores = hidden · item embedding."""

    def __init__(self, num_items: int, config: SasrecConfig) -> None:
        super().__init__()
        self.items = nn.Embedding(num_items + 1, config.hidden, padding_idx=PAD)
        self.positions = nn.Embedding(config.max_len, config.hidden)
        self.dropout = nn.Dropout(config.dropout)
        layer = nn.TransformerEncoderLayer(
            config.hidden,
            config.heads,
            dim_feedforward=config.hidden,
            dropout=config.dropout,
            batch_first=True,
            norm_first=True,
        )
        self.blocks = nn.TransformerEncoder(layer, config.blocks, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(config.hidden)

    def hidden_states(self, sequences: torch.Tensor) -> torch.Tensor:
        """[batch, length] right-padded item indexes -> [batch, length, hidden].

        Only a causal mask: with right padding no real position ever sees padding, so no padding mask is needed
        (a padding mask would leave padded query rows with nothing to attend to).
        """
        length = sequences.shape[1]
        positions = torch.arange(length, device=sequences.device)
        x = self.dropout(self.items(sequences) + self.positions(positions))
        causal = nn.Transformer.generate_square_subsequent_mask(length, device=sequences.device)
        return self.norm(self.blocks(x, mask=causal, is_causal=True))

    def all_item_logits(self, sequences: torch.Tensor) -> torch.Tensor:
        """Logits over every item index (padding included, never a target) at every position."""
        return self.hidden_states(sequences) @ self.items.weight.T

    def last_states(self, sequences: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The hidden state after each sequence's last real item: [batch, hidden]."""
        states = self.hidden_states(sequences)
        return states[torch.arange(len(sequences), device=states.device), lengths - 1]

    def next_item_logits(self, sequences: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits over every item index (padding included) after each sequence's last real item: [batch, items + 1]."""
        return self.last_states(sequences, lengths) @ self.items.weight.T

    def candidate_scores(
        self, sequences: torch.Tensor, lengths: torch.Tensor, candidates: torch.Tensor
    ) -> torch.Tensor:
        """Scores of [batch, M] candidate indexes after each sequence's last real item."""
        return torch.einsum("bh,bmh->bm", self.last_states(sequences, lengths), self.items(candidates))


def right_padded(sequences: list[list[int]], max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The last max_len items of each sequence, right-padded with PAD to the longest; and their lengths."""
    rows = [s[-max_len:] for s in sequences]
    width = max(1, max((len(r) for r in rows), default=1))
    padded = torch.tensor([r + [PAD] * (width - len(r)) for r in rows], dtype=torch.long)
    return padded, torch.tensor([len(r) for r in rows], dtype=torch.long)
