"""Hallucination test (K-RagRec paper Table 7): fictional films among the candidates; how often one is ranked first."""

from __future__ import annotations

import numpy as np

from kragrec.data.sample import Record
from kragrec.errors import KragrecError

FICTIONAL_PREFIX = "fictional:"
_ADJECTIVES = ("Silent", "Crimson", "Hollow", "Glass", "Midnight", "Broken", "Golden", "Northern", "Paper", "Iron")
_NOUNS = ("Harbor", "Orchard", "Lantern", "Frontier", "Carousel", "Meridian", "Tide", "Citadel", "Compass", "Reverie")


def fictional_titles(count: int, real_titles: set[str], seed: int) -> dict[str, str]:
    """`count` made-up film titles with years, none equal to a real title; ids start with FICTIONAL_PREFIX."""
    rng = np.random.default_rng(seed)
    titles: dict[str, str] = {}
    attempts = 0
    while len(titles) < count:
        attempts += 1
        if attempts > 100 * count + 1000:
            raise KragrecError(f"could not make {count} distinct fictional titles")
        adjective, noun = _ADJECTIVES[rng.integers(len(_ADJECTIVES))], _NOUNS[rng.integers(len(_NOUNS))]
        title = f"The {adjective} {noun} ({rng.integers(1930, 1999)})"
        if title not in real_titles and title not in titles.values():
            titles[f"{FICTIONAL_PREFIX}{len(titles)}"] = title
    return titles


def inject_fictional(records: list[Record], per_sample: int, titles: dict[str, str], seed: int) -> list[Record]:
    """Replace `per_sample` non-target candidates of each record, at seeded positions, with fictional films.

    The target and every other real candidate keep their place, so only the injected slots change.
    """
    if any(c.startswith(FICTIONAL_PREFIX) for r in records for c in r.candidates):
        raise KragrecError(f"item ids starting with {FICTIONAL_PREFIX!r} clash with the fictional films")
    pool = sorted(titles)
    rng = np.random.default_rng(seed)
    injected = []
    for record in records:
        negatives = [n for n, c in enumerate(record.candidates) if c != record.target]
        if per_sample > len(negatives):
            raise KragrecError(f"--fictional {per_sample}: a sample has only {len(negatives)} negatives")
        slots = rng.choice(negatives, size=per_sample, replace=False)
        films = rng.choice(len(pool), size=per_sample, replace=False)
        candidates = list(record.candidates)
        for slot, film in zip(slots, films, strict=True):
            candidates[slot] = pool[film]
        injected.append(Record(record.user, record.history, record.target, candidates))
    return injected


def fictional_first_share(records: list[Record], scores: np.ndarray) -> float:
    """Share of samples whose best fictional candidate scores at least as high as every real one (ties count)."""
    hits = 0
    for record, row in zip(records, scores, strict=True):
        fictional = np.array([c.startswith(FICTIONAL_PREFIX) for c in record.candidates])
        if fictional.any() and row[fictional].max() >= row[~fictional].max():
            hits += 1
    return hits / len(records) if records else 0.0
