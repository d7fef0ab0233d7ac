"""Reopen a training run: its recorded settings and config, and its model with a saved checkpoint."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from kragrec.baselines.sasrec import SasrecConfig
from kragrec.config import Settings
from kragrec.errors import KragrecError
from kragrec.models.checkpoint import TrainedParts, apply_trained_parts
from kragrec.models.graph_llm import GraphLLM
from kragrec.retrieval.subgraph import GraphFeatures
from kragrec.training.config import TrainConfig
from kragrec.training.trainer import build_model

# Settings that define what a run learned from; connection settings (data folder, stores, secrets) stay the caller's.
RUN_DEFINING = (
    "dataset",
    "seed",
    "history",
    "candidates",
    "min_rating",
    "encoder",
    "indexer",
    "hops",
    "hub_cap",
    "policy",
    "pop_threshold",
    "top_k",
    "top_n",
    "fanout",
    "rerank",
    "path_hops",
    "path_hub_cap",
)


def defining_settings(recorded: dict) -> dict:
    """The defining settings of a recorded run or plan; one recorded before a setting existed ran with its default."""
    defaults = {f.name: f.default for f in dataclasses.fields(Settings)}
    return {name: recorded.get(name, defaults[name]) for name in RUN_DEFINING}


@dataclasses.dataclass(frozen=True)
class TrainedRun:
    """A run folder with the settings and config it was trained with."""

    folder: Path
    settings: Settings
    config: TrainConfig | SasrecConfig

    @property
    def method(self) -> str:
        """The trained method's name."""
        return "sasrec" if isinstance(self.config, SasrecConfig) else self.config.method

    def checkpoint(self, which: str = "best") -> Path:
        """The folder of the best (or last) checkpoint; a one-line error when the run has none."""
        folder = self.folder / "checkpoints" / which
        if not folder.is_dir():
            raise KragrecError(f"{self.folder}: no {which} checkpoint (has the run validated yet?)")
        return folder


def open_run(folder: Path, connection: Settings) -> TrainedRun:
    """Read RUN/config.json; the run's defining settings override `connection`'s."""
    recorded_path = folder / "config.json"
    if not recorded_path.is_file():
        raise KragrecError(f"{folder}: not a training run (no config.json)")
    try:
        recorded = json.loads(recorded_path.read_text(encoding="utf-8"))
        settings = dataclasses.replace(connection, **defining_settings(recorded["settings"]))
        train = dict(recorded["train"])
        if train.pop("method") == "sasrec":
            del train["run_dir"]
            config: TrainConfig | SasrecConfig = SasrecConfig(**train)
        else:
            before_completion = {"title_prompt": "chat"}  # runs recorded before --title-prompt answered in the chat
            config = TrainConfig(
                **{**before_completion, **recorded["train"], "run_dir": folder, "betas": tuple(train["betas"])}
            )
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise KragrecError(f"{recorded_path}: not a kragrec run config ({error})") from None
    return TrainedRun(folder, settings, config)


def trained_model(run: TrainedRun, features: GraphFeatures, parts: TrainedParts) -> GraphLLM:
    """The run's model with a checkpoint's trained parts (read_trained_parts) loaded, in eval mode."""
    assert isinstance(run.config, TrainConfig)
    model = build_model(run.settings, dataclasses.replace(run.config, shard=False), features)
    apply_trained_parts(model, parts)
    return model.eval()
