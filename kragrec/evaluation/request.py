"""What `kragrec eval` is asked to do, checked as a whole before anything is read, and carried out."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kragrec.config import Settings
from kragrec.errors import KragrecError
from kragrec.evaluation.evaluate import evaluate_baseline, evaluate_run
from kragrec.evaluation.full_ranking import evaluate_full_ranking
from kragrec.models.choices import DEFAULT_LLM, TITLE_ANSWER, AnswerFormat

CHECKPOINTS = ("best", "last")
PRIOR_VALID = 200  # validation samples that choose an untrained method's prior share, unless --prior-valid


@dataclass(frozen=True)
class UntrainedChoices:
    """The options only an untrained method reads (None: not given)."""

    llm: str | None = None
    answer: str | None = None
    title_options: str | None = None
    title_prompt: str | None = None
    prior_valid: int | None = None

    def given(self) -> list[str]:
        """The flags that were given."""
        return [f"--{name.replace('_', '-')}" for name, value in vars(self).items() if value is not None]

    @property
    def answer_format(self) -> AnswerFormat:
        """How llm-zero-shot answers: the defaults, overridden by what was given."""
        given = {"answer": self.answer, "title_options": self.title_options, "title_prompt": self.title_prompt}
        return replace(TITLE_ANSWER, **{name: value for name, value in given.items() if value is not None})


@dataclass(frozen=True)
class EvaluationRequest:
    """A run folder or an untrained method, scored on a split's prepared lists (or, with `full_ranking`, on a
    sasrec run's top-M of all items); contradicting or inapplicable options are refused in one line."""

    run_dir: Path | None = None
    method: str | None = None
    split: str = "test"
    checkpoint: str | None = None
    out: Path | None = None
    fictional: int = 0
    max_samples: int | None = None
    full_ranking: Path | None = None
    prior: Path | None = None
    untrained: UntrainedChoices = UntrainedChoices()

    def __post_init__(self) -> None:
        if (self.run_dir is None) == (self.method is None):
            raise KragrecError("give either a run folder or --method NAME (random, popularity, llm-zero-shot)")
        if self.checkpoint is not None and self.checkpoint not in CHECKPOINTS:
            raise KragrecError(f"--checkpoint {self.checkpoint!r}: use best or last")
        if self.run_dir is None and self.checkpoint is not None:
            raise KragrecError("--checkpoint picks a run's checkpoint: give the run folder")
        if self.run_dir is not None and self.untrained.given():
            raise KragrecError(f"{', '.join(self.untrained.given())}: only with --method (a run keeps its own)")
        if self.full_ranking is not None:
            if self.run_dir is None:
                raise KragrecError("--full-ranking re-ranks with a run: give its folder")
            unused = [flag for flag, used in (("--fictional", self.fictional), ("--prior", self.prior)) if used]
            if unused:
                raise KragrecError(f"{', '.join(unused)}: not with --full-ranking (it scores the retrieved lists)")


@dataclass(frozen=True)
class EvaluationResult:
    """A report of the prepared lists with its popularity reference, or a full-ranking report."""

    report: dict[str, Any]
    reference: dict[str, Any] | None
    full_ranking: bool


def run_evaluation(request: EvaluationRequest, settings: Settings) -> EvaluationResult:
    """Carry out the request."""
    if request.run_dir is not None and request.full_ranking is not None:
        report = evaluate_full_ranking(
            request.run_dir,
            request.full_ranking,
            settings,
            request.split,
            request.out,
            request.max_samples,
            request.checkpoint or "best",
        )
        return EvaluationResult(report, None, full_ranking=True)
    if request.run_dir is not None:
        report, reference = evaluate_run(
            request.run_dir,
            settings,
            request.split,
            request.checkpoint or "best",
            request.out,
            request.fictional,
            request.max_samples,
            request.prior,
        )
        return EvaluationResult(report, reference, full_ranking=False)
    choices = request.untrained
    report, reference = evaluate_baseline(
        str(request.method),
        settings,
        request.split,
        request.out,
        choices.llm or DEFAULT_LLM,
        request.fictional,
        request.max_samples,
        choices.answer_format,
        request.prior,
        choices.prior_valid if choices.prior_valid is not None else PRIOR_VALID,
    )
    return EvaluationResult(report, reference, full_ranking=False)
