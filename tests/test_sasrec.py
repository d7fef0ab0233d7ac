"""SASRec baseline: causal and padding-safe, learns a sequential pattern, trains and evaluates as a run."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch

from kragrec.baselines.sasrec import SASRec, SasrecConfig, right_padded
from kragrec.baselines.sasrec_training import (
    Sequences,
    sasrec_config,
    top_unseen_before,
    train_one_epoch,
    train_sasrec,
)
from kragrec.errors import KragrecError
from kragrec.evaluation.evaluate import evaluate_run

SMALL = SasrecConfig(hidden=32, blocks=2, heads=1, dropout=0.0, max_len=12, lr=5e-3, batch_size=16)


def test_later_items_and_padding_do_not_change_earlier_states():
    torch.manual_seed(0)
    model = SASRec(20, SMALL).eval()
    padded, lengths = right_padded([[1, 2, 3, 4], [5, 6]], SMALL.max_len)
    assert padded.tolist() == [[1, 2, 3, 4], [5, 6, 0, 0]] and lengths.tolist() == [4, 2]
    states = model.hidden_states(padded)
    changed = padded.clone()
    changed[0, 3] = 9
    torch.testing.assert_close(model.hidden_states(changed)[0, :3], states[0, :3])
    alone, alone_lengths = right_padded([[5, 6]], SMALL.max_len)
    candidates = torch.tensor([[7, 8, 9]])
    torch.testing.assert_close(
        model.candidate_scores(alone, alone_lengths, candidates),
        model.candidate_scores(padded, lengths, torch.tensor([[1, 2, 3], [7, 8, 9]]))[1:],
    )


def test_top_unseen_items_skip_the_seen_ones_and_do_not_depend_on_batching():
    torch.manual_seed(0)
    model = SASRec(20, SMALL).eval()
    seen = {"a": [1, 2, 3, 4, 5], "b": [6, 7], "c": [8]}
    sequences = Sequences({f"i{n}": n for n in range(1, 21)}, {}, {"test": seen})
    users = list(seen)
    in_pairs = top_unseen_before(model, sequences, users, "test", 5, batch=2)
    assert in_pairs == [top_unseen_before(model, sequences, [user], "test", 5, batch=1)[0] for user in users]
    for user, top in zip(users, in_pairs, strict=True):
        assert len(set(top)) == 5 and not {f"i{n}" for n in seen[user]} & set(top)
    logits = model.next_item_logits(*right_padded([seen["b"]], SMALL.max_len))[0].detach()
    logits[[0, 6, 7]] = float("-inf")
    assert in_pairs[1] == [f"i{int(i)}" for i in logits.topk(5).indices]


def test_learns_that_each_item_is_followed_by_the_next():
    torch.manual_seed(0)
    items = 30
    users = [[(start + k) % items + 1 for k in range(8)] for start in range(items)]
    model = SASRec(items, SMALL)
    optimizer = torch.optim.AdamW(model.parameters(), lr=SMALL.lr)
    generator = torch.Generator().manual_seed(0)
    first = train_one_epoch(model, optimizer, users, SMALL, generator)
    for _ in range(60):
        last = train_one_epoch(model, optimizer, users, SMALL, generator)
    assert last < first / 4
    model.eval()
    sequences, lengths = right_padded([[3, 4, 5], [10, 11]], SMALL.max_len)
    candidates = torch.tensor([[1, 6, 20, 25], [2, 12, 29, 13]])  # the next items are 6 and 12
    assert model.candidate_scores(sequences, lengths, candidates).argmax(dim=1).tolist() == [1, 1]


def test_sasrec_run_trains_validates_and_evaluates_deterministically(tiny_setup, tmp_path):
    settings, root = tiny_setup
    run_dir = root / "sasrec"
    config = sasrec_config({"method": "sasrec", "epochs": 4, "val_every": 2, "batch_size": 4})
    summary = train_sasrec(settings, run_dir, SasrecConfig(**{**SMALL.__dict__, "epochs": 4, "val_every": 2}))
    assert config.epochs == 4 and config.hidden == 64
    assert summary["evaluations"] == 2 and set(summary["references"]) == {"popularity", "chance"}
    assert json.loads((run_dir / "config.json").read_text())["train"]["method"] == "sasrec"
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    seconds = [line["seconds"] for line in lines]  # 4 epochs and 2 validations, each with the time so far
    assert len(seconds) == 6 and all(a < b for a, b in itertools.pairwise(seconds))
    assert summary["train_seconds"] == seconds[-1]
    first, _ = evaluate_run(run_dir, settings, "test", "best", tmp_path / "a")
    second, _ = evaluate_run(run_dir, settings, "test", "best", tmp_path / "b")
    assert first == second and first["method"] == "sasrec (sasrec)" and first["samples"] == 6
    assert np.isfinite(first["metrics"]["mrr"])
    hallucination, _ = evaluate_run(run_dir, settings, "test", "best", tmp_path / "c", fictional=4)
    assert hallucination["fictional_first"] == 0.0  # unknown items get no score: never ranked first


def test_options_sasrec_does_not_use_are_refused():
    with pytest.raises(KragrecError, match="--method sasrec does not use --lora-r"):
        sasrec_config({"method": "sasrec", "lora_r": 4})
