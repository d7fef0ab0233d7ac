"""Popularity policies: which history items get knowledge-graph help."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from kragrec.data.dataset import natural_key


def items_to_augment(
    history: Sequence[str],
    pop_pct: Mapping[str, float],
    policy: str,
    threshold: float,
    training: bool = False,
) -> list[str]:
    """History items to retrieve for, in history order, without repeats.

    paper:    items whose popularity percentile is below the threshold p (K-RagRec §3.4).
    relative: the floor(p * |history|) least popular items of this history (the released config's intent).
    official: the released code as shipped: all items while training, only the least popular one in evaluation.
    """
    unique = list(dict.fromkeys(history))
    if policy == "paper":
        return [item for item in unique if pop_pct[item] < threshold]
    by_popularity = sorted(unique, key=lambda item: (pop_pct[item], natural_key(item)))
    if policy == "relative":
        chosen = set(by_popularity[: math.floor(threshold * len(unique))])
    elif policy == "official":
        chosen = set(by_popularity if training else by_popularity[:1])
    else:
        raise ValueError(f"unknown policy {policy!r}")
    return [item for item in unique if item in chosen]
