"""LKG-RAG: path choice follows the user preferences, the ranking loss reaches them, runs train and evaluate."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
import torch

from kragrec.data.records import evaluation_records
from kragrec.evaluation.evaluate import evaluate_run
from kragrec.models.collate import EncodedSample, collate
from kragrec.models.llm import load_tokenizer
from kragrec.models.path_preference import RELATION_CLASSES, PathGroup, UserPreference, choose_paths
from kragrec.paths.finder import open_path_finder
from kragrec.recommend import recommend
from kragrec.recommendation import RecommendRequest
from kragrec.training.model_build import build_model
from kragrec.training.path_samples import PathSamples
from kragrec.training.trainer import launch_training

from conftest import tiny_config

GENRE = [1.0 if c == "genre" else 0.0 for c in RELATION_CLASSES]
ACTOR = [1.0 if c == "actor" else 0.0 for c in RELATION_CLASSES]


def preferring(favourite: str) -> torch.Tensor:
    module = UserPreference(num_users=1, dim=4).eval()
    with torch.no_grad():
        module.head.weight.zero_()
        module.head.bias.copy_(torch.tensor([3.0 if c == favourite else 0.0 for c in RELATION_CLASSES]))
    return module(torch.tensor([0]))[0]


def test_selection_follows_the_preference_weights():
    group = PathGroup([GENRE, ACTOR, GENRE], [2, 4, 2], ["g1", "a", "g2"], [[1], [2], [3]])
    assert choose_paths([group], preferring("actor"), sample=False)[0] == [1]
    assert choose_paths([group], preferring("genre"), sample=False)[0] == [0]  # ties go to the earliest candidate
    sampled = [choose_paths([group], preferring("actor"), sample=True)[0][0] for _ in range(200)]
    assert sampled.count(1) > 150  # pi(actor path) = e^3 / (e^3 + 2) = 0.91


def test_shortest_selection_takes_the_fewest_hops_then_the_earliest_candidate():
    groups = [
        PathGroup([GENRE, ACTOR, GENRE], [4, 2, 2], ["g1", "a", "g2"], [[1], [2], [3]]),
        PathGroup([ACTOR], [4], ["a2"], [[4]]),
    ]
    chosen, log_prob = choose_paths(groups, None, sample=False)
    assert chosen == [1, 0] and float(log_prob) == 0.0


@pytest.fixture(scope="module")
def lkg_batch(tiny_setup):
    settings, root = tiny_setup
    config = tiny_config(root, "unused", method="lkg-rag")
    tokenizer = load_tokenizer(config.llm, settings.cache_dir)
    with open_path_finder(settings, persist_cache=False) as finder:
        finder.cache.clear()  # pairs cached by a run trained earlier in the session would save the queries
        source = PathSamples(settings, finder, tokenizer, True, config.answer_format)
        samples = source.samples(evaluation_records(settings, "valid", 4), training=True)
        assert finder.round_trips == 4  # one query per sample
    assert all(s.path_groups for s in samples)
    encoded = [EncodedSample(s.tokens, [], s.label, settings.candidates, s.user_index, s.path_groups) for s in samples]
    return settings, config, collate(encoded)


def test_the_ranking_loss_reaches_the_preferences_and_a_step_changes_them(lkg_batch):
    settings, config, batch = lkg_batch
    torch.manual_seed(0)
    model = build_model(settings, config, None).train()
    before = model.preference.head.weight.detach().clone()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model(batch).backward()
    assert model.preference.head.weight.grad.abs().sum() > 0
    assert model.preference.users.weight.grad.abs().sum() > 0
    optimizer.step()
    assert not torch.equal(before, model.preference.head.weight)
    assert float(model.preference.baseline) > 0  # the running loss baseline moved from 0


def test_the_relations_slot_holds_the_lines_of_the_shortest_paths(lkg_batch):
    settings, config, batch = lkg_batch
    model = build_model(settings, replace(config, path_select="shortest"), None).eval()
    tokens, _ = model.relation_tokens(batch)
    embed = model.llm.get_input_embeddings()
    evidence = model.chosen_evidence(batch)
    for groups, fed, lines in zip(batch.path_groups, tokens, evidence, strict=True):
        shortest = [min(range(len(g.hops)), key=lambda n, g=g: (g.hops[n], n)) for g in groups]
        ids = [token for g, n in zip(groups, shortest, strict=True) for token in g.line_ids[n]]
        assert torch.equal(fed, embed(torch.tensor(ids)))
        assert lines == [g.lines[n] for g, n in zip(groups, shortest, strict=True)]


@pytest.mark.parametrize("select", ["learned", "shortest"])
def test_lkg_rag_trains_checkpoints_and_evaluates(tiny_setup, tmp_path, select):
    settings, root = tiny_setup
    config = tiny_config(root, f"lkg-{select}", method="lkg-rag", path_select=select, epochs=1)
    summary = launch_training(settings, config)
    assert summary["evaluations"] == 1
    saved = torch.load(config.run_dir / "checkpoints" / "best" / "graph_modules.pt", weights_only=True)
    assert ("preference" in saved) == (select == "learned")
    report, _ = evaluate_run(config.run_dir, settings, "test", "best", tmp_path / "eval", 0, None)
    assert report["samples"] > 0 and 0.0 <= report["metrics"]["acc"] <= 1.0
    rows = [json.loads(line) for line in (tmp_path / "eval" / "predictions.jsonl").read_text().splitlines()]
    assert any(row["evidence"] for row in rows)  # the chosen paths' lines, one per history item with a path
    for row in rows:
        assert len(row["evidence"]) <= settings.history
        # completion prompt: the history is an unnumbered list, so a path starts at the title itself, and (title
        # answers) ends at the candidate's title, not at a letter the prompt never shows
        assert all(re.fullmatch(r"[^(].* -> .+", line) for line in row["evidence"])
        assert not any(re.search(r" -> \([A-Z]\) ", line) for line in row["evidence"])
    explained = recommend(config.run_dir, settings, RecommendRequest(rows[0]["user"], top=3, explain=True))
    assert explained.fed == "paths" and explained.paths == rows[0]["evidence"]
