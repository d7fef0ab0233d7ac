"""The user-preference module of LKG-RAG, made learnable: per-user weights over relation classes choose the paths.

For each history item the candidate paths (one per reachable candidate) are scored by how much of each relation
class they use, weighted by the user's log-preferences: pi(path) = softmax(features(path) . log p_u). Training samples
a path per history item and the module learns by REINFORCE from the LLM's ranking loss (advantage = loss - running
baseline); evaluation takes the most likely path. `--path-select shortest` keeps the paper's fallback instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from kragrec.paths.finder import ItemPath

RELATION_CLASSES = ("genre", "year", "director", "actor", "writer")
CLASS_OF = {
    "HAS_GENRE": "genre",
    "GENRE_OF": "genre",
    "RELEASED_IN": "year",
    "YEAR_OF": "year",
    "DIRECTED_BY": "director",
    "DIRECTED": "director",
    "HAS_ACTOR": "actor",
    "ACTED_IN": "actor",
    "WRITTEN_BY": "writer",
    "WROTE": "writer",
}
BASELINE_MOMENTUM = 0.9


def path_features(path: ItemPath) -> list[float]:
    """Share of the path's relationships in each relation class."""
    shares = [0.0] * len(RELATION_CLASSES)
    for relation in path.relations:
        shares[RELATION_CLASSES.index(CLASS_OF[relation])] += 1.0 / path.hops
    return shares


@dataclass  # not frozen: Lightning rebuilds the dataclasses of a batch when it moves one to the device
class PathGroup:
    """The candidate paths of one history item: their features, lengths, prompt lines and the token ids of each
    line with its line break."""

    features: list[list[float]]
    hops: list[int]
    lines: list[str]
    line_ids: list[list[int]]


class UserPreference(nn.Module):
    """Embedding -> LayerNorm -> Dropout -> Linear -> log-softmax over relation classes (the released shape)."""

    def __init__(self, num_users: int, dim: int = 128, dropout: float = 0.2) -> None:
        super().__init__()
        self.users = nn.Embedding(num_users, dim)
        nn.init.xavier_uniform_(self.users.weight)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(dim, len(RELATION_CLASSES))
        self.register_buffer("baseline", torch.zeros(()))  # running mean of the loss, saved for exact resume

    def forward(self, users: torch.Tensor) -> torch.Tensor:
        """Log-preferences over relation classes: [users, classes]."""
        return torch.log_softmax(self.head(self.dropout(self.norm(self.users(users)))), dim=-1)

    def reinforce(self, losses: torch.Tensor, log_probs: torch.Tensor) -> torch.Tensor:
        """A term whose value is 0 and whose gradient is the REINFORCE estimate of d E[loss] / d preferences."""
        advantage = losses.detach().float() - self.baseline
        if self.training:
            self.baseline.mul_(BASELINE_MOMENTUM).add_((1 - BASELINE_MOMENTUM) * losses.detach().float().mean())
        return (advantage * (log_probs - log_probs.detach())).mean()


def choose_paths(
    groups: Sequence[PathGroup], log_preference: torch.Tensor | None, sample: bool
) -> tuple[list[int], torch.Tensor]:
    """One path index per group and the summed log-probability of the choices (0 without a preference module).

    Without preferences: the fewest hops, ties to the earliest candidate (the paper's shortest-path fallback).
    """
    chosen, log_prob = [], torch.zeros((), device=log_preference.device if log_preference is not None else None)
    for group in groups:
        if log_preference is None:
            chosen.append(min(range(len(group.hops)), key=lambda n: (group.hops[n], n)))
            continue
        features = torch.tensor(group.features, dtype=log_preference.dtype, device=log_preference.device)
        log_pi = torch.log_softmax(features @ log_preference, dim=0)
        index = int(torch.multinomial(log_pi.exp(), 1)) if sample else int(torch.argmax(log_pi))
        chosen.append(index)
        log_prob = log_prob + log_pi[index]
    return chosen, log_prob
