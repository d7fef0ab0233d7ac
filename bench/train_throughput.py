"""Benchmark: training and scoring throughput of the K-RagRec GraphLLM with SmolLM2 on this machine.

For both answer heads (title likelihood, letters), frozen vs LoRA and fp32 vs bf16 autocast (where the CPU multiplies
bf16 natively; an emulating CPU gets fp32 rows only, as `kragrec train --bf16` does there): training
samples/s over a fixed number of optimizer steps on real ML-100K prompts with retrieved sub-graphs,
then scoring samples/s (eval mode, no gradients, as `kragrec eval` scores); the achieved FLOP/s as a
share of a matmul peak measured in the same run, and the process's peak RSS so far (it only grows,
row after row). FLOP/s is an estimate: per token the LLM body costs 2 x its parameters forward and
2 x backward to the activations (the frozen weights get no gradient and LoRA's are negligible), the
LM head the same per scored position (one per sample for letters, every answer token for titles, in
fp32); attention scores and the small graph encoder are left out.

Run: .venv/bin/python bench/train_throughput.py [--data-dir .kragrec] [--steps 6] [--batch-size 4]
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import time
from pathlib import Path

import torch
from lightning_fabric.utilities.apply_func import move_data_to_device

from kragrec.config import Settings
from kragrec.models.batch_scores import scored_batches
from kragrec.models.collate import collate
from kragrec.models.graph_llm import GraphLLM, ModelBatch
from kragrec.models.precision import native_bf16
from kragrec.training.config import TrainConfig
from kragrec.training.dataset import PromptDataset
from kragrec.training.model_build import build_model
from kragrec.training.trainer import prepare_training_data


def matmul_peak(dtype: torch.dtype, size: int = 2048, repeats: int = 5, device: str = "cpu") -> float:
    """Best FLOP/s of a square matmul in this dtype on this device, measured now."""
    a = torch.randn(size, size, dtype=dtype, device=device)
    b = torch.randn(size, size, dtype=dtype, device=device)
    a @ b  # warm-up
    best = 0.0
    for _ in range(repeats):
        synchronize(device)
        started = time.perf_counter()
        a @ b
        synchronize(device)
        best = max(best, 2 * size**3 / (time.perf_counter() - started))
    return best


def synchronize(device: str) -> None:
    """Wait for the device's queued kernels (timings on a GPU are otherwise only launch times)."""
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def body_and_head_parameters(model: GraphLLM) -> tuple[int, int]:
    """Parameters every token passes through (all but the input embeddings and the LM head), and the LM head's."""
    embedding = model.llm.get_input_embeddings().weight
    head = model.llm.get_output_embeddings().weight
    everything = sum(p.numel() for p in model.llm.parameters() if p.ndim > 0)
    tied = head is embedding
    return everything - embedding.numel() - (0 if tied else head.numel()), head.numel()


def batch_flops(model: GraphLLM, batch: ModelBatch, passes: int) -> float:
    """Estimated FLOPs of `passes` matmul passes (forward 1, forward and backward 2) over a batch."""
    body, head = body_and_head_parameters(model)
    prompt = sum(len(b) + len(a) for b, a in zip(batch.before, batch.after, strict=True))
    answers = int(batch.option_mask.sum()) if batch.option_mask is not None else 0
    scored = answers if batch.option_mask is not None else batch.size
    return 2 * passes * (body * (prompt + answers) + head * scored)


def timed_steps(model: GraphLLM, batches: list[ModelBatch], bf16: bool, device: str = "cpu") -> tuple[float, float]:
    """samples/s and FLOP/s estimate of one optimizer step per batch, the first batch a warm-up left out."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-5)
    samples = flops = 0.0
    started = 0.0
    for n, batch in enumerate(batches):
        if n == 1:
            synchronize(device)
            started = time.perf_counter()
        with torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=bf16):
            loss = model.loss(move_data_to_device(batch, device))
        if loss.requires_grad:  # a frozen LLM with no sub-graph in the batch has nothing to train
            loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if n >= 1:
            samples += batch.size
            flops += batch_flops(model, batch, passes=2)
    synchronize(device)
    seconds = time.perf_counter() - started
    return samples / seconds, flops / seconds


def timed_scoring(model: GraphLLM, batches: list[ModelBatch], bf16: bool) -> tuple[float, float]:
    """samples/s and FLOP/s estimate of scoring the batches as `kragrec eval` does, the first a warm-up left out."""
    samples = flops = 0.0
    started = 0.0
    for n, (batch, _) in enumerate(scored_batches(model, batches, bf16)):
        if n == 0:
            started = time.perf_counter()  # the warm-up batch is scored by now
            continue
        samples += batch.size
        flops += batch_flops(model, batch, passes=1)
    seconds = time.perf_counter() - started
    return samples / seconds, flops / seconds


def measure(settings: Settings, config: TrainConfig, data, steps: int) -> tuple[float, float, float, float]:
    """Training samples/s and FLOP/s of `steps` optimizer steps after one warm-up step, then the same for scoring."""
    model = build_model(settings, config, data.features).train()
    dataset = PromptDataset(data.train, data.features)
    size = config.batch_size
    batches = [collate([dataset[i] for i in range(n * size, (n + 1) * size)]) for n in range(steps + 1)]
    train_rate, train_flops = timed_steps(model, batches, config.bf16)
    score_rate, score_flops = timed_scoring(model, batches, config.bf16)
    return train_rate, train_flops, score_rate, score_flops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(".kragrec"))
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=4)
    args = parser.parse_args()
    settings = Settings(data_dir=args.data_dir)
    peaks = {False: matmul_peak(torch.float32), True: matmul_peak(torch.bfloat16)}
    print(f"matmul peak: fp32 {peaks[False] / 1e9:.1f} GFLOP/s, bf16 {peaks[True] / 1e9:.1f} GFLOP/s")
    native = native_bf16("cpu")
    precisions = (False, True) if native else (False,)
    if not native:
        print("this CPU emulates bf16 (no oneDNN bf16 kernels): bf16 rows skipped, `kragrec train --bf16` uses fp32")
    header = f"{'answer':<7} {'mode':<7} {'precision':<9} {'train/s':>8} {'of peak':>8} {'score/s':>8} {'of peak':>8}"
    print(f"{header} {'peak RSS GiB':>13}")
    for answer in ("title", "letter"):
        base = TrainConfig(
            run_dir=Path("/dev/null"),
            answer=answer,
            batch_size=args.batch_size,
            max_train=args.batch_size * (args.steps + 1),
            max_valid=1,
        )
        data = prepare_training_data(settings, base)
        for llm_mode in ("frozen", "lora"):
            for bf16 in precisions:
                config = dataclasses.replace(base, llm_mode=llm_mode, bf16=bf16)
                train_rate, train_flops, score_rate, score_flops = measure(settings, config, data, args.steps)
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
                precision = "bf16-amp" if bf16 else "fp32"
                train_share, score_share = train_flops / peaks[bf16], score_flops / peaks[bf16]
                print(
                    f"{answer:<7} {llm_mode:<7} {precision:<9} {train_rate:>8.2f} {train_share:>8.1%} "
                    f"{score_rate:>8.2f} {score_share:>8.1%} {rss:>13.2f}"
                )


if __name__ == "__main__":
    main()
