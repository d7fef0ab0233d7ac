"""The registry is the one place methods are named: a method added there is trained, evaluated and refused as such."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from kragrec.config import Settings
from kragrec.data.popularity import popularity_scores, train_popularity
from kragrec.data.records import Scored
from kragrec.data.sample import Record, Titles
from kragrec.errors import KragrecError
from kragrec.evaluation.evaluate import evaluate_baseline
from kragrec.files import read_jsonl
from kragrec.recommenders import registry
from kragrec.recommenders.contract import Recommender
from kragrec.retrieval.retriever import Retriever


@dataclass(frozen=True)
class LeastPopular:
    """A method written for this test: the least-rated candidates first."""

    settings: Settings
    name: str = field(default="least-popular", init=False)
    fed: str = field(default="none", init=False)

    def score(self, split: str, records: list[Record], titles: Titles, retriever: Retriever | None = None) -> Scored:
        return Scored(records, -popularity_scores(records, train_popularity(self.settings)), [[] for _ in records])


def test_a_method_added_to_the_registry_is_evaluated_without_other_changes(tiny_setup, tmp_path, monkeypatch):
    settings, _ = tiny_setup
    added = registry.Method("least-popular", build=lambda s, _: LeastPopular(s))
    monkeypatch.setitem(registry.METHODS, "least-popular", added)
    assert isinstance(registry.untrained("least-popular", settings), Recommender)
    report, reference = evaluate_baseline("least-popular", settings, "test", tmp_path / "least")
    popularity, _ = evaluate_baseline("popularity", settings, "test", tmp_path / "popular")
    assert report["method"] == "least-popular" and report["samples"] == popularity["samples"]
    assert reference is not None and reference["metrics"] == popularity["metrics"]
    least = [row["scores"] for row in read_jsonl(tmp_path / "least" / "predictions.jsonl")]
    popular = [row["scores"] for row in read_jsonl(tmp_path / "popular" / "predictions.jsonl")]
    assert least == [[-score for score in row] for row in popular]  # its own scores, on the same lists
    with pytest.raises(KragrecError, match="needs no training"):
        registry.train(settings, tmp_path / "run", {"method": "least-popular"})


def test_every_method_is_built_or_trained_and_unknown_names_are_one_line_errors(tiny_setup):
    settings, _ = tiny_setup
    assert all((m.build is None) != (m.trainer is None) for m in registry.METHODS.values())
    assert {"random", "popularity", "llm-zero-shot", "sasrec", "k-ragrec-lora", "lkg-rag"} <= set(registry.METHODS)
    with pytest.raises(KragrecError, match="methods are random, popularity, llm-zero-shot, sasrec, k-ragrec"):
        registry.method("bogus")
    with pytest.raises(KragrecError, match="needs a training run"):
        registry.untrained("sasrec", settings)
    scores = registry.untrained("random", settings).score("test", [Record("1", [], "a", ["a", "b"])], {})
    assert scores.scores.shape == (1, settings.candidates) and np.isfinite(scores.scores).all()
