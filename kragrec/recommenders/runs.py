"""A training run folder: the settings that define what it learned, its config and method, its checkpoints."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from kragrec.config import Settings
from kragrec.errors import KragrecError
from kragrec.training.run_folder import RunFolder

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
    """A run folder with the settings, method and config it was trained with."""

    folder: Path
    settings: Settings
    method: str  # its name in the registry
    config: Any  # the method's own run config (TrainConfig, SasrecConfig, ...)

    def checkpoint(self, which: str = "best") -> Path:
        """The folder of the best (or last) checkpoint; a one-line error when the run has none."""
        folder = RunFolder(self.folder).checkpoint(which)
        if not folder.is_dir():
            raise KragrecError(f"{self.folder}: no {which} checkpoint (has the run validated yet?)")
        return folder
