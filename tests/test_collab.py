"""Collaborative tokens: a frozen item table projected into a tiny random Llama, in the prompt's slot and before each
candidate's title; scores, training, checkpoints and the SASRec table they read."""

from __future__ import annotations

import dataclasses
from functools import partial

import numpy as np
import pytest
import torch
from test_graph_llm import assert_reloaded_scores_identically, tiny_llm

from kragrec.config import Settings
from kragrec.errors import KragrecError
from kragrec.evaluation.evaluate import evaluate_run
from kragrec.models.checkpoint import read_trained_parts
from kragrec.models.choices import DEFAULT_LLM, TITLE_ANSWER
from kragrec.models.collab import SASREC_ITEM_TABLE, SASREC_WEIGHTS, CollabTokens
from kragrec.models.collate import EncodedSample, collate
from kragrec.models.graph_llm import GraphLLM, LoraSettings, TitleHead
from kragrec.models.llm import load_tokenizer
from kragrec.models.prompt import letter_token_ids, prompt_tokens, recommendation_prompt
from kragrec.models.tensor_files import read_torch_file
from kragrec.training.config import TrainConfig
from kragrec.training.trainer import launch_training

from conftest import tiny_config

ITEMS = [f"i{n}" for n in range(1, 13)]


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(DEFAULT_LLM, Settings().cache_dir)


def collab_llm(tokenizer, llm_mode: str = "frozen", seed: int = 0) -> GraphLLM:
    llm = tiny_llm(tokenizer, seed)
    torch.manual_seed(seed + 2)
    table = torch.cat([torch.zeros(1, 8), torch.randn(len(ITEMS), 8)])
    width = llm.config.hidden_size
    collab = CollabTokens(table, {item: row for row, item in enumerate(ITEMS, start=1)}, width, norm=0.5)
    letters = letter_token_ids(tokenizer, 20)
    lora = LoraSettings(r=4, alpha=8, dropout=0.0)
    return GraphLLM(llm, letters, None, None, llm_mode, lora=lora, title_head=TitleHead(), collab=collab)


def collab_samples(tokenizer, count: int = 5) -> list[EncodedSample]:
    encoded = []
    for n in range(3):
        history = (*ITEMS[n : n + 3 + n], "unknown")  # an item the table lacks gets no token
        candidates = (*(ITEMS[(n + 5 + k) % len(ITEMS)] for k in range(count - 1)), "fictional")
        titles = [f"Film {item}" + " sequel" * (k % 3) for k, item in enumerate(candidates)]
        prompt = recommendation_prompt([f"Seen {item}" for item in history], titles, False, with_collab=True)
        tokens = prompt_tokens(tokenizer, prompt, TITLE_ANSWER, titles)
        encoded.append(EncodedSample(tokens, [], n % count, count, history=history, candidates=candidates))
    return encoded


def separate_passes(model: GraphLLM, sample: EncodedSample) -> torch.Tensor:
    """Reference: per candidate one full pass of prompt (history tokens in the slot), the candidate's token and its
    title; the mean log-probability of the title tokens."""
    embed = model.llm.get_input_embeddings()
    before, after = (torch.tensor(ids, dtype=torch.long) for ids in (sample.tokens.before, sample.tokens.after))
    history = model.collab.history_tokens([sample.history])[0]
    prompt = torch.cat([embed(before), history, embed(after)])
    leads = model.collab.candidate_tokens([sample.candidates])[0]
    means = []
    for lead, option in zip(leads, sample.tokens.options, strict=True):
        inputs = torch.cat([prompt, lead[None], embed(torch.tensor(option))])[None]
        log_probs = torch.log_softmax(model.llm(inputs_embeds=inputs).logits[0].float(), dim=-1)
        means.append(log_probs[len(prompt) : -1].gather(1, torch.tensor(option)[:, None]).mean())
    return torch.stack(means)


def test_prompt_has_a_slot_for_history_tokens_only_when_asked(tokenizer):
    sample = collab_samples(tokenizer)[0]
    text = tokenizer.decode(sample.tokens.before)
    assert text.endswith("Watched films as item tokens: ") and sample.tokens.after
    plain = recommendation_prompt(["Seen i1"], ["Film i2"], False)
    assert "item tokens" not in plain


