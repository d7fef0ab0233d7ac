"""`kragrec recommend`: rank a user's candidates with a trained run, optionally with the KG evidence it was fed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kragrec.baselines.sasrec_training import user_sequences
from kragrec.config import Settings
from kragrec.data.popularity import train_popularity
from kragrec.data.records import user_record
from kragrec.data.sample import Record
from kragrec.errors import KragrecError
from kragrec.recommenders.contract import CandidateSource
from kragrec.recommenders.registry import candidate_source, open_run, trained
from kragrec.retrieval.explain import evidence
from kragrec.retrieval.session import open_retriever


@dataclass(frozen=True)
class Recommendation:
    """A user's ranked candidates (probability among them), the history used, and the evidence when asked:
    the retrieved sub-graphs (graph, text) or the relation paths the model chose (paths)."""

    user: str
    target: str | None
    history: list[str]
    ranked: list[dict[str, Any]]
    evidence: dict[str, Any] | None
    fed: str  # what the method is given besides the prompt: graph, text, paths, none (or sequence for SASRec)
    paths: list[str] | None = None


def candidates_from_all_items(settings: Settings, user: str, count: int, source: CandidateSource | None) -> Record:
    """The user's latest history over every split, and `count` unseen items from `source` (or popularity)."""
    sequences = user_sequences(settings)
    if user not in sequences.before["all"]:
        raise KragrecError(f"user {user!r} has no ratings in dataset {settings.dataset!r}")
    seen = [sequences.item_of[i] for i in sequences.before["all"][user]]
    if source is not None:
        candidates = source.top_unseen_before([user], "all", count)[0]
    else:
        counts = train_popularity(settings)
        unseen = sorted(set(counts) - set(seen), key=lambda item: (-counts[item], item))
        candidates = unseen[:count]
    return Record(user, seen[-settings.history :], "", candidates)


def recommend(
    run_dir: Path,
    connection: Settings,
    user: str,
    top: int,
    explain: bool,
    all_items: bool = False,
    retriever_dir: Path | None = None,
    split: str = "test",
) -> Recommendation:
    """Rank the prepared candidates of the user's split sample, or with all_items a retriever's top-M unseen items."""
    run = open_run(run_dir, connection)
    recommender = trained(run)
    settings = run.settings
    if all_items:
        source = None
        if retriever_dir is not None:
            source = candidate_source(open_run(retriever_dir, connection), "--retriever", "retrieve from all items")
        record = candidates_from_all_items(settings, user, settings.candidates, source)
        split = "all"
    else:
        record = user_record(settings, user, split)
    with open_retriever(settings) as retriever:
        scores = recommender.score(split, [record], {}, retriever)
        probabilities = np.exp(scores.scores[0] - scores.scores[0].max())
        probabilities /= probabilities.sum()
        order = np.argsort(-probabilities, kind="stable")[:top]
        items = retriever.graph.items
        ranked = [
            {
                "item": record.candidates[n],
                "title": items[record.candidates[n]].text,
                "probability": float(probabilities[n]),
                "is_target": record.candidates[n] == record.target,
            }
            for n in order
        ]
        fed = recommender.fed
        view = None
        if explain and fed in ("graph", "text"):
            view = evidence(retriever, record, retriever.retrieve(record.history))
        history = [items[i].text for i in record.history]
    paths = scores.evidence[0] if explain and fed == "paths" else None
    return Recommendation(user, record.target or None, history, ranked, view, fed, paths)
