"""`kragrec recommend`: rank a user's candidates with a trained run, optionally with the KG evidence it was fed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kragrec.baselines.sasrec_training import user_sequences
from kragrec.config import Settings
from kragrec.data.popularity import train_popularity
from kragrec.data.records import user_record
from kragrec.data.sample import Record
from kragrec.errors import KragrecError
from kragrec.recommendation import Recommendation, RecommendRequest
from kragrec.recommenders.contract import CandidateSource, Recommender
from kragrec.recommenders.llm import kept_resident
from kragrec.recommenders.registry import candidate_source, open_run, trained
from kragrec.recommenders.runs import TrainedRun
from kragrec.retrieval.explain import evidence
from kragrec.retrieval.retriever import Retriever
from kragrec.retrieval.session import open_retriever


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


@dataclass
class RecommendSession:
    """A trained run opened for ranking: its recommender and an open retriever, reused across users."""

    run: TrainedRun
    recommender: Recommender
    retriever: Retriever
    connection: Settings


@contextmanager
def open_recommend_session(run_dir: Path, connection: Settings, resident: bool = False) -> Iterator[RecommendSession]:
    """Open a run and its retriever; `resident` keeps an LLM run's model between calls (kragrec serve)."""
    run = open_run(run_dir, connection)
    recommender = trained(run)
    if resident:
        recommender = kept_resident(recommender)
    with open_retriever(run.settings) as retriever:
        yield RecommendSession(run, recommender, retriever, connection)


def recommend_in(session: RecommendSession, request: RecommendRequest) -> Recommendation:
    """Rank the prepared candidates of the user's split sample, or with all_items a retriever's top-M unseen items
    (a sasrec run, else popularity)."""
    settings, user, split = session.run.settings, request.user, request.split
    if request.all_items:
        source = None
        if request.retriever is not None:
            opened = open_run(Path(request.retriever), session.connection)
            source = candidate_source(opened, "--retriever", "retrieve from all items")
        record = candidates_from_all_items(settings, user, settings.candidates, source)
        split = "all"
    else:
        record = user_record(settings, user, split)
    retriever, recommender = session.retriever, session.recommender
    scores = recommender.score(split, [record], {}, retriever)
    probabilities = np.exp(scores.scores[0] - scores.scores[0].max())
    probabilities /= probabilities.sum()
    order = np.argsort(-probabilities, kind="stable")[: request.top]
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
    if request.explain and fed in ("graph", "text"):
        view = evidence(retriever, record, retriever.retrieve(record.history))
    history = [items[i].text for i in record.history]
    paths = scores.evidence[0] if request.explain and fed == "paths" else None
    return Recommendation(user, record.target or None, history, ranked, view, fed, paths)


def recommend(run_dir: Path, connection: Settings, request: RecommendRequest) -> Recommendation:
    """One ranking in a session of its own (recommend_in says what is ranked)."""
    with open_recommend_session(run_dir, connection) as session:
        return recommend_in(session, request)