def test_history_tokens_skip_unknown_items_and_candidates_unknown_to_the_table_get_a_zero_token(tokenizer):
    model = collab_llm(tokenizer)
    sample = collab_samples(tokenizer)[0]
    with torch.no_grad():
        history = model.collab.history_tokens([sample.history])[0]
        leads = model.collab.candidate_tokens([sample.candidates])[0]
    assert history.shape == (len(sample.history) - 1, model.llm.config.hidden_size)
    torch.testing.assert_close(history.norm(dim=1), torch.full((len(history),), 0.5))
    assert torch.count_nonzero(leads[-1]) == 0 and bool((leads[:-1].norm(dim=1) > 0.49).all())


def test_title_scores_with_collaborative_tokens_from_one_shared_pass_equal_separate_passes(tokenizer):
    model = collab_llm(tokenizer).eval()
    encoded = collab_samples(tokenizer)
    with torch.no_grad():
        shared = model.scores(collate(encoded))
        separate = torch.stack([separate_passes(model, sample) for sample in encoded])
    torch.testing.assert_close(shared, separate, atol=1e-5, rtol=1e-5)


def test_a_candidates_score_depends_on_its_own_collaborative_token(tokenizer):
    model = collab_llm(tokenizer).eval()
    sample = collab_samples(tokenizer)[0]
    swapped = dataclasses.replace(sample, candidates=(ITEMS[-1], *sample.candidates[1:]))
    with torch.no_grad():
        scores, changed = model.scores(collate([sample]))[0], model.scores(collate([swapped]))[0]
    assert not torch.isclose(scores[0], changed[0])
    torch.testing.assert_close(scores[1:], changed[1:], atol=0, rtol=0)


def test_training_moves_the_projector_and_not_the_item_table(tokenizer):
    model = collab_llm(tokenizer, llm_mode="lora").train()
    table = model.collab.table.clone()
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert "collab.projector.weight" in trainable and not any("table" in name for name in trainable)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    batch = collate(collab_samples(tokenizer))
    before = model.loss(batch)
    before.backward()
    assert model.collab.projector.weight.grad.abs().sum() > 0
    optimizer.step()
    with torch.no_grad():
        after = model.loss(batch)
    assert after < before and torch.equal(model.collab.table, table)


def test_saved_and_reloaded_collaborative_model_scores_identically(tokenizer, tmp_path):
    make_model = partial(collab_llm, tokenizer, llm_mode="lora")
    assert_reloaded_scores_identically(make_model, collate(collab_samples(tokenizer)), tmp_path / "ckpt")


@pytest.mark.parametrize(
    ("options", "message"),
    [({"method": "lora-no-kg", "answer": "letter"}, "--answer letter"), ({"method": "lkg-rag"}, "--method lkg-rag")],
)
def test_collab_is_refused_where_no_candidate_title_follows_the_prompt(tmp_path, options, message):
    with pytest.raises(KragrecError, match=message):
        TrainConfig(run_dir=tmp_path, collab=str(tmp_path / "sasrec"), **options)


def test_a_run_with_collaborative_tokens_trains_on_a_sasrec_runs_item_table_and_evaluates(tiny_runs, tmp_path):
    settings, root = tiny_runs
    sasrec_run = root / "sasrec-run"
    config = tiny_config(root, "collab-run", method="lora-no-kg", epochs=1, collab=str(sasrec_run))
    launch_training(settings, config)
    parts = read_trained_parts(config.run_dir / "checkpoints" / "best")
    items = read_torch_file(sasrec_run / "checkpoints" / "best" / SASREC_WEIGHTS)[SASREC_ITEM_TABLE]
    assert torch.equal(parts.modules["collab"]["table"], items)
    report, _ = evaluate_run(config.run_dir, settings, "test", "best", tmp_path / "eval")
    assert report["samples"] == 6 and np.isfinite(report["metrics"]["mrr"])


def test_collab_without_a_trained_sasrec_run_is_a_one_line_error(tiny_setup, tmp_path):
    settings, root = tiny_setup
    config = tiny_config(root, "no-collab-run", method="lora-no-kg", collab=str(tmp_path / "missing"))
    with pytest.raises(KragrecError, match="no trained SASRec checkpoint"):
        launch_training(settings, config)
    assert not config.run_dir.exists()
