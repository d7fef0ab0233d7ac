"""The training-loop skeleton every trainer shares (the LLM trainer and SASRec): where a run stands, validation
with early stopping on the selection key, the best and last checkpoints (the last with what an exact resume needs),
the metrics log and the run's clock. A trainer supplies its steps and its `Checkpointed` parts."""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from kragrec.errors import KragrecError
from kragrec.files import replace_dir_atomically
from kragrec.models.tensor_files import read_torch_file
from kragrec.training.run_folder import MetricsLog, RunFolder, TrainingClock, selection_key

STATE_FILE = "training_state.pt"


@dataclass
class Progress:
    """Where training stands; saved with every last checkpoint."""

    epoch: int = 0
    batches_in_epoch: int = 0
    step: int = 0
    best_acc: float = -1.0
    best_mrr: float = -1.0  # breaks ACC ties (selection_key)
    bad_evaluations: int = 0
    stopped_early: bool = False
    seconds: float = 0.0  # training wall time so far, validations included, summed over resumed sessions


class Checkpointed(Protocol):
    """A trainer's parts as its checkpoints hold them: the trained weights, and the rest of the training state
    (optimizer, scheduler, sample-order generator) an exact resume restores."""

    def save_weights(self, folder: Path) -> None:
        """Write the trained weights into folder."""

    def load_weights(self, folder: Path) -> None:
        """Restore what save_weights wrote."""

    def state(self) -> dict[str, Any]:
        """The training state beside the weights, as picklable values."""

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore what state returned."""


def rng_state() -> dict[str, Any]:
    """The global random generators' states (torch, CUDA where present, NumPy, Python)."""
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():  # dropout on a GPU draws from the GPUs' generators
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what rng_state returned."""
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])


class TrainingLoop:
    """What surrounds a trainer's steps. Only the writer (rank 0 under DDP) writes the log and checkpoints; every
    rank keeps the progress and the clock. Use as a context manager around the steps: it opens the log there."""

    def __init__(self, folder: RunFolder, parts: Checkpointed, patience: int, writer: bool = True) -> None:
        self.folder, self.parts, self.patience, self.writer = folder, parts, patience, writer
        self.progress = Progress()
        self.clock = TrainingClock()
        self.metrics_log: MetricsLog | None = None

    def resume(self) -> None:
        """Continue from the last checkpoint, if the run has one: weights, training state, random state, progress."""
        last = self.folder.checkpoint("last")
        if not last.is_dir():
            return
        self.parts.load_weights(last)
        state = read_torch_file(last / STATE_FILE, weights_only=False)
        try:
            progress = Progress(**state["progress"])
        except TypeError as error:
            raise KragrecError(f"{last}: a checkpoint from an older kragrec; train again without --resume") from error
        self.parts.load_state(state)
        set_rng_state(state["rng"])
        self.progress = progress

    def __enter__(self) -> TrainingLoop:
        self.clock = TrainingClock(self.progress.seconds)
        if self.writer:
            self.metrics_log = self.folder.open_log(self.progress.step)
        return self

    def __exit__(self, *_: object) -> None:
        if self.metrics_log is not None:
            self.metrics_log.close()

    def tick(self) -> float:
        """The run's training time so far, kept in the progress that checkpoints save."""
        self.progress.seconds = self.clock.tick()
        return self.progress.seconds

    def log(self, record: dict[str, Any]) -> None:
        """Append one line for the current step: its step, epoch, the record and the training time so far."""
        line = {"step": self.progress.step, "epoch": self.progress.epoch, **record, "seconds": self.tick()}
        if self.metrics_log is not None:
            self.metrics_log.write(line)

    def validated(self, metrics: dict[str, float]) -> None:
        """Record a validation: keep the weights as best when they beat every earlier validation, count it
        against the patience otherwise (early stop once it runs out), log it."""
        progress = self.progress
        if selection_key(metrics) > (progress.best_acc, progress.best_mrr):
            progress.best_acc, progress.best_mrr = selection_key(metrics)
            progress.bad_evaluations = 0
            with replace_dir_atomically(self.folder.checkpoint("best")) as staging:
                self.parts.save_weights(staging)
        else:
            progress.bad_evaluations += 1
        progress.stopped_early = progress.bad_evaluations >= self.patience
        self.log({"valid": metrics})

    def save_last(self) -> None:
        """Write the last checkpoint: the weights, the training state, the random state and the progress."""
        with replace_dir_atomically(self.folder.checkpoint("last")) as staging:
            self.parts.save_weights(staging)
            state = {**self.parts.state(), "rng": rng_state(), "progress": dataclasses.asdict(self.progress)}
            torch.save(state, staging / STATE_FILE)
