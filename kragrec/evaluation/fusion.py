"""A collaborative prior for an LLM ranking: its scores mixed with a sequential model's, the mix chosen on valid.

Each sample's two score rows are standardised over the candidates (mean 0, standard deviation 1), then mixed as
(1 - share) x model + share x prior, with the share that ranks the validation samples best (ACC, ties broken by
MRR). Candidates the prior cannot score (-inf: items it never saw, such as the hallucination test's fictional
films) stay unranked whenever the prior has a say.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kragrec.data.records import Scored
from kragrec.metrics import metrics_from_ranks, target_ranks
from kragrec.training.run_folder import selection_key

SHARES = tuple(step / 20 for step in range(21))  # the prior's share tried on valid: 0 (model alone) ... 1 (prior alone)


@dataclass(frozen=True)
class Fusion:
    """The prior's share and how each share tried ranked the validation samples."""

    share: float
    valid: dict[float, dict[str, float]]


def standardised(scores: np.ndarray) -> np.ndarray:
    """Each row's finite scores shifted and scaled to mean 0 and standard deviation 1 (a constant row becomes 0);
    -inf stays -inf."""
    finite = np.isfinite(scores)
    count = finite.sum(axis=1, keepdims=True).clip(min=1)
    values = np.where(finite, scores, 0.0)
    mean = values.sum(axis=1, keepdims=True) / count
    spread = np.sqrt((np.where(finite, values - mean, 0.0) ** 2).sum(axis=1, keepdims=True) / count)
    centred = (values - mean) / np.where(spread > 0, spread, 1.0)
    return np.where(finite, centred, -np.inf)


def mixed_scores(model: np.ndarray, prior: np.ndarray, share: float) -> np.ndarray:
    """(1 - share) x standardised model scores + share x standardised prior scores."""
    model_part = (1 - share) * standardised(model)
    if share == 0:
        return model_part
    return np.where(np.isfinite(prior), model_part + share * standardised(prior), -np.inf)


def choose_share(model: Scored, prior: Scored) -> Fusion:
    """The share of SHARES whose mix ranks these (validation) samples best; the smaller share on a tie."""
    labels = np.array([r.label for r in model.records], dtype=np.int64)
    tried = {
        share: metrics_from_ranks(target_ranks(mixed_scores(model.scores, prior.scores, share), labels))
        for share in SHARES
    }
    best = max(SHARES, key=lambda share: (selection_key(tried[share]), -share))
    return Fusion(best, tried)


def fused(model: Scored, prior: Scored, share: float) -> Scored:
    """The model's scored samples re-scored with the prior at `share` (evidence stays the model's)."""
    if [r.candidates for r in model.records] != [r.candidates for r in prior.records]:
        raise ValueError("the model and the prior scored different candidate lists")
    return Scored(model.records, mixed_scores(model.scores, prior.scores, share), model.evidence)
