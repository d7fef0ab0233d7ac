"""Every method by name: how it is built (no training) or trained, and how a trained run folder reopens."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kragrec.config import Settings
from kragrec.errors import KragrecError
from kragrec.models.choices import DEFAULT_LLM, TITLE_ANSWER, AnswerFormat
from kragrec.recommenders.contract import CandidateSource, Recommender, Trainer
from kragrec.recommenders.llm import LLMTrainer, ZeroShotLLM
from kragrec.recommenders.runs import TrainedRun, defining_settings
from kragrec.recommenders.sasrec import SasrecTrainer
from kragrec.recommenders.untrained import PopularityRecommender, RandomRecommender
from kragrec.training.config import METHODS as LLM_METHODS
from kragrec.training.config import TrainConfig
from kragrec.training.run_folder import RunFolder


@dataclass(frozen=True)
class UntrainedOptions:
    """What a method without training may be given: the LLM and its answer format (llm-zero-shot)."""

    llm: str = DEFAULT_LLM
    answer_format: AnswerFormat = TITLE_ANSWER


@dataclass(frozen=True)
class Method:
    """A registry entry: built from settings (no training) or trained by its Trainer."""

    name: str
    build: Callable[[Settings, UntrainedOptions], Recommender] | None = None
    trainer: Trainer | None = None

    @property
    def trains(self) -> bool:
        """Whether the method needs a training run."""
        return self.trainer is not None


LLM_TRAINER = LLMTrainer()
METHODS = {
    method.name: method
    for method in (
        Method("random", build=lambda settings, _: RandomRecommender(settings)),
        Method("popularity", build=lambda settings, _: PopularityRecommender(settings)),
        Method("llm-zero-shot", build=lambda s, options: ZeroShotLLM(s, options.llm, options.answer_format)),
        Method("sasrec", trainer=SasrecTrainer()),
        *(Method(name, trainer=LLM_TRAINER) for name in LLM_METHODS),  # the LLM variants of training/config.py
    )
}
REFERENCE = "popularity"  # the baseline every evaluation reports beside its own metrics


def method(name: str) -> Method:
    """The registry entry; a one-line error naming every method for an unknown name."""
    if name not in METHODS:
        raise KragrecError(f"--method {name!r}: methods are {', '.join(METHODS)}")
    return METHODS[name]


def untrained(name: str, settings: Settings, options: UntrainedOptions | None = None) -> Recommender:
    """A method that needs no training, built from settings."""
    entry = method(name)
    if entry.build is None:
        untrained_names = ", ".join(n for n, m in METHODS.items() if m.build is not None)
        raise KragrecError(f"--method {name!r} needs a training run: baselines without training are {untrained_names}")
    return entry.build(settings, options or UntrainedOptions())


def train(settings: Settings, run_dir: Path, options: dict[str, Any], resume: bool = False) -> dict[str, Any]:
    """Train (or resume) a run of `options["method"]` in run_dir; its summary."""
    name = options.get("method", TrainConfig.method)
    trainer = _trainer(name)
    return trainer.train(settings, run_dir, trainer.config(run_dir, {**options, "method": name}), resume)


def open_run(folder: Path, connection: Settings) -> TrainedRun:
    """Read RUN/config.json; the run's defining settings override `connection`'s."""
    recorded_path = RunFolder(folder).config_file
    if not recorded_path.is_file():
        raise KragrecError(f"{folder}: not a training run (no config.json)")
    try:
        recorded = json.loads(recorded_path.read_text(encoding="utf-8"))
        settings = dataclasses.replace(connection, **defining_settings(recorded["settings"]))
        name = recorded["train"]["method"]
        config = _trainer(name).recorded(folder, dict(recorded["train"]))
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise KragrecError(f"{recorded_path}: not a kragrec run config ({error})") from None
    return TrainedRun(folder, settings, name, config)


def trained(run: TrainedRun, which: str = "best") -> Recommender:
    """A run's best (or last) checkpoint as a Recommender."""
    return _trainer(run.method).open(run, which)


def candidate_source(run: TrainedRun, option: str, purpose: str) -> CandidateSource:
    """The run as a ranker of all unseen items; a one-line error naming `option` when its method cannot."""
    recommender = trained(run)
    if not isinstance(recommender, CandidateSource):
        able = " or ".join(n for n, m in METHODS.items() if m.trainer is not None and m.trainer.ranks_all_items)
        raise KragrecError(f"{option} {run.folder}: a {able} run is needed to {purpose}")
    return recommender


def _trainer(name: str) -> Trainer:
    entry = method(name)
    if entry.trainer is None:
        raise KragrecError(f"--method {name!r} needs no training: score it with kragrec eval --method {name}")
    return entry.trainer
