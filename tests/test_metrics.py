"""Ranking metrics against hand-computed cases, and reproducible bootstrap intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kragrec.evaluation.intervals import bootstrap_intervals
from kragrec.metrics import chance_metrics, metrics_from_ranks, target_ranks


@pytest.mark.parametrize("rank", range(1, 21))
def test_target_at_every_rank(rank):
    scores = np.arange(20, 0, -1, dtype=float)[None, :]  # candidate 0 scores highest
    ranks = target_ranks(scores, np.array([rank - 1]))
    assert ranks.tolist() == [rank]
    metrics = metrics_from_ranks(ranks)
    assert metrics["acc"] == (1.0 if rank == 1 else 0.0)
    assert metrics["recall@3"] == (1.0 if rank <= 3 else 0.0)
    assert metrics["recall@5"] == (1.0 if rank <= 5 else 0.0)
    assert metrics["ndcg@10"] == pytest.approx(1 / math.log2(rank + 1) if rank <= 10 else 0.0)
    assert metrics["mrr"] == pytest.approx(1 / rank)


def test_ties_count_against_the_target():
    scores = np.array([[0.5, 0.5, 0.1], [1.0, 1.0, 1.0], [0.2, 0.9, 0.9]])
    ranks = target_ranks(scores, np.array([0, 2, 1]))
    assert ranks.tolist() == [2, 3, 2]  # a constant scorer puts the target last
    assert metrics_from_ranks(ranks)["acc"] == 0.0


def test_a_sample_without_its_target_among_the_candidates_is_refused():
    with pytest.raises(ValueError, match="not among its candidates"):
        target_ranks(np.array([[0.5, 0.1], [0.2, 0.3]]), np.array([0, -1]))  # -1: NO_TARGET


def test_means_over_samples_by_hand():
    metrics = metrics_from_ranks(np.array([1, 2, 4, 11]))
    assert metrics["acc"] == 0.25
    assert metrics["recall@3"] == 0.5
    assert metrics["recall@5"] == 0.75
    assert metrics["ndcg@10"] == pytest.approx((1 + 1 / math.log2(3) + 1 / math.log2(5) + 0) / 4)
    assert metrics["mrr"] == pytest.approx((1 + 1 / 2 + 1 / 4 + 1 / 11) / 4)


def test_chance_row_for_twenty_candidates():
    chance = chance_metrics(20)
    assert chance["acc"] == pytest.approx(0.05)
    assert chance["recall@3"] == pytest.approx(0.15)
    assert chance["recall@5"] == pytest.approx(0.25)


def test_bootstrap_is_reproducible_and_brackets_the_estimate():
    ranks = np.random.default_rng(1).integers(1, 21, size=300)
    first = bootstrap_intervals(ranks, resamples=500, seed=7)
    assert first == bootstrap_intervals(ranks, resamples=500, seed=7)
    assert first != bootstrap_intervals(ranks, resamples=500, seed=8)
    point = metrics_from_ranks(ranks)
    for name, (low, high) in first.items():
        assert low < point[name] < high, name
    width = first["acc"][1] - first["acc"][0]
    expected = 2 * 1.96 * math.sqrt(point["acc"] * (1 - point["acc"]) / len(ranks))  # normal approximation
    assert width == pytest.approx(expected, rel=0.25)


def test_bootstrap_of_a_constant_metric_has_zero_width():
    low, high = bootstrap_intervals(np.ones(50, dtype=int), resamples=100)["acc"]
    assert low == high == 1.0
