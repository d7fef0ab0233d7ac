"""`kragrec eval`: score a run or a baseline on a split, write its outputs, and a popularity reference."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kragrec.config import Settings
from kragrec.data.popularity import train_popularity
from kragrec.data.records import Scored, evaluation_records
from kragrec.data.registry import open_dataset
from kragrec.data.sample import Record
from kragrec.errors import KragrecError
from kragrec.evaluation.fusion import choose_share, fused
from kragrec.evaluation.hallucination import fictional_titles, inject_fictional
from kragrec.evaluation.outputs import evaluation_report, write_evaluation
from kragrec.models.choices import DEFAULT_LLM, TITLE_ANSWER, AnswerFormat
from kragrec.recommenders.contract import Recommender
from kragrec.recommenders.registry import REFERENCE, UntrainedOptions, open_run, trained, untrained
from kragrec.recommenders.untrained import PopularityRecommender
from kragrec.retrieval.graph_view import item_text
from kragrec.training.run_folder import RunFolder

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


def _reference(settings: Settings, data: EvaluationInput, recommender: Recommender) -> dict[str, Any] | None:
    """The reference baseline's report on the same samples; None when it is the recommender evaluated."""
    if recommender.name == REFERENCE:
        return None
    baseline = PopularityRecommender(settings, data.popularity)  # the counts evaluation_input read already
    return _report(baseline.score(data.split, data.records, data.titles), baseline.name, data, settings)


def _with_prior(
    recommender: Recommender,
    data: EvaluationInput,
    settings: Settings,
    prior_dir: Path | None,
    valid_limit: int | None,
    share: float | None,
) -> tuple[Scored, dict[str, Any]]:
    """The recommender's scores of data; with a prior run, mixed with its scores at `share`, or when none is given at
    the share that ranks the seeded `valid_limit` validation samples best (see evaluation/fusion.py), and what was
    chosen."""
    scored = recommender.score(data.split, data.records, data.titles)
    if prior_dir is None:
        return scored, {}
    prior_run = open_run(prior_dir, settings)
    if prior_run.settings.dataset != settings.dataset or prior_run.settings.candidates != settings.candidates:
        raise KragrecError(f"--prior {prior_dir}: trained on other lists ({prior_run.settings.dataset})")
    prior = trained(prior_run)
    chosen = {"run": str(prior_dir), "method": prior_run.method, "share": share}
    if share is None:
        valid = evaluation_records(settings, "valid", valid_limit)
        fusion = choose_share(recommender.score("valid", valid, {}), prior.score("valid", valid, {}))
        chosen |= {
            "share": fusion.share,
            "valid_samples": len(valid),
            "valid_acc_by_share": {str(tried): metrics["acc"] for tried, metrics in fusion.valid.items()},
        }
    prior_scored = prior.score(data.split, data.records, data.titles)
    return fused(scored, prior_scored, chosen["share"]), {"prior": chosen}


def _evaluate(
    recommender: Recommender,
    settings: Settings,
    data: EvaluationInput,
    out: Path,
    prior: Path | None,
    valid_limit: int | None,
    recorded: dict[str, Any],
    share: float | None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Score, mix in the prior when given, write predictions and metrics; the report and the reference's."""
    scored, chosen = _with_prior(recommender, data, settings, prior, valid_limit, share)
    report = {**_report(scored, recommender.name, data, settings), **recorded, **chosen}
    write_evaluation(out, scored, report)
    return report, _reference(settings, data, recommender)


def evaluate_run(
    run_dir: Path,
    connection: Settings,
    split: str,
    checkpoint: str,
    out: Path | None,
    fictional: int = 0,
    limit: int | None = None,
    prior: Path | None = None,
    share: float | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Score the run's checkpoint on the split (mixed with a prior run's scores when given, at `share` or else at the
    share chosen on the run's own validation samples); returns its report and the popularity reference."""
    run = open_run(run_dir, connection)
    recommender = trained(run, checkpoint)
    data = evaluation_input(run.settings, split, fictional, limit)
    valid_limit = getattr(run.config, "max_valid", None)
    out = out or RunFolder(run_dir).evaluation(data.folder_name)
    return _evaluate(recommender, run.settings, data, out, prior, valid_limit, {"checkpoint": checkpoint}, share)


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
    share: float | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Score a baseline that needs no training (llm-zero-shot answers as `answer_format` says), mixed with a prior
    run's scores when given (at `share`, or else at the share chosen on `valid_limit` seeded validation samples); the
    popularity reference is left out for popularity itself."""
    recommender = untrained(method, settings, UntrainedOptions(llm, answer_format))
    data = evaluation_input(settings, split, fictional, limit)
    out = out or baseline_folder(settings, method, data.folder_name)
    return _evaluate(recommender, settings, data, out, prior, valid_limit, {}, share)
