"""The collaborative prior: standardised score rows mixed at a share chosen on validation samples."""

from __future__ import annotations

import numpy as np
import pytest

from kragrec.data.records import Scored
from kragrec.data.sample import Record
from kragrec.evaluation.fusion import SHARES, choose_share, fused, mixed_scores, standardised
from kragrec.training.run_folder import selection_key

INF = float("inf")


def scored(scores: list[list[float]], labels: list[int]) -> Scored:
    records = [
        Record(f"u{n}", [], f"i{label}", [f"i{c}" for c in range(len(row))])
        for n, (row, label) in enumerate(zip(scores, labels, strict=True))
    ]
    return Scored(records, np.array(scores, dtype=np.float64), [[] for _ in records])


def test_rows_are_standardised_over_their_finite_scores():
    rows = standardised(np.array([[1.0, 2.0, 3.0, -INF], [5.0, 5.0, 5.0, 5.0]]))
    assert rows[0, :3] == pytest.approx([-1.2247449, 0.0, 1.2247449])
    assert rows[0, 3] == -INF
    assert rows[1].tolist() == [0.0, 0.0, 0.0, 0.0]  # a constant row says nothing


def test_the_share_moves_the_ranking_from_the_model_to_the_prior():
    model, prior = np.array([[3.0, 2.0, 1.0]]), np.array([[10.0, 20.0, 30.0]])
    assert np.argmax(mixed_scores(model, prior, 0.0)) == 0
    assert np.argmax(mixed_scores(model, prior, 1.0)) == 2
    mixed = mixed_scores(model, prior, 0.5)
    assert mixed[0].tolist() == pytest.approx([0.0, 0.0, 0.0])  # opposite orders of equal spread cancel


def test_items_the_prior_never_saw_are_never_ranked_once_it_has_a_say():
    model, prior = np.array([[9.0, 1.0, 0.0]]), np.array([[-INF, 1.0, 0.0]])
    assert mixed_scores(model, prior, 0.0)[0, 0] > 0  # the model alone still ranks it first
    assert mixed_scores(model, prior, 0.05)[0, 0] == -INF
    assert np.isfinite(mixed_scores(model, prior, 0.05)[0, 1:]).all()


def test_the_chosen_share_ranks_the_validation_samples_best():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, size=40).tolist()
    target = np.eye(5)[labels]
    model = scored((rng.normal(size=(40, 5)) + 1.5 * target).tolist(), labels)  # each a noisy view of the target
    prior = scored((rng.normal(size=(40, 5)) + 1.5 * target).tolist(), labels)
    fusion = choose_share(model, prior)
    assert set(fusion.valid) == set(SHARES)
    best = max(selection_key(metrics) for metrics in fusion.valid.values())
    assert selection_key(fusion.valid[fusion.share]) == best
    assert all(selection_key(fusion.valid[s]) < best for s in SHARES if s < fusion.share)  # smallest of the best
    assert 0 < fusion.share < 1  # two independent noisy views: their mix beats either alone


def test_fusing_needs_the_same_candidate_lists():
    model = scored([[1.0, 0.0]], [0])
    other = Scored([Record("u0", [], "i0", ["i0", "i9"])], np.array([[0.0, 1.0]]), [[]])
    with pytest.raises(ValueError, match="different candidate lists"):
        fused(model, other, 0.5)
    assert fused(model, model, 0.5).scores[0].tolist() == pytest.approx([1.0, -1.0])
