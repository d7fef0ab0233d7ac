"""Candidate lists: the target plus negatives the user never rated, drawn uniformly with a fixed seed."""

from __future__ import annotations

import numpy as np

from kragrec.errors import KragrecError

SPLIT_CODES = {"valid": 1, "test": 2}


def draw_candidates(
    target: str,
    rated: set[str],
    all_items: list[str],
    count: int,
    seed: int,
    stream: tuple[int, ...],
) -> list[str]:
    """Target + count-1 distinct never-rated items, shuffled; `stream` makes each list's draw independent."""
    negatives_needed = count - 1
    unrated_total = len(all_items) - len(rated & set(all_items))
    if unrated_total < negatives_needed:
        raise KragrecError(
            f"cannot draw {negatives_needed} negatives: only {unrated_total} items are unrated by this user"
        )
    rng = np.random.default_rng([seed, *stream])
    if unrated_total <= 4 * negatives_needed:
        pool = [item for item in all_items if item not in rated]
        negatives = [pool[i] for i in rng.choice(len(pool), size=negatives_needed, replace=False)]
    else:
        chosen: dict[str, None] = {}
        while len(chosen) < negatives_needed:
            item = all_items[int(rng.integers(len(all_items)))]
            if item not in rated:
                chosen[item] = None
        negatives = list(chosen)
    candidates = [target, *negatives]
    rng.shuffle(candidates)
    return candidates
