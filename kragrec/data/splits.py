"""Leave-one-out splits and the history windows built from them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from kragrec.data.dataset import Dataset, natural_key
from kragrec.data.sample import Record

SPLIT_NAMES = ("train", "valid", "test")
EXCLUDED = "excluded"


@dataclass(frozen=True)
class UserSplit:
    """One user's chronologically ordered items: train part, then valid and test targets."""

    user: str
    train: tuple[str, ...]
    valid: str | None
    test: str | None


def leave_one_out(dataset: Dataset, min_rating: float = 0.0) -> list[UserSplit]:
    """Per user, ratings >= min_rating in time order: last = test, second last = valid.

    Ratings with equal timestamps keep the order of the interaction file (a stable sort by timestamp), as the
    sequential-recommendation references do; ordering ties by item id would invent an order the data never had.
    """
    sequences: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for inter in dataset.interactions:
        if inter.rating is None or inter.rating >= min_rating:
            sequences[inter.user].append((inter.timestamp, inter.item))
    splits = []
    for user in sorted(sequences, key=natural_key):
        items = [item for _, item in sorted(sequences[user], key=lambda rating: rating[0])]
        test = items.pop() if len(items) >= 2 else None
        valid = items.pop() if len(items) >= 2 else None
        splits.append(UserSplit(user, tuple(items), valid, test))
    return splits


def split_of_ratings(dataset: Dataset, splits: list[UserSplit]) -> dict[tuple[str, str], str]:
    """The split of every (user, item) rating; ratings below min_rating are 'excluded'."""
    labels = {(i.user, i.item): EXCLUDED for i in dataset.interactions}
    for split in splits:
        labels.update({(split.user, item): "train" for item in split.train})
        if split.valid is not None:
            labels[(split.user, split.valid)] = "valid"
        if split.test is not None:
            labels[(split.user, split.test)] = "test"
    return labels


def training_windows(splits: list[UserSplit], history: int) -> list[Record]:
    """Every train item after a user's first, with up to `history` items before it."""
    return [
        Record(s.user, list(s.train[max(0, t - history) : t]), s.train[t])
        for s in splits
        for t in range(1, len(s.train))
    ]


def evaluation_samples(splits: list[UserSplit], split_name: str, history: int) -> list[Record]:
    """The valid or test sample of every user that has one; history ends right before the target."""
    samples = []
    for s in splits:
        if split_name == "valid" and s.valid is not None:
            samples.append(Record(s.user, list(s.train[-history:]), s.valid))
        elif split_name == "test" and s.test is not None:
            before = s.train + ((s.valid,) if s.valid is not None else ())
            samples.append(Record(s.user, list(before[-history:]), s.test))
    return samples
