"""`kragrec data prepare`: splits, training windows and candidate lists written as JSONL."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from kragrec.config import Settings
from kragrec.data.candidates import SPLIT_CODES, draw_candidates
from kragrec.data.dataset import Dataset, natural_key
from kragrec.data.registry import fingerprint, open_dataset
from kragrec.data.splits import evaluation_samples, leave_one_out, training_windows
from kragrec.errors import KragrecError
from kragrec.files import replace_dir_atomically, write_json, write_jsonl
from kragrec.writer_lock import data_dir_writer


@dataclass(frozen=True)
class PreparedSummary:
    """Where the prepared files went and how many samples each holds."""

    directory: Path
    counts: dict[str, int]


def _rated_by_user(dataset: Dataset) -> dict[str, set[str]]:
    rated: dict[str, set[str]] = {}
    for inter in dataset.interactions:
        rated.setdefault(inter.user, set()).add(inter.item)
    return rated


def _no_samples(settings: Settings) -> str:
    rated = f" rated at least {settings.min_rating:g} (--min-rating)" if settings.min_rating else ""
    return f"dataset {settings.dataset!r}: no user has 2 or more interactions{rated}, so no test sample to prepare"


def prepare(settings: Settings) -> PreparedSummary:
    """Write train/valid/test JSONL for the settings' dataset, history, candidates, min_rating and seed; a
    one-line error, with nothing written, when no user gives a test sample.

    Holds the data dir's writer lock, so the dataset cannot change under it.
    """
    with data_dir_writer(settings.data_dir):
        return _prepare(settings)


def _prepare(settings: Settings) -> PreparedSummary:
    dataset = open_dataset(settings, settings.dataset)
    splits = leave_one_out(dataset, settings.min_rating)
    rated = _rated_by_user(dataset)
    all_items = sorted(dataset.items, key=natural_key)
    user_index = {s.user: n for n, s in enumerate(splits)}
    counts = {}
    with replace_dir_atomically(settings.prepared_dir) as staging:
        train = [window.row() for window in training_windows(splits, settings.history)]
        counts["train"] = write_jsonl(staging / "train.jsonl", train)
        for split_name, code in SPLIT_CODES.items():
            records = []
            for sample in evaluation_samples(splits, split_name, settings.history):
                candidates = draw_candidates(
                    sample.target,
                    rated[sample.user],
                    all_items,
                    settings.candidates,
                    settings.seed,
                    (code, user_index[sample.user]),
                )
                records.append(replace(sample, candidates=candidates).row())
            counts[split_name] = write_jsonl(staging / f"{split_name}.jsonl", records)
        if not counts["test"]:
            raise KragrecError(_no_samples(settings))
        write_json(
            staging / "meta.json",
            {
                "dataset": settings.dataset,
                "dataset_fingerprint": fingerprint(settings, settings.dataset),
                "history": settings.history,
                "candidates": settings.candidates,
                "min_rating": settings.min_rating,
                "seed": settings.seed,
                "samples": counts,
            },
        )
    return PreparedSummary(settings.prepared_dir, counts)


def prepared_file(settings: Settings, split: str) -> Path:
    """The prepared JSONL of a split; a one-line error saying how to make it when it is missing."""
    path = settings.prepared_dir / f"{split}.jsonl"
    if not path.is_file():
        raise KragrecError(
            f"{path}: not prepared; run `kragrec data prepare` with the same --history, --candidates, "
            "--min-rating and --seed"
        )
    return path
