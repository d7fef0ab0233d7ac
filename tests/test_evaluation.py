"""`kragrec eval` on the tiny setup: deterministic run scoring, baselines on the prepared lists, output files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kragrec.baselines.sasrec import SasrecConfig
from kragrec.baselines.sasrec_training import train_sasrec
from kragrec.data.popularity import popularity_scores, train_popularity
from kragrec.data.records import evaluation_records
from kragrec.errors import KragrecError
from kragrec.evaluation.evaluate import evaluate_baseline, evaluate_run
from kragrec.evaluation.fusion import mixed_scores
from kragrec.files import read_jsonl
from kragrec.metrics import metrics_from_ranks
from kragrec.recommenders.registry import open_run
from kragrec.recommenders.untrained import random_scores
from kragrec.training.trainer import launch_training

from conftest import tiny_config


@pytest.fixture(scope="module")
def trained_run(tiny_setup):
    settings, root = tiny_setup
    launch_training(settings, tiny_config(root, "for-eval", epochs=1))
    return settings, root / "for-eval"


def test_evaluating_a_run_twice_gives_identical_outputs(trained_run, tmp_path):
    settings, run_dir = trained_run
    first, reference = evaluate_run(run_dir, settings, "test", "best", tmp_path / "first")
    second, _ = evaluate_run(run_dir, settings, "test", "best", tmp_path / "second")
    assert first == second
    for name in ("predictions.jsonl", "metrics.json"):
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes()
    assert first["samples"] == 6 and reference["method"] == "popularity"
    for metric, (low, high) in first["intervals"].items():
        assert low <= first["metrics"][metric] <= high


def test_predictions_hold_every_prepared_sample_with_its_rank(trained_run, tmp_path):
    settings, run_dir = trained_run
    report, _ = evaluate_run(run_dir, settings, "test", "best", tmp_path / "out")
    rows = read_jsonl(tmp_path / "out" / "predictions.jsonl")
    records = evaluation_records(settings, "test", None)
    assert [(r["user"], r["target"], r["candidates"]) for r in rows] == [
        (r.user, r.target, r.candidates) for r in records
    ]
    for row in rows:
        target_score = row["scores"][row["candidates"].index(row["target"])]
        assert row["rank"] == sum(score >= target_score for score in row["scores"])
    assert report["metrics"] == pytest.approx(metrics_from_ranks(np.array([r["rank"] for r in rows])))
    assert json.loads((tmp_path / "out" / "metrics.json").read_text()) == report


def test_run_settings_come_from_the_run_and_connection_from_the_caller(trained_run, tmp_path):
    settings, run_dir = trained_run
    from dataclasses import replace

    run = open_run(run_dir, replace(settings, candidates=99, top_k=7, rerank=False))
    assert run.settings.candidates == 10 and run.settings.top_k == settings.top_k
    assert run.settings.rerank is True  # retrieval as the run was trained, not as the caller's settings say
    assert run.settings.data_dir == settings.data_dir and run.config.epochs == 1


def test_a_run_recorded_before_the_completion_prompt_is_read_as_a_chat_prompt_run(trained_run, tmp_path):
    settings, run_dir = trained_run
    assert open_run(run_dir, settings).config.title_prompt == "completion"
    recorded = json.loads((run_dir / "config.json").read_text())
    del recorded["train"]["title_prompt"]
    (tmp_path / "config.json").write_text(json.dumps(recorded))
    assert open_run(tmp_path, settings).config.title_prompt == "chat"


def test_popularity_baseline_ranks_by_train_counts(tiny_setup, tmp_path):
    settings, _ = tiny_setup
    counts = train_popularity(settings)
    records = evaluation_records(settings, "test", None)
    for record, scores in zip(records, popularity_scores(records, counts), strict=True):
        assert scores.tolist() == [counts[c] for c in record.candidates]
    report, reference = evaluate_baseline("popularity", settings, "test", tmp_path / "pop")
    assert reference is None and report["samples"] == 6


def test_random_baseline_is_seeded(tiny_setup):
    settings, _ = tiny_setup
    np.testing.assert_array_equal(
        random_scores(settings, evaluation_records(settings, "valid", None)),
        random_scores(settings, evaluation_records(settings, "valid", None)),
    )


def _scores(folder) -> np.ndarray:
    rows = read_jsonl(folder / "predictions.jsonl")
    return np.array([[-np.inf if s is None else s for s in row["scores"]] for row in rows])


def test_a_prior_run_is_mixed_in_at_the_share_that_ranks_the_runs_validation_best(trained_run, tmp_path):
    settings, run_dir = trained_run
    prior_dir = tmp_path / "sasrec"
    train_sasrec(settings, prior_dir, SasrecConfig(hidden=16, epochs=2, val_every=1))
    evaluate_run(run_dir, settings, "test", "best", tmp_path / "alone")
    evaluate_run(prior_dir, settings, "test", "best", tmp_path / "prior")
    mixed, _ = evaluate_run(run_dir, settings, "test", "best", tmp_path / "mixed", prior=prior_dir)
    chosen = mixed["prior"]
    assert chosen["run"] == str(prior_dir) and chosen["method"] == "sasrec" and chosen["valid_samples"] == 6
    assert chosen["valid_acc_by_share"][str(chosen["share"])] == max(chosen["valid_acc_by_share"].values())
    expected = mixed_scores(_scores(tmp_path / "alone"), _scores(tmp_path / "prior"), chosen["share"])
    np.testing.assert_allclose(_scores(tmp_path / "mixed"), expected, atol=1e-4)
    given, _ = evaluate_run(run_dir, settings, "test", "best", tmp_path / "given", prior=prior_dir, share=0.4)
    assert given["prior"] == {"run": str(prior_dir), "method": "sasrec", "share": 0.4}  # validation not scored again
    expected = mixed_scores(_scores(tmp_path / "alone"), _scores(tmp_path / "prior"), 0.4)
    np.testing.assert_allclose(_scores(tmp_path / "given"), expected, atol=1e-4)
    with pytest.raises(KragrecError, match="not a training run"):
        evaluate_run(run_dir, settings, "test", "best", tmp_path / "bad", prior=tmp_path)


def test_unknown_baseline_and_missing_run_are_one_line_errors(tiny_setup, tmp_path):
    settings, _ = tiny_setup
    with pytest.raises(KragrecError, match="baselines without training are random, popularity, llm-zero-shot"):
        evaluate_baseline("sasrec", settings, "test", None)
    with pytest.raises(KragrecError, match="not a training run"):
        evaluate_run(tmp_path, settings, "test", "best", None)


def test_llm_zero_shot_scores_with_the_untrained_llm_deterministically(tiny_setup, tmp_path):
    settings, root = tiny_setup
    llm = str(root / "tiny-llama")
    first, reference = evaluate_baseline("llm-zero-shot", settings, "test", tmp_path / "a", llm)
    second, _ = evaluate_baseline("llm-zero-shot", settings, "test", tmp_path / "b", llm)
    assert first == second and first["samples"] == 6 and reference["method"] == "popularity"
    rows = read_jsonl(tmp_path / "a" / "predictions.jsonl")
    assert all(row["evidence"] == [] for row in rows)  # no knowledge
    assert len({tuple(row["scores"]) for row in rows}) == 6  # scores come from each sample's own prompt


def test_fictional_films_reach_the_llm_prompt_by_title(tiny_setup, tmp_path):
    settings, root = tiny_setup
    report, _ = evaluate_baseline("llm-zero-shot", settings, "test", tmp_path / "z", str(root / "tiny-llama"), 2)
    rows = read_jsonl(tmp_path / "z" / "predictions.jsonl")
    fictional = [s for row in rows for c, s in zip(row["candidates"], row["scores"], strict=True) if ":" in c]
    assert len(fictional) == 12 and all(score is not None for score in fictional)
    assert 0 <= report["fictional_first"] <= 1
