"""Training and scoring placed on a GPU, beside the same runs on the CPU; the CUDA cases skip without a GPU."""

from __future__ import annotations

import json
import math

import pytest
import torch
from typer.testing import CliRunner

from kragrec.cli import app
from kragrec.evaluation.evaluate import evaluate_run
from kragrec.training.trainer import launch_training

from conftest import tiny_config
from test_training import metric_lines, trained_tensors

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
ACCELERATORS = ["cpu", pytest.param("cuda", marks=requires_cuda)]


@pytest.mark.parametrize(
    ("method", "answer", "bf16"),
    [
        ("k-ragrec-lora", "title", False),
        ("k-ragrec-lora", "title", True),
        ("k-ragrec-lora", "letter", True),
        ("lkg-rag", "title", False),
        ("lkg-rag", "letter", False),
    ],
)
@pytest.mark.parametrize("accelerator", ACCELERATORS)
def test_the_logged_validation_is_what_eval_gives_for_the_best_checkpoint(
    tiny_setup, tmp_path, accelerator, method, answer, bf16
):
    settings, root = tiny_setup
    run_dir = root / f"logged-{method}-{answer}-{bf16}-{accelerator}"
    config = tiny_config(root, run_dir.name, accelerator=accelerator, method=method, answer=answer, bf16=bf16)
    summary = launch_training(settings, config)
    report, _ = evaluate_run(run_dir, settings, "valid", "best", tmp_path / "eval", limit=summary["valid_samples"])
    assert report["samples"] == summary["valid_samples"]
    assert report["metrics"] == pytest.approx(summary["best"]["valid"])


@requires_cuda
def test_one_gpu_trains_with_bf16_autocast_and_keeps_cpu_loadable_checkpoints(tiny_setup):
    settings, root = tiny_setup
    summary = launch_training(settings, tiny_config(root, "gpu-bf16", accelerator="cuda", bf16=True))
    losses = [line["loss"] for line in metric_lines(root / "gpu-bf16") if "loss" in line]
    assert len(losses) == 8 and all(math.isfinite(loss) for loss in losses)
    assert summary["evaluations"] == 2
    assert json.loads((root / "gpu-bf16" / "ranks.json").read_text())["world_size"] == 1
    assert all(tensor.device.type == "cpu" for tensor in trained_tensors(root / "gpu-bf16").values())


@requires_cuda
def test_train_gpus_1_runs_on_the_gpu_from_the_cli(tiny_setup):
    settings, root = tiny_setup
    run_dir = root / "cli-gpu"
    arguments = ["train", "--run-dir", str(run_dir), "--data-dir", str(settings.data_dir), "--dataset", "tiny"]
    arguments += ["--candidates", "10", "--llm", str(root / "tiny-llama"), "--max-train", "4", "--epochs", "1"]
    arguments += ["--gnn-hidden", "16", "--gnn-layers", "2", "--num-workers", "1", "--gpus", "1", "--bf16"]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    recorded = json.loads((run_dir / "config.json").read_text())["train"]
    assert (recorded["accelerator"], recorded["devices"], recorded["bf16"]) == ("cuda", 1, True)


@requires_cuda
@pytest.mark.parametrize("method", ["k-ragrec-lora", "lkg-rag"])
def test_shard_places_one_replica_with_accelerate_and_trains(tiny_setup, method):
    settings, root = tiny_setup
    run_dir = root / f"sharded-{method}"
    config = tiny_config(root, run_dir.name, epochs=1, accelerator="cuda", shard=True, method=method)
    summary = launch_training(settings, config)
    losses = [line["loss"] for line in metric_lines(run_dir) if "loss" in line]
    assert len(losses) == 4 and all(math.isfinite(loss) for loss in losses)
    assert summary["evaluations"] == 1
    learned_preferences = any(name.startswith("preference.") for name in trained_tensors(run_dir))
    assert learned_preferences == (method == "lkg-rag")


@requires_cuda
def test_resume_on_the_gpu_continues_where_the_killed_run_stopped(tiny_setup):
    settings, root = tiny_setup
    launch_training(settings, tiny_config(root, "gpu-whole", accelerator="cuda"))
    killed = tiny_config(root, "gpu-resumed", accelerator="cuda", stop_after_steps=5)
    launch_training(settings, killed)
    launch_training(settings, tiny_config(root, "gpu-resumed", accelerator="cuda"), resume=True)
    whole, resumed = metric_lines(root / "gpu-whole"), metric_lines(root / "gpu-resumed")
    # GPU scatter sums in the graph encoder are not bit-reproducible, so the runs agree up to rounding:
    # the same steps in the log, the same losses, and the same validations
    assert [line["step"] for line in resumed] == [line["step"] for line in whole]
    for ours, theirs in zip(resumed, whole, strict=True):
        if "loss" in theirs:
            assert ours["loss"] == pytest.approx(theirs["loss"], rel=1e-3)
        else:
            assert ours["valid"] == pytest.approx(theirs["valid"])
    assert trained_tensors(root / "gpu-resumed").keys() == trained_tensors(root / "gpu-whole").keys()
