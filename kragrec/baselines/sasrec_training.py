"""Train SASRec on the train split (`kragrec train --method sasrec`), validate on the prepared lists, score them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from kragrec.baselines.sasrec import PAD, SASRec, SasrecConfig, right_padded
from kragrec.config import Settings
from kragrec.data.dataset import item_rows
from kragrec.data.popularity import popularity_metrics, train_popularity
from kragrec.data.records import evaluation_records
from kragrec.data.registry import open_dataset
from kragrec.data.sample import Record
from kragrec.data.splits import leave_one_out
from kragrec.errors import KragrecError
from kragrec.metrics import chance_metrics, metrics_from_ranks, target_ranks
from kragrec.models.collab import SASREC_WEIGHTS
from kragrec.models.tensor_files import read_torch_file
from kragrec.progress import progress_bar
from kragrec.training.loop import TrainingLoop
from kragrec.training.run_folder import RunFolder


@dataclass(frozen=True)
class Sequences:
    """Item indexes (1..N) and each user's chronological items: the train part, and what precedes each target."""

    index_of: dict[str, int]
    train: dict[str, list[int]]
    before: dict[str, dict[str, list[int]]]  # valid/test -> user -> items before that target; "all": every item

    @cached_property
    def item_of(self) -> dict[int, str]:
        """Item id of each index."""
        return {index: item for item, index in self.index_of.items()}


def user_sequences(settings: Settings) -> Sequences:
    """The leave-one-out split as index sequences; the test prefix includes the valid item."""
    dataset = open_dataset(settings, settings.dataset)
    index_of = item_rows(dataset.items)
    splits = leave_one_out(dataset, settings.min_rating)
    train = {s.user: [index_of[i] for i in s.train] for s in splits}
    valid_item = {s.user: [index_of[s.valid]] if s.valid is not None else [] for s in splits}
    test_item = {s.user: [index_of[s.test]] if s.test is not None else [] for s in splits}
    test = {user: train[user] + valid_item[user] for user in train}
    before = {"valid": train, "test": test, "all": {user: test[user] + test_item[user] for user in train}}
    return Sequences(index_of, train, before)


@torch.no_grad()
def top_unseen_before(
    model: SASRec, sequences: Sequences, users: list[str], split: str, count: int, batch: int = 256
) -> list[list[str]]:
    """Per user, the `count` best-scored items after the sequence before `split`'s target, none of that sequence."""
    model.eval()
    chosen = []
    for start in range(0, len(users), batch):
        seen = [sequences.before[split][user] for user in users[start : start + batch]]
        padded, lengths = right_padded(seen, model.positions.num_embeddings)
        logits = model.next_item_logits(padded, lengths)
        for row, items in zip(logits, seen, strict=True):
            row[[PAD, *items]] = float("-inf")
        top = torch.topk(logits, count, dim=1).indices
        chosen += [[sequences.item_of[int(i)] for i in row] for row in top]
    return chosen


@torch.no_grad()
def sasrec_scores(model: SASRec, sequences: Sequences, records: list[Record], split: str, batch: int) -> np.ndarray:
    """Scores of every record's candidates after the user's whole sequence before the target (-inf: not an item)."""
    was_training = model.training
    model.eval()
    rows = []
    for start in range(0, len(records), batch):
        chunk = records[start : start + batch]
        padded, lengths = right_padded([sequences.before[split][r.user] for r in chunk], model.positions.num_embeddings)
        indexes = [[sequences.index_of.get(c, PAD) for c in r.candidates] for r in chunk]
        candidates = torch.tensor(indexes, dtype=torch.long)
        scores = model.candidate_scores(padded, lengths, candidates)
        rows.append(scores.masked_fill(candidates == PAD, float("-inf")).numpy())  # unknown items: never ranked
    model.train(was_training)
    return np.concatenate(rows) if rows else np.zeros((0, 0))


@dataclass(frozen=True)
class PrefixSamples:
    """One training sample per prefix: the up to max_len items before position t of a user's sequence (right-padded
    windows), and the item at t, for every t >= 1 of every user."""

    windows: torch.Tensor  # [samples, max_len] item indexes, PAD after each window's length
    lengths: torch.Tensor  # [samples] real items in each window (1..max_len)
    targets: torch.Tensor  # [samples] the item that follows each window

    def __len__(self) -> int:
        return len(self.targets)


def prefix_samples(users: list[list[int]], max_len: int) -> PrefixSamples:
    """Every prefix of every sequence as a sample, users in order and positions in order within a user."""
    count = sum(max(len(u) - 1, 0) for u in users)
    windows = np.full((count, max_len), PAD, dtype=np.int64)
    lengths = np.zeros(count, dtype=np.int64)
    targets = np.zeros(count, dtype=np.int64)
    row = 0
    for items in users:
        for t in range(1, len(items)):
            window = items[max(0, t - max_len) : t]
            windows[row, : len(window)] = window
            lengths[row], targets[row] = len(window), items[t]
            row += 1
    return PrefixSamples(torch.from_numpy(windows), torch.from_numpy(lengths), torch.from_numpy(targets))


