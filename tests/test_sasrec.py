"""SASRec baseline: reference initialisation, one sample per prefix, causal and padding-safe, learns a sequential
pattern, trains, resumes exactly and evaluates as a run."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from kragrec.baselines.sasrec import PAD, SASRec, SasrecConfig, right_padded
from kragrec.baselines.sasrec_training import (
    Sequences,
    prefix_samples,
    sasrec_config,
    top_unseen_before,
    train_one_epoch,
    train_sasrec,
)
from kragrec.errors import KragrecError
from kragrec.evaluation.evaluate import evaluate_run
from kragrec.models.collab import SASREC_WEIGHTS
from kragrec.training.loop import STATE_FILE

SMALL = SasrecConfig(hidden=32, blocks=2, heads=1, inner=64, dropout=0.0, max_len=12, lr=5e-3, batch_size=16)


def test_initialisation_starts_near_uniform_scores_like_the_reference():
    torch.manual_seed(0)
    items = 1682  # ML-100K's catalogue
    model = SASRec(items, SasrecConfig())
    assert not model.items.weight[PAD].any()
    for name, parameter in model.named_parameters():
        if name.endswith("bias") or "norm" in name:  # LayerNorms: weight 1, bias 0; every other bias 0
            expected = 1.0 if name.endswith("weight") else 0.0
            assert torch.all(parameter == expected), name
        else:  # embeddings, attention and feed-forward maps: N(0, 0.02)
            assert abs(parameter.std().item() - 0.02) < 0.002, name
    first, second = model.blocks.layers  # drawn separately, not copies of one layer
    assert not torch.equal(first.linear1.weight, second.linear1.weight)
    sequences = torch.randint(1, items + 1, (64, 30), generator=torch.Generator().manual_seed(0))
    logits = model.eval().next_item_logits(sequences, torch.full((64,), 30))
    assert logits.abs().max() < 1.5  # PyTorch's default N(0, 1) tied embeddings gave logits of about +-64
    loss = nn.functional.cross_entropy(logits[:, 1:], torch.randint(0, items, (64,)))
    assert abs(loss.item() - math.log(items)) < 0.05  # the default initialisation's first loss was 36, not 7.4


def test_every_prefix_is_one_sample_of_at_most_max_len_items():
    samples = prefix_samples([[1, 2, 3, 4, 5], [6], [7, 8], []], max_len=3)
    assert len(samples) == 5  # 4 prefixes of the first user, none of a single item, 1 of the pair
    assert samples.windows.tolist() == [[1, 0, 0], [1, 2, 0], [1, 2, 3], [2, 3, 4], [7, 0, 0]]
    assert samples.lengths.tolist() == [1, 2, 3, 3, 1]
    assert samples.targets.tolist() == [2, 3, 4, 5, 8]
    long = list(range(1, 101))
    assert len(prefix_samples([long], max_len=50)) == 99
    assert prefix_samples([long], max_len=50).windows[-1].tolist() == list(range(50, 100))


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
    samples = prefix_samples(users, SMALL.max_len)
    model = SASRec(items, SMALL)
    optimizer = torch.optim.AdamW(model.parameters(), lr=SMALL.lr)
    generator = torch.Generator().manual_seed(0)
    first = train_one_epoch(model, optimizer, samples, SMALL, generator)
    assert abs(first - math.log(items)) < 1.0  # the first batches start from near-uniform scores
    for _ in range(15):
        last = train_one_epoch(model, optimizer, samples, SMALL, generator)
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


def test_resume_continues_exactly_as_an_uninterrupted_run(tiny_setup):
    settings, root = tiny_setup
    config = SasrecConfig(**{**SMALL.__dict__, "dropout": 0.3, "epochs": 4, "val_every": 2, "patience": 9})
    train_sasrec(settings, root / "sasrec-whole", config)
    train_sasrec(settings, root / "sasrec-parts", SasrecConfig(**{**config.__dict__, "epochs": 2}))
    torch.manual_seed(123)  # whatever ran in between, the resumed run restores its own random state
    train_sasrec(settings, root / "sasrec-parts", config, resume=True)
    whole, parts = (
        torch.load(root / n / "checkpoints" / "last" / SASREC_WEIGHTS) for n in ("sasrec-whole", "sasrec-parts")
    )
    assert whole.keys() == parts.keys() and all(torch.equal(whole[k], parts[k]) for k in whole)
    losses = [
        [json.loads(line).get("loss") for line in (root / n / "metrics.jsonl").read_text().splitlines()]
        for n in ("sasrec-whole", "sasrec-parts")
    ]
    assert [x for x in losses[0] if x] == [x for x in losses[1] if x]


def test_resuming_a_checkpoint_whose_progress_this_version_cannot_read_is_a_one_line_error(tiny_setup):
    settings, root = tiny_setup
    config = SasrecConfig(**{**SMALL.__dict__, "epochs": 2, "val_every": 1})
    train_sasrec(settings, root / "older", config)
    state_file = root / "older" / "checkpoints" / "last" / STATE_FILE
    state = torch.load(state_file, weights_only=False)
    state["progress"] = {"epoch": 2, "best_acc": 0.5, "bad": 0}  # an older kragrec's progress record
    torch.save(state, state_file)
    with pytest.raises(KragrecError, match="checkpoint from an older kragrec; train again without --resume"):
        train_sasrec(settings, root / "older", SasrecConfig(**{**config.__dict__, "epochs": 4}), resume=True)


def test_options_sasrec_does_not_use_are_refused():
    with pytest.raises(KragrecError, match="--method sasrec does not use --lora-r"):
        sasrec_config({"method": "sasrec", "lora_r": 4})
