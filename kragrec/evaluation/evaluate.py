"""`kragrec eval`: score a run or a baseline on a split, write its outputs, and a popularity reference."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kragrec.baselines.untrained import UNTRAINED_BASELINES, score_baseline, train_popularity
from kragrec.config import Settings
from kragrec.data.records import Record, Scored, Titles, evaluation_records
from kragrec.data.registry import open_dataset
from kragrec.errors import KragrecError
from kragrec.evaluation.fusion import choose_share, fused
from kragrec.evaluation.hallucination import fictional_titles, inject_fictional
from kragrec.evaluation.outputs import evaluation_report, write_evaluation
from kragrec.evaluation.runs import open_run
from kragrec.evaluation.scoring import score_run, score_zero_shot
from kragrec.models.llm import DEFAULT_LLM
from kragrec.models.prompt import TITLE_ANSWER, AnswerFormat
from kragrec.retrieval.graph_view import item_text

FICTIONAL_POOL = 50  # made-up films the injected candidates are drawn from


@dataclass(frozen=True)
class EvaluationInput:
    """The samples to score, the titles of fictional candidates (none unless the hallucination test runs), and the
    train-split rating counts that popularity and the cold-start subset read."""

    split: str
    records: list[Record]
    fictional: int
    titles: dict[str, str]
    popularity: dict[str, int]

    @property
    def folder_name(self) -> str:
        """split, or split-fictionalN for the hallucination test."""
        return f"{self.split}-fictional{self.fictional}" if self.fictional else self.split


def evaluation_input(settings: Settings, split: str, fictional: int = 0, limit: int | None = None) -> EvaluationInput:
    """The split's prepared samples (a seeded subset of `limit`); with `fictional` > 0 that many negatives per
    sample become fictional films."""
    if split not in ("valid", "test"):
        raise KragrecError(f"--split {split!r}: use valid or test")
    records = evaluation_records(settings, split, limit)
    popularity = train_popularity(settings)
    if fictional <= 0:
        return EvaluationInput(split, records, 0, {}, popularity)
    items = open_dataset(settings, settings.dataset).items.values()
    titles = fictional_titles(FICTIONAL_POOL, {item_text(i.title, i.year) for i in items}, settings.seed)
    injected = inject_fictional(records, fictional, titles, settings.seed)
    return EvaluationInput(split, injected, fictional, titles, popularity)


def baseline_folder(settings: Settings, method: str, folder_name: str) -> Path:
    """Where a baseline's evaluation goes by default."""
    return settings.data_dir / "eval" / settings.dataset / method / folder_name


def _report(scored: Scored, name: str, data: EvaluationInput, settings: Settings) -> dict[str, Any]:
    return evaluation_report(scored, name, data.split, settings.seed, data.popularity)


def _popularity_reference(settings: Settings, data: EvaluationInput) -> dict[str, Any]:
    return _report(score_baseline("popularity", settings, data.records, data.popularity), "popularity", data, settings)


Scorer = Callable[[str, list[Record], Titles], Scored]  # scores a split's records (with fictional titles)


def _with_prior(
    score: Scorer, data: EvaluationInput, settings: Settings, prior_dir: Path | None, valid_limit: int | None
) -> tuple[Scored, dict[str, Any]]:
    """The model's scores of data; with a prior run, mixed with its scores at the share that ranks the seeded
    `valid_limit` validation samples best (see evaluation/fusion.py), and what was chosen."""
    scored = score(data.split, data.records, data.titles)
    if prior_dir is None:
        return scored, {}
    prior = open_run(prior_dir, settings)
    if prior.settings.dataset != settings.dataset or prior.settings.candidates != settings.candidates:
        raise KragrecError(f"--prior {prior_dir}: trained on other lists ({prior.settings.dataset})")
    valid = evaluation_records(settings, "valid", valid_limit)
    fusion = choose_share(score("valid", valid, {}), score_run(prior, "valid", valid, {}))
    prior_scored = score_run(prior, data.split, data.records, data.titles)
    chosen = {
        "run": str(prior_dir),
        "method": prior.method,
        "share": fusion.share,
        "valid_samples": len(valid),
        "valid_acc_by_share": {str(share): metrics["acc"] for share, metrics in fusion.valid.items()},
    }
    return fused(scored, prior_scored, fusion.share), {"prior": chosen}


def evaluate_run(
    run_dir: Path,
    connection: Settings,
    split: str,
    checkpoint: str,
    out: Path | None,
    fictional: int = 0,
    limit: int | None = None,
    prior: Path | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Score the run's checkpoint on the split (mixed with a prior run's scores when given, the share chosen on the
    run's own validation samples); returns its report and the popularity reference."""
    run = open_run(run_dir, connection)
    data = evaluation_input(run.settings, split, fictional, limit)
    valid_limit = getattr(run.config, "max_valid", None)
    scored, chosen = _with_prior(
        lambda name, records, titles: score_run(run, name, records, titles, checkpoint),
        data,
        run.settings,
        prior,
        valid_limit,
    )
    report = {
        **_report(scored, f"{run.method} ({run_dir.name})", data, run.settings),
        "checkpoint": checkpoint,
        **chosen,
    }
    write_evaluation(out or run_dir / "eval" / data.folder_name, scored, report)
    return report, _popularity_reference(run.settings, data)


def evaluate_baseline(
    method: str,
    settings: Settings,
    split: str,
    out: Path | None,
    llm: str = DEFAULT_LLM,
    fictional: int = 0,
    limit: int | None = None,
    answer_format: AnswerFormat = TITLE_ANSWER,
    prior: Path | None = None,
    valid_limit: int | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Score a baseline that needs no training (llm-zero-shot answers as `answer_format` says), mixed with a prior
    run's scores when given (the share chosen on `valid_limit` seeded validation samples); the popularity reference
    is left out for popularity itself."""
    if method not in (*UNTRAINED_BASELINES, "llm-zero-shot"):
        names = ", ".join([*UNTRAINED_BASELINES, "llm-zero-shot"])
        raise KragrecError(f"--method {method!r}: baselines without training are {names}")
    data = evaluation_input(settings, split, fictional, limit)

    def score(_: str, records: list[Record], titles: Titles) -> Scored:
        if method == "llm-zero-shot":
            return score_zero_shot(settings, llm, records, titles, answer_format)
        return score_baseline(method, settings, records, data.popularity)

    scored, chosen = _with_prior(score, data, settings, prior, valid_limit)
    report = {**_report(scored, method, data, settings), **chosen}
    write_evaluation(out or baseline_folder(settings, method, data.folder_name), scored, report)
    return report, None if method == "popularity" else _popularity_reference(settings, data)