def train_one_epoch(model: SASRec, optimizer, samples: PrefixSamples, config: SasrecConfig, generator) -> float:
    """One pass over the prefix samples in a shuffled order drawn from `generator`: full-softmax cross-entropy of
    each sample's next item at its window's last real position (padding is never a class); mean loss."""
    order = torch.randperm(len(samples), generator=generator)
    losses = []
    for start in range(0, len(order), config.batch_size):
        chosen = order[start : start + config.batch_size]
        lengths = samples.lengths[chosen]
        inputs = samples.windows[chosen, : int(lengths.max())]
        logits = model.next_item_logits(inputs, lengths)[:, PAD + 1 :]
        loss = nn.functional.cross_entropy(logits, samples.targets[chosen] - 1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return float(np.mean(losses))


class SasrecParts:
    """SASRec's checkpointed parts: the model, the optimizer and the generator of the sample order."""

    def __init__(self, model: SASRec, optimizer, generator: torch.Generator) -> None:
        self.model, self.optimizer, self.generator = model, optimizer, generator

    def save_weights(self, folder: Path) -> None:
        """The model's state dict."""
        torch.save(self.model.state_dict(), folder / SASREC_WEIGHTS)

    def load_weights(self, folder: Path) -> None:
        """Restore what save_weights wrote."""
        self.model.load_state_dict(read_torch_file(folder / SASREC_WEIGHTS))

    def state(self) -> dict[str, Any]:
        """The optimizer's state and the sample order's generator."""
        return {"optimizer": self.optimizer.state_dict(), "generator": self.generator.get_state()}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore what state returned."""
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])


def train_sasrec(settings: Settings, run_dir: Path, config: SasrecConfig, resume: bool = False) -> dict[str, Any]:
    """Train with validation every `val_every` epochs (a step is an epoch), early stopping on valid ACC; best and
    last checkpoints through the shared training loop."""
    sequences = user_sequences(settings)
    valid = evaluation_records(settings, "valid", None)
    labels = np.array([r.label for r in valid])
    torch.manual_seed(settings.seed)
    model = SASRec(len(sequences.index_of), config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    generator = torch.Generator().manual_seed(settings.seed)
    folder = RunFolder(run_dir)
    loop = TrainingLoop(folder, SasrecParts(model, optimizer, generator), config.patience)
    if resume:
        loop.resume()
    folder.start(settings, {"method": "sasrec", "run_dir": str(run_dir), **asdict(config)}, resume)
    samples = prefix_samples(list(sequences.train.values()), config.max_len)
    progress = loop.progress
    model.train()
    with loop, progress_bar() as bar:
        task = bar.add_task("sasrec", total=config.epochs, completed=progress.epoch)
        while progress.epoch < config.epochs and not progress.stopped_early:
            loss = train_one_epoch(model, optimizer, samples, config, generator)
            progress.epoch = progress.step = progress.epoch + 1
            loop.log({"loss": loss})
            bar.update(task, advance=1, description=f"sasrec loss {loss:.3f}")
            if progress.epoch % config.val_every and progress.epoch < config.epochs:
                continue
            scores = sasrec_scores(model, sequences, valid, "valid", config.batch_size)
            loop.validated(metrics_from_ranks(target_ranks(scores, labels)))
            loop.save_last()
    popularity = popularity_metrics(valid, train_popularity(settings))
    references = {"popularity": popularity, "chance": chance_metrics(settings.candidates)}
    return folder.summarise(references, len(valid))


def sasrec_config(options: dict[str, Any]) -> SasrecConfig:
    """SASRec's defaults, overridden by the `kragrec train` options that apply to it; others are refused."""
    known = {f.name for f in fields(SasrecConfig)}
    ignored = sorted(set(options) - known - {"method"})
    if ignored:
        raise KragrecError(f"--method sasrec does not use {', '.join('--' + n.replace('_', '-') for n in ignored)}")
    return SasrecConfig(**{name: value for name, value in options.items() if name in known})


def load_sasrec(folder: Path, num_items: int, config: SasrecConfig) -> SASRec:
    """A trained SASRec from a checkpoint folder, in eval mode."""
    model = SASRec(num_items, config)
    state = read_torch_file(folder / SASREC_WEIGHTS)
    try:
        model.load_state_dict(state)
    except RuntimeError as error:  # e.g. a run from before the feed-forward width was an option (it was hidden)
        message = f"{folder}: the SASRec checkpoint does not fit its run's config (an older kragrec's?); retrain"
        raise KragrecError(message) from error
    return model.eval()
