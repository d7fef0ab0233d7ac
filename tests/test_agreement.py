"""Agreement of two rankings of the same lists: same first candidate and Spearman with tied ranks averaged."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from kragrec.errors import KragrecError
from kragrec.evaluation.agreement import average_ranks, ranking_agreement, read_rankings


def _rankings(*lists: list[float]) -> dict[str, tuple[list[str], np.ndarray]]:
    return {str(u): ([f"i{k}" for k in range(len(s))], np.array(s, dtype=float)) for u, s in enumerate(lists)}


def test_tied_scores_share_their_mean_rank():
    assert average_ranks(np.array([0.5, 0.1, 0.5, 0.9])).tolist() == [1.5, 0.0, 1.5, 3.0]


def test_the_same_order_agrees_fully_and_the_reversed_order_not_at_all():
    left = _rankings([0.1, 0.4, 0.9, 0.2], [3.0, 1.0, 2.0, 0.0])
    scaled = _rankings([1.0, 4.0, 9.0, 2.0], [30.0, 10.0, 20.0, 0.0])  # another scale, same order
    reversed_ = _rankings([-0.1, -0.4, -0.9, -0.2], [-3.0, -1.0, -2.0, 0.0])
    assert ranking_agreement(left, scaled).same_first == 1.0
    assert ranking_agreement(left, scaled).spearman == pytest.approx(1.0)
    assert ranking_agreement(left, reversed_).same_first == 0.0
    assert ranking_agreement(left, reversed_).spearman == pytest.approx(-1.0)


def test_a_constant_ranking_is_left_out_of_the_mean_correlation():
    left = _rankings([0.1, 0.4, 0.9], [0.3, 0.2, 0.1])
    right = _rankings([0.2, 0.5, 1.0], [7.0, 7.0, 7.0])
    agreement = ranking_agreement(left, right)
    assert agreement.spearman == pytest.approx(1.0) and agreement.same_first == 1.0
    assert math.isnan(ranking_agreement(_rankings([1.0, 1.0]), _rankings([2.0, 2.0])).spearman)


def test_rankings_of_other_samples_or_lists_are_refused():
    with pytest.raises(KragrecError, match="same samples"):
        ranking_agreement(_rankings([0.1, 0.2]), _rankings([0.1, 0.2], [0.3, 0.4]))
    other = {"0": (["x", "y"], np.array([0.1, 0.2]))}
    with pytest.raises(KragrecError, match="user 0: the two rankings order different candidate lists"):
        ranking_agreement(_rankings([0.1, 0.2]), other)


def test_predictions_are_read_with_null_scores_as_minus_infinity(tmp_path):
    path = tmp_path / "predictions.jsonl"
    row = {"user": "7", "candidates": ["a", "b"], "scores": [0.5, None], "target": "a", "rank": 1}
    path.write_text(json.dumps(row) + "\n")
    candidates, scores = read_rankings(path)["7"]
    assert candidates == ["a", "b"] and scores[0] == 0.5 and scores[1] == -math.inf
