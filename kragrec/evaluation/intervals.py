"""Bootstrap confidence intervals of the ranking metrics: resample users with replacement, seeded."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from kragrec.metrics import metrics_from_ranks


def bootstrap_intervals(
    ranks: np.ndarray,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    metrics: Callable[[np.ndarray], dict[str, float]] = metrics_from_ranks,
) -> dict[str, tuple[float, float]]:
    """Percentile interval of each metric over `resamples` bootstrap draws of the samples (same seed, same bounds)."""
    ranks = np.asarray(ranks)
    names = list(metrics(np.ones(1)))
    if len(ranks) == 0:
        return {name: (float("nan"), float("nan")) for name in names}
    draws = np.random.default_rng(seed).integers(0, len(ranks), size=(resamples, len(ranks)))
    per_draw = [metrics(ranks[rows]) for rows in draws]
    tail = (1 - level) / 2 * 100
    return {
        name: (
            float(np.percentile([m[name] for m in per_draw], tail)),
            float(np.percentile([m[name] for m in per_draw], 100 - tail)),
        )
        for name in names
    }


def with_interval(block: Mapping[str, Any], name: str) -> str:
    """'value [low, high]' of a metric from a block holding "metrics" and "intervals", three decimals."""
    low, high = block["intervals"][name]
    return f"{block['metrics'][name]:.3f} [{low:.3f}, {high:.3f}]"
