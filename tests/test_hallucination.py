"""Hallucination test and cold-start subset: injection keeps real candidates, shares and subsets by hand."""

from __future__ import annotations

import numpy as np
import pytest

from kragrec.data.sample import Record
from kragrec.errors import KragrecError
from kragrec.evaluation.evaluate import evaluate_baseline
from kragrec.evaluation.hallucination import (
    FICTIONAL_PREFIX,
    fictional_first_share,
    fictional_titles,
    inject_fictional,
)
from kragrec.evaluation.outputs import cold_start_mask
from kragrec.files import read_jsonl


def records(count: int = 40) -> list[Record]:
    return [
        Record(f"u{n}", [f"h{n}"], f"i{n}", [f"i{(n + k) % 60}" for k in range(-(n % 20), 20 - (n % 20))])
        for n in range(count)
    ]


def test_fictional_titles_are_distinct_seeded_and_never_real():
    real = {"The Silent Harbor (1950)", "The Glass Orchard (1977)"}
    titles = fictional_titles(30, real, seed=3)
    assert titles == fictional_titles(30, real, seed=3)
    assert len(set(titles.values())) == 30 and not set(titles.values()) & real
    assert all(key.startswith(FICTIONAL_PREFIX) for key in titles)


def test_injection_replaces_only_negatives_and_keeps_every_real_candidate_in_place():
    titles = fictional_titles(10, set(), seed=0)
    original = records()
    injected = inject_fictional(original, 5, titles, seed=1)
    assert injected == inject_fictional(original, 5, titles, seed=1)
    for before, after in zip(original, injected, strict=True):
        assert len(after.candidates) == len(before.candidates) == 20
        assert after.candidates.index(after.target) == before.candidates.index(before.target)
        changed = [n for n, (a, b) in enumerate(zip(before.candidates, after.candidates, strict=True)) if a != b]
        assert len(changed) == 5 and all(after.candidates[n] in titles for n in changed)
        assert before.target not in [before.candidates[n] for n in changed]
        assert (after.user, after.history, after.target) == (before.user, before.history, before.target)
    assert len({tuple(r.candidates) for r in injected}) > 1


def test_injection_refuses_more_fictions_than_negatives_and_clashing_ids():
    titles = fictional_titles(30, set(), seed=0)
    with pytest.raises(KragrecError, match="only 19 negatives"):
        inject_fictional(records(1), 20, titles, seed=0)
    clash = [Record("u", [], "a", ["a", f"{FICTIONAL_PREFIX}x"])]
    with pytest.raises(KragrecError, match="clash"):
        inject_fictional(clash, 1, titles, seed=0)


def test_fictional_first_share_counts_ties_against_the_method():
    f = FICTIONAL_PREFIX
    samples = [
        Record("a", [], "x", ["x", f"{f}1", "y"]),  # fiction wins
        Record("b", [], "x", ["x", f"{f}1", "y"]),  # real wins
        Record("c", [], "x", ["x", f"{f}1", "y"]),  # tie: counted
        Record("d", [], "x", ["x", "z", "y"]),  # no fiction
    ]
    scores = np.array([[0.1, 0.9, 0.2], [0.9, 0.1, 0.2], [0.5, 0.5, 0.2], [0.9, 0.1, 0.2]])
    assert fictional_first_share(samples, scores) == 0.5


def test_cold_start_takes_the_fifth_of_samples_with_the_least_rated_targets():
    mask = cold_start_mask(np.array([9, 1, 5, 0, 7, 1, 3, 8, 2, 6]))
    assert np.flatnonzero(mask).tolist() == [1, 3]  # counts 0 and 1 (the first of the two 1s)


def test_eval_with_fictional_candidates_reports_the_share(tiny_setup, tmp_path):
    settings, _ = tiny_setup
    report, reference = evaluate_baseline("random", settings, "test", tmp_path / "r", fictional=3)
    assert 0 <= report["fictional_first"] <= 1 and "fictional_first" in reference
    rows = read_jsonl(tmp_path / "r" / "predictions.jsonl")
    assert all(sum(c.startswith(FICTIONAL_PREFIX) for c in row["candidates"]) == 3 for row in rows)
    assert report["cold_start"]["samples"] == 2  # ceil(0.2 * 6)
