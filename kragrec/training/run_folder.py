"""A run folder: started fresh (stale outputs removed) or resumed, with its resolved config recorded."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from kragrec.config import Settings, settings_record
from kragrec.files import write_json

OUTPUTS = ("metrics.jsonl", "checkpoints", "ranks.json", "summary.json", "eval")


class TrainingClock:
    """A run's training wall time: goes on from the total a resumed checkpoint recorded."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds, self._last = seconds, time.perf_counter()

    def tick(self) -> float:
        """Add the time since the previous tick (or the start) to the total; return the total."""
        now = time.perf_counter()
        self.seconds, self._last = self.seconds + now - self._last, now
        return self.seconds


def start_run_folder(run_dir: Path, settings: Settings, train: dict[str, Any], resume: bool) -> None:
    """Create run_dir; unless resuming, remove what an earlier run wrote there (nothing else); write config.json
    (the settings without their secrets)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    if not resume:
        for name in OUTPUTS:
            path = run_dir / name
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    write_json(run_dir / "config.json", {"settings": settings_record(settings), "train": train})


def selection_key(metrics: dict[str, float]) -> tuple[float, float]:
    """How validations are compared to pick a run's best checkpoint: ACC, ties broken by MRR."""
    return metrics["acc"], metrics["mrr"]


def summarise(run_dir: Path, references: dict[str, dict[str, float]], valid_samples: int) -> dict[str, Any]:
    """The best validation metrics of a run, next to reference rankings of the same validation samples, and the
    training wall time summed over every session that trained it."""
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    evaluations = [r for r in lines if "valid" in r]
    best = max(evaluations, key=lambda r: selection_key(r["valid"]), default=None)
    summary = {
        "run_dir": str(run_dir),
        "train_seconds": max((r["seconds"] for r in lines if "seconds" in r), default=0.0),
        "evaluations": len(evaluations),
        "valid_samples": valid_samples,
        "best": best,
        "references": references,
    }
    write_json(run_dir / "summary.json", summary)
    return summary
