"""Leave-one-out splits, training windows and candidate lists."""

from __future__ import annotations

import pytest

from kragrec.data.candidates import draw_candidates
from kragrec.data.dataset import load_dataset
from kragrec.data.prepare import prepare
from kragrec.data.registry import register
from kragrec.data.splits import evaluation_samples, leave_one_out, split_of_ratings, training_windows
from kragrec.errors import KragrecError
from kragrec.files import read_jsonl

from conftest import TINY, make_settings


@pytest.fixture
def tiny():
    return load_dataset(TINY, "tiny")


def chronological(tiny, user, min_rating=0.0):
    rows = [i for i in tiny.interactions if i.user == user and i.rating >= min_rating]
    return [i.item for i in sorted(rows, key=lambda i: i.timestamp)]


def test_leave_one_out_takes_last_two_by_time_then_file_order(tiny):
    for split in leave_one_out(tiny):
        order = chronological(tiny, split.user)
        assert split.test == order[-1]
        assert split.valid == order[-2]
        assert split.train == tuple(order[:-2])


def test_timestamp_ties_keep_the_file_order(tiny):
    # user 1 rated items 14 and 2 at the same timestamp, 14 first in the file: 14 stays first (item id would say 2).
    split = next(s for s in leave_one_out(tiny) if s.user == "1")
    position = {item: n for n, item in enumerate(split.train)}
    assert position["14"] < position["2"]


def test_min_rating_filters_split_and_marks_ratings_excluded(tiny):
    splits = leave_one_out(tiny, min_rating=4)
    labels = split_of_ratings(tiny, splits)
    for inter in tiny.interactions:
        assert (labels[(inter.user, inter.item)] == "excluded") == (inter.rating < 4)
    for split in splits:
        order = chronological(tiny, split.user, 4)
        # A test target needs at least one item before it; a lone rating stays in train.
        assert split.test == (order[-1] if len(order) >= 2 else None)
        assert split.train == tuple(order[: -2 if len(order) >= 3 else (-1 if len(order) == 2 else None)])


def test_training_windows_slide_with_bounded_history(tiny):
    splits = leave_one_out(tiny)
    windows = training_windows(splits, history=3)
    assert len(windows) == sum(len(s.train) - 1 for s in splits)
    for window in windows:
        train = next(s.train for s in splits if s.user == window.user)
        position = train.index(window.target)
        assert window.history == list(train[max(0, position - 3) : position])


def test_test_history_ends_with_the_valid_item(tiny):
    splits = leave_one_out(tiny)
    for sample, split in zip(evaluation_samples(splits, "test", 10), splits, strict=True):
        assert sample.history[-1] == split.valid
        assert sample.target == split.test


def test_candidates_hold_target_once_and_only_unrated_items():
    all_items = [str(i) for i in range(100)]
    rated = {str(i) for i in range(0, 100, 2)}
    for seed in range(20):
        candidates = draw_candidates("4", rated, all_items, 20, seed, (2, seed))
        assert len(candidates) == len(set(candidates)) == 20
        assert candidates.count("4") == 1
        assert not (set(candidates) - {"4"}) & rated


def test_candidates_fail_clearly_when_too_few_items_are_unrated():
    with pytest.raises(KragrecError, match="cannot draw 19 negatives: only 3 items"):
        draw_candidates("1", {"1", "2"}, [str(i) for i in range(1, 6)], 20, 0, (1, 0))


def prepared_bytes(settings):
    prepare(settings)
    return {p.name: p.read_bytes() for p in sorted(settings.prepared_dir.iterdir())}


def test_prepare_is_byte_identical_for_a_seed_and_differs_across_seeds(tmp_path):
    settings = make_settings(tmp_path, dataset="tiny", seed=0)
    register(settings, TINY, "tiny", origin="fixture")
    first = prepared_bytes(settings)
    assert prepared_bytes(settings) == first
    other = prepared_bytes(make_settings(tmp_path, dataset="tiny", seed=1))
    assert other["train.jsonl"] == first["train.jsonl"]
    assert other["test.jsonl"] != first["test.jsonl"]


def test_prepared_candidate_lists_are_valid(tmp_path, tiny):
    settings = make_settings(tmp_path, dataset="tiny")
    register(settings, TINY, "tiny", origin="fixture")
    summary = prepare(settings)
    rated = {}
    for inter in tiny.interactions:
        rated.setdefault(inter.user, set()).add(inter.item)
    for split_name in ("valid", "test"):
        records = read_jsonl(summary.directory / f"{split_name}.jsonl")
        assert len(records) == len(tiny.users) == summary.counts[split_name]
        for record in records:
            candidates = record["candidates"]
            assert len(set(candidates)) == 20
            assert candidates.count(record["target"]) == 1
            assert not set(record["history"]) & set(candidates)
            assert (set(candidates) - {record["target"]}).isdisjoint(rated[record["user"]])
