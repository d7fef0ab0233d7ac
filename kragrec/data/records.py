"""Prepared samples read back (training windows with drawn candidates, valid/test lists, one user's sample) and
scored records."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from kragrec.config import Settings
from kragrec.data.candidates import draw_candidates
from kragrec.data.dataset import natural_key
from kragrec.data.prepare import prepared_file
from kragrec.data.registry import open_dataset
from kragrec.data.sample import Record
from kragrec.errors import KragrecError
from kragrec.files import read_jsonl
from kragrec.metrics import target_ranks

TRAIN_CANDIDATE_STREAM = 3


@dataclass(frozen=True)
class Scored:
    """One score per candidate of every sample, and the sub-graph seeds each sample's prompt received."""

    records: list[Record]
    scores: np.ndarray
    evidence: list[list[str]]

    @cached_property
    def ranks(self) -> np.ndarray:
        """1-based rank of each target among its candidates (ties against it), computed once."""
        return target_ranks(self.scores, np.array([r.label for r in self.records], dtype=np.int64))


def _subset(records: list[Record], limit: int | None, seed: int) -> list[Record]:
    if limit is None or limit >= len(records):
        return records
    chosen = np.random.default_rng(seed).choice(len(records), size=limit, replace=False)
    return [records[i] for i in sorted(chosen)]


def training_records(settings: Settings, limit: int | None, candidates: int | None = None) -> list[Record]:
    """Training windows (a seeded subset when limited) with candidates drawn like the prepared ones: the target and
    `candidates` - 1 negatives (default: as many as the prepared lists have)."""
    windows = read_jsonl(prepared_file(settings, "train"))
    chosen = _subset([Record.from_row(w) for w in windows], limit, settings.seed)
    dataset = open_dataset(settings, settings.dataset)
    rated: dict[str, set[str]] = {}
    for inter in dataset.interactions:
        rated.setdefault(inter.user, set()).add(inter.item)
    all_items = sorted(dataset.items, key=natural_key)
    return [
        Record(
            r.user,
            r.history,
            r.target,
            draw_candidates(
                r.target,
                rated[r.user],
                all_items,
                candidates or settings.candidates,
                settings.seed,
                (TRAIN_CANDIDATE_STREAM, n),
            ),
        )
        for n, r in enumerate(chosen)
    ]


def user_record(settings: Settings, user: str, split: str) -> Record:
    """The prepared valid or test sample of one user; a one-line error naming the file when there is none."""
    path = prepared_file(settings, split)
    for row in read_jsonl(path):
        if row["user"] == user:
            return Record.from_row(row)
    raise KragrecError(f"user {user!r} has no {split} sample in {path}")


def evaluation_records(settings: Settings, split: str, limit: int | None) -> list[Record]:
    """The prepared valid or test samples (a seeded subset when limited)."""
    records = [Record.from_row(row) for row in read_jsonl(prepared_file(settings, split))]
    return _subset(records, limit, settings.seed)
