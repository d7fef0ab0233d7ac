"""Training on the tiny dataset with a tiny random Llama: learning, exact resume after a kill, CPU DDP with 2 ranks."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace

import pytest
import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from kragrec.cli import app
from kragrec.data.popularity import popularity_metrics
from kragrec.data.records import training_records
from kragrec.data.sample import Record
from kragrec.errors import KragrecError
from kragrec.models import precision
from kragrec.models.llm import load_tokenizer
from kragrec.models.prompt import PromptTokens
from kragrec.training.config import TrainConfig
from kragrec.training.model_build import build_model
from kragrec.training.samples import PromptSample
from kragrec.training.trainer import launch_training, parameter_groups, prepare_training_data

from conftest import tiny_config


def trained_tensors(run_dir) -> dict[str, torch.Tensor]:
    folder = run_dir / "checkpoints" / "last"
    tensors = dict(load_file(folder / "adapter" / "adapter_model.safetensors"))
    for module, state in torch.load(folder / "graph_modules.pt", weights_only=True).items():
        tensors.update({f"{module}.{k}": v for k, v in state.items()})
    return tensors


def metric_lines(run_dir) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_training_logs_losses_validates_and_keeps_the_best(tiny_setup):
    settings, root = tiny_setup
    summary = launch_training(settings, tiny_config(root, "plain"))
    lines = metric_lines(root / "plain")
    losses = [line["loss"] for line in lines if "loss" in line]
    assert len(losses) == 8  # 2 epochs x 4 steps of 2 samples
    assert summary["evaluations"] == 2 and 0 <= summary["best"]["valid"]["acc"] <= 1
    assert summary["references"]["chance"]["acc"] == pytest.approx(0.1)  # 10 candidates
    assert summary["valid_samples"] == 6 and 0 <= summary["references"]["popularity"]["acc"] <= 1
    assert (root / "plain" / "checkpoints" / "best" / "graph_modules.pt").is_file()
    recorded = json.loads((root / "plain" / "config.json").read_text())
    assert recorded["train"]["lr"] == 5e-3 and recorded["settings"]["dataset"] == "tiny"


def test_resume_after_a_kill_gives_the_weights_of_an_uninterrupted_run(tiny_setup):
    settings, root = tiny_setup
    launch_training(settings, tiny_config(root, "whole"))
    killed = tiny_config(root, "resumed", stop_after_steps=5)  # dies at step 5; last checkpoint at step 4
    launch_training(settings, killed)
    state = torch.load(root / "resumed" / "checkpoints" / "last" / "training_state.pt", weights_only=False)
    assert state["progress"]["step"] == 4
    summary = launch_training(settings, replace(killed, stop_after_steps=None), resume=True)
    whole, resumed = trained_tensors(root / "whole"), trained_tensors(root / "resumed")
    assert whole.keys() == resumed.keys()
    for name, tensor in whole.items():
        torch.testing.assert_close(resumed[name], tensor, atol=0, rtol=0, msg=name)

    # step 5 was trained twice; the log keeps one line per step, the same as the uninterrupted run's
    def without_timing(run_dir):
        timing = ("samples_per_s", "seconds")
        return [{k: v for k, v in line.items() if k not in timing} for line in metric_lines(run_dir)]

    assert without_timing(root / "resumed") == without_timing(root / "whole")
    # the training time goes on from the checkpoint's: both sessions count, the discarded step 5 does not;
    # every step and validation line carries it, so the last one includes the final validation
    seconds = [line["seconds"] for line in metric_lines(root / "resumed")]
    assert len(seconds) == 10 and all(a < b for a, b in itertools.pairwise(seconds))
    assert summary["train_seconds"] == seconds[-1] > seconds[3] > 0


def test_two_cpu_processes_train_data_parallel_with_identical_weights(tiny_setup):
    settings, root = tiny_setup
    launch_training(settings, tiny_config(root, "ddp", epochs=1, devices=2, accelerator="cpu"))
    ranks = json.loads((root / "ddp" / "ranks.json").read_text())
    assert ranks["world_size"] == 2
    assert ranks["identical"] is True
    steps = [line for line in metric_lines(root / "ddp") if "loss" in line]
    assert len(steps) == 2  # 8 samples over 2 ranks x 2 per batch


def test_popularity_reference_ranks_by_train_counts():
    tokens = PromptTokens([], [])
    samples = [
        PromptSample(Record("u", [], "b", ["a", "b", "c"]), tokens, [], 1),  # b is the most popular: rank 1
        PromptSample(Record("v", [], "c", ["a", "b", "c"]), tokens, [], 2),  # c is the least popular: rank 3
    ]
    metrics = popularity_metrics([s.record for s in samples], {"a": 5, "b": 9, "c": 1})
    assert metrics["acc"] == 0.5 and metrics["recall@3"] == 1.0
    assert metrics["mrr"] == pytest.approx((1 + 1 / 3) / 2)


def test_lora_adapts_the_chosen_modules(tiny_setup):
    settings, root = tiny_setup
    config = tiny_config(root, "targets", epochs=1, lora_targets="q_proj,k_proj,o_proj", lora_r=4, lora_alpha=8)
    launch_training(settings, config)
    adapted = {
        name.split(".lora_")[0].rsplit(".", 1)[-1] for name in trained_tensors(root / "targets") if "lora_" in name
    }
    assert adapted == {"q_proj", "k_proj", "o_proj"}
    adapter = json.loads((root / "targets" / "checkpoints" / "last" / "adapter" / "adapter_config.json").read_text())
    assert adapter["r"] == 4 and adapter["lora_alpha"] == 8


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"shard": True}, "--shard places one replica across all visible GPUs"),
        ({"shard": True, "accelerator": "cuda", "devices": 2}, "2 processes"),
        ({"devices": 0}, "--devices 0: need at least 1"),
    ],
)
def test_contradicting_device_options_are_refused_before_loading(tiny_setup, overrides, message):
    settings, root = tiny_setup
    with pytest.raises(KragrecError, match=message):
        launch_training(settings, tiny_config(root, "refused", **overrides))
    assert not (root / "refused").exists()


def test_cli_batch_size_is_the_training_batch(tiny_setup):
    settings, root = tiny_setup
    run_dir = root / "cli-batch"
    arguments = ["train", "--run-dir", str(run_dir), "--data-dir", str(settings.data_dir), "--dataset", "tiny"]
    arguments += ["--candidates", "10", "--llm", str(root / "tiny-llama"), "--batch-size", "3", "--max-train", "6"]
    arguments += ["--epochs", "1", "--gnn-hidden", "16", "--gnn-layers", "2", "--num-workers", "0"]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    recorded = json.loads((run_dir / "config.json").read_text())
    assert recorded["train"]["batch_size"] == 3 and recorded["settings"]["batch_size"] == 5000
    assert len([line for line in metric_lines(run_dir) if "loss" in line]) == 2  # 6 windows / 3 per step


def test_a_run_on_unprepared_lists_fails_before_touching_the_run_folder(tiny_setup):
    settings, root = tiny_setup
    with pytest.raises(KragrecError, match="not prepared"):
        launch_training(replace(settings, candidates=7), tiny_config(root, "unprepared"))
    assert not (root / "unprepared").exists()


def test_kg_text_method_writes_retrieved_triples_into_the_prompt(tiny_setup):
    settings, root = tiny_setup
    config = tiny_config(root, "kg-text", method="lora-kg-text")
    data = prepare_training_data(settings, config)
    tokenizer = load_tokenizer(config.llm, settings.cache_dir)
    with_evidence = [s for s in data.valid if s.evidence]
    assert with_evidence, "the tiny setup retrieves for some validation users"
    for sample in data.valid:
        text = tokenizer.decode(sample.tokens.before + sample.tokens.after)
        assert sample.subgraphs == []  # nothing goes in as soft tokens
        assert ("Knowledge graph evidence: (" in text) == bool(sample.evidence)


@pytest.mark.parametrize(
    ("method", "llm_mode", "expected"),
    [("k-ragrec", "frozen", "frozen"), ("k-ragrec-lora", "frozen", "lora"), ("k-ragrec-frozen", "lora", "frozen")],
)
def test_named_methods_fix_the_llm_mode(tiny_setup, method, llm_mode, expected):
    _, root = tiny_setup
    config = tiny_config(root, "modes", method=method, llm_mode=llm_mode)
    assert config.mode == expected and config.uses_graph


def test_unknown_method_is_refused():
    with pytest.raises(KragrecError, match="trainable methods are k-ragrec, k-ragrec-lora"):
        TrainConfig(run_dir=".", method="gpt")


def test_frozen_llm_trains_through_batches_without_any_subgraph(tiny_setup):
    settings, root = tiny_setup
    no_help = replace(settings, pop_threshold=0.0)  # no history item is rare enough: no sub-graph anywhere
    summary = launch_training(no_help, tiny_config(root, "frozen-empty", method="k-ragrec-frozen", epochs=1))
    assert summary["evaluations"] == 1
    assert len([line for line in metric_lines(root / "frozen-empty") if "loss" in line]) == 4


def test_trained_modules_take_their_own_learning_rates(tiny_setup):
    settings, root = tiny_setup
    config = tiny_config(root, "groups", method="k-ragrec-lora", lr=1e-4, graph_lr=3e-3)
    model = build_model(settings, config, prepare_training_data(settings, config).features)
    groups = {group["name"]: group for group in parameter_groups(model, config)}
    assert {name: group["lr"] for name, group in groups.items()} == {"llm": 1e-4, "encoder": 3e-3, "projector": 3e-3}
    grouped = [id(p) for group in groups.values() for p in group["params"]]
    assert sorted(grouped) == sorted(id(p) for p in model.parameters() if p.requires_grad)  # each exactly once
    assert all("lora_" in name for name, p in model.llm.named_parameters() if id(p) in map(id, groups["llm"]["params"]))


def test_training_windows_take_the_target_and_fewer_sampled_negatives(tiny_setup):
    settings, _ = tiny_setup
    full, fewer = training_records(settings, 8), training_records(settings, 8, candidates=4)
    assert [len(r.candidates) for r in full] == [settings.candidates] * 8
    assert [len(r.candidates) for r in fewer] == [4] * 8
    assert all(r.target in r.candidates and r.label >= 0 for r in fewer)
    assert [(r.user, r.target) for r in full] == [(r.user, r.target) for r in fewer]  # the same windows


@pytest.mark.parametrize("native", [False, True], ids=["emulated", "native"])
def test_bf16_autocast_runs_only_where_the_device_multiplies_bf16_natively(tiny_setup, monkeypatch, capsys, native):
    """Emulated bf16 (an AVX2 CPU) trained K-RagRec 14x slower than fp32: there --bf16 falls back to fp32, says so on
    stderr, and the run's config records the precision it trained in."""
    settings, root = tiny_setup
    monkeypatch.setattr(precision, "native_bf16", lambda device_type: native)
    config = tiny_config(root, f"bf16-{native}", bf16=True, epochs=1, max_train=4, max_valid=2)
    launch_training(settings, config)
    recorded = json.loads((config.run_dir / "config.json").read_text())["train"]
    assert recorded["bf16"] is native
    assert ("--bf16 off" in capsys.readouterr().err) is not native
