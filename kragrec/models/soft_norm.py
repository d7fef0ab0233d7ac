"""Soft tokens at the length of the LLM's words: projected vectors keep their direction and take the mean norm of the
LLM's token embeddings (unscaled, projected tokens grow far larger than words and drown them)."""

from __future__ import annotations

import torch
from torch import nn


def mean_token_norm(embeddings: nn.Embedding) -> float:
    """The mean L2 norm of the LLM's input token embeddings."""
    return float(embeddings.weight.detach().float().norm(dim=1).mean())


def rescaled(tokens: torch.Tensor, norm: float) -> torch.Tensor:
    """[..., width] tokens, each rescaled to length `norm` (a zero token stays zero)."""
    return tokens * (norm / tokens.norm(dim=-1, keepdim=True).clamp_min(1e-6))
