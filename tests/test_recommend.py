"""`kragrec recommend`: ranked candidates with probabilities, all-items candidates, the evidence fed to the model."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from kragrec.baselines.sasrec_training import user_sequences
from kragrec.cli import app
from kragrec.errors import KragrecError
from kragrec.files import read_jsonl
from kragrec.recommend import recommend
from kragrec.recommendation import RecommendRequest
from kragrec.training.trainer import launch_training

from conftest import tiny_config


@pytest.fixture(scope="module")
def runs(tiny_runs):
    """The shared K-RagRec and SASRec runs, and a lora-no-kg run beside them."""
    settings, root = tiny_runs
    launch_training(settings, tiny_config(root, "rec-nokg", epochs=1, method="lora-no-kg"))
    return settings, root


def test_ranks_the_prepared_candidates_with_probabilities(runs):
    settings, root = runs
    sample = next(r for r in read_jsonl(settings.prepared_dir / "test.jsonl"))
    result = recommend(root / "kragrec-run", settings, RecommendRequest(sample["user"], top=10))
    assert len(result.ranked) == 10 and result.target == sample["target"]
    probabilities = [entry["probability"] for entry in result.ranked]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1 + 1e-6
    assert {entry["item"] for entry in result.ranked} <= set(sample["candidates"])
    assert sum(entry["is_target"] for entry in result.ranked) <= 1


def test_explain_shows_the_subgraphs_fed_to_a_kg_method_only(runs):
    settings, root = runs
    users = [r["user"] for r in read_jsonl(settings.prepared_dir / "test.jsonl")]
    views = [
        recommend(root / "kragrec-run", settings, RecommendRequest(u, top=3, explain=True)).evidence for u in users
    ]
    assert all(v is not None for v in views) and any(v["subgraphs"] for v in views)
    plain = recommend(root / "rec-nokg", settings, RecommendRequest(users[0], top=3, explain=True))
    assert plain.evidence is None and plain.fed == "none"


@pytest.mark.parametrize("retriever", [None, "sasrec-run"])
def test_all_items_candidates_are_items_the_user_never_rated(runs, retriever):
    settings, root = runs
    user = read_jsonl(settings.prepared_dir / "test.jsonl")[0]["user"]
    chosen = str(root / retriever) if retriever else None
    result = recommend(root / "kragrec-run", settings, RecommendRequest(user, 30, all_items=True, retriever=chosen))
    sequences = user_sequences(settings)
    seen = {sequences.item_of[i] for i in sequences.before["all"][user]}
    assert len(result.ranked) == settings.candidates and not {e["item"] for e in result.ranked} & seen
    assert result.target is None and not any(e["is_target"] for e in result.ranked)


def test_unknown_user_and_non_sasrec_retriever_are_refused(runs):
    settings, root = runs
    with pytest.raises(KragrecError, match="has no test sample"):
        recommend(root / "kragrec-run", settings, RecommendRequest("nobody", 5))
    with pytest.raises(KragrecError, match="a sasrec run is needed"):
        recommend(
            root / "kragrec-run", settings, RecommendRequest("1", 5, all_items=True, retriever=str(root / "rec-nokg"))
        )


def test_cli_prints_the_ranking_and_writes_the_html_view(runs, tmp_path):
    settings, root = runs
    user = read_jsonl(settings.prepared_dir / "test.jsonl")[0]["user"]
    page = tmp_path / "view.html"
    arguments = ["recommend", str(root / "kragrec-run"), "--user", user, "--top", "5", "--html", str(page)]
    result = CliRunner().invoke(app, [*arguments, "--data-dir", str(settings.data_dir), "--dataset", "tiny"])
    assert result.exit_code == 0, result.output
    assert f"user {user}: top 5" in result.stdout and "probability" in result.stdout
    assert page.read_text(encoding="utf-8").lstrip().lower().startswith("<")
