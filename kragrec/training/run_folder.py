"""A training run's folder, the one owner of its layout, and what every training loop shares: its metrics log,
its clock, how validations are compared and how a run is summarised."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from kragrec.config import Settings, settings_record
from kragrec.files import json_line, write_json

OUTPUTS = ("metrics.jsonl", "checkpoints", "ranks.json", "summary.json", "eval")


@dataclass(frozen=True)
class RunFolder:
    """config.json (settings without secrets, and the method's config), metrics.jsonl (one line per step and per
    validation), checkpoints/best and checkpoints/last, summary.json, ranks.json (DDP), eval/ (kragrec eval)."""

    path: Path

    @property
    def config_file(self) -> Path:
        """The recorded settings and run config."""
        return self.path / "config.json"

    @property
    def metrics_file(self) -> Path:
        """The training log."""
        return self.path / "metrics.jsonl"

    @property
    def ranks_file(self) -> Path:
        """Whether every DDP rank ended with the same weights."""
        return self.path / "ranks.json"

    def checkpoint(self, which: str) -> Path:
        """checkpoints/best or checkpoints/last."""
        return self.path / "checkpoints" / which

    def evaluation(self, name: str) -> Path:
        """Where `kragrec eval` writes one evaluation by default."""
        return self.path / "eval" / name

    def start(self, settings: Settings, train: dict[str, Any], resume: bool) -> None:
        """Create the folder; unless resuming, remove what an earlier run wrote there (nothing else); write
        config.json (the settings without their secrets)."""
        self.path.mkdir(parents=True, exist_ok=True)
        if not resume:
            for name in OUTPUTS:
                path = self.path / name
                shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        write_json(self.config_file, {"settings": settings_record(settings), "train": train})

    def open_log(self, resumed_step: int) -> MetricsLog:
        """The metrics log for appending, without the lines logged after the step a resume starts from (they are
        trained again)."""
        if self.metrics_file.is_file():
            lines = self.metrics_file.read_text(encoding="utf-8").splitlines()
            kept = [line for line in lines if json.loads(line)["step"] <= resumed_step]
            self.metrics_file.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
        return MetricsLog(self.metrics_file.open("a", encoding="utf-8"))

    def summarise(self, references: dict[str, dict[str, float]], valid_samples: int) -> dict[str, Any]:
        """The best validation metrics of the run, next to reference rankings of the same validation samples, and
        the training wall time summed over every session that trained it; written to summary.json."""
        lines = [json.loads(line) for line in self.metrics_file.read_text().splitlines()]
        evaluations = [r for r in lines if "valid" in r]
        best = max(evaluations, key=lambda r: selection_key(r["valid"]), default=None)
        summary = {
            "run_dir": str(self.path),
            "train_seconds": max((r["seconds"] for r in lines if "seconds" in r), default=0.0),
            "evaluations": len(evaluations),
            "valid_samples": valid_samples,
            "best": best,
            "references": references,
        }
        write_json(self.path / "summary.json", summary)
        return summary


class MetricsLog:
    """metrics.jsonl open for appending: one flushed JSON line per record."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, record: dict[str, Any]) -> None:
        """Append one record and flush it to disk."""
        self.stream.write(json_line(record) + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Close the file."""
        self.stream.close()

    def __enter__(self) -> MetricsLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class TrainingClock:
    """A run's training wall time: goes on from the total a resumed checkpoint recorded."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds, self._last = seconds, time.perf_counter()

    def tick(self) -> float:
        """Add the time since the previous tick (or the start) to the total; return the total."""
        now = time.perf_counter()
        self.seconds, self._last = self.seconds + now - self._last, now
        return self.seconds


def selection_key(metrics: dict[str, float]) -> tuple[float, float]:
    """How validations are compared to pick a run's best checkpoint: ACC, ties broken by MRR."""
    return metrics["acc"], metrics["mrr"]
