"""Full-ranking protocol: SASRec's top-M of unseen items re-ranked by a run; misses count; subset labelled."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from kragrec.baselines.sasrec_training import user_sequences
from kragrec.cli import app
from kragrec.data.sample import Record
from kragrec.evaluation.full_ranking import evaluate_full_ranking, reranked_ranks
from kragrec.files import read_jsonl
from kragrec.metrics import full_ranking_metrics


def test_metrics_at_cutoffs_by_hand():
    metrics = full_ranking_metrics(np.array([1, 3, 7, np.inf]))
    assert metrics["recall@5"] == 0.5 and metrics["recall@10"] == 0.75
    assert metrics["mrr@5"] == pytest.approx((1 + 1 / 3) / 4)
    assert metrics["mrr@10"] == pytest.approx((1 + 1 / 3 + 1 / 7) / 4)
    assert metrics["ndcg@10"] == pytest.approx((1 + 1 / math.log2(4) + 1 / math.log2(8)) / 4)


def test_reranked_ranks_count_misses_and_ties():
    records = [Record("a", [], "x", ["y", "x", "z"]), Record("b", [], "x", ["y", "z", "w"])]
    ranks = reranked_ranks(records, np.array([[0.5, 0.5, 0.1], [0.3, 0.2, 0.1]]))
    assert ranks[0] == 2 and np.isinf(ranks[1])


def test_llm_reranks_the_retrievers_unseen_top_m(tiny_runs, tmp_path):
    settings, root = tiny_runs
    report = evaluate_full_ranking(root / "kragrec-run", root / "sasrec-run", settings, "test", tmp_path / "f")
    rows = read_jsonl(tmp_path / "f" / "predictions.jsonl")
    sequences = user_sequences(settings)
    for row in rows:
        seen = {sequences.item_of[i] for i in sequences.before["test"][row["user"]]}
        assert len(row["candidates"]) == 10 and not set(row["candidates"]) & seen
        assert (row["rank"] is None) == (row["target"] not in row["candidates"])
    found = sum(row["rank"] is not None for row in rows)
    assert report["overall"]["users"] == 6 and report["retrieval_subset"]["users"] == found
    overall, subset = report["overall"]["metrics"], report["retrieval_subset"]["metrics"]
    if found:
        assert overall["recall@10"] == pytest.approx(subset["recall@10"] * found / 6)


def test_cli_full_ranking_prints_the_three_rows(tiny_runs):
    settings, root = tiny_runs
    arguments = ["eval", str(root / "kragrec-run"), "--full-ranking", str(root / "sasrec-run")]
    result = CliRunner().invoke(app, [*arguments, "--data-dir", str(settings.data_dir), "--dataset", "tiny"])
    assert result.exit_code == 0, result.output
    for label in ("all users (6)", "retrieved (", "retriever alone", "recall@10", "mrr@5"):
        assert label in result.stdout
    written = json.loads((root / "kragrec-run" / "eval" / "test-full-ranking" / "metrics.json").read_text())
    assert set(written) >= {"overall", "retrieval_subset", "retriever_alone"}
