"""Benchmark: training throughput of the K-RagRec GraphLLM with SmolLM2 on this machine.

For frozen vs LoRA and fp32 vs bf16 autocast: samples/s over a fixed number of optimizer steps on
real ML-100K prompts with retrieved sub-graphs, the achieved FLOP/s as a share of a matmul peak
measured in the same run, and the process's peak RSS so far (it only grows, row after row).
FLOP/s is an estimate: 4 x non-embedding LLM parameters x prompt tokens per step (forward 2, backward
to the activations 2; the frozen weights get no gradient and LoRA's are negligible; the LM head runs
on the answer position only), ignoring attention scores and the small graph encoder.

Run: .venv/bin/python bench/train_throughput.py [--data-dir .kragrec] [--steps 6] [--batch-size 4]
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import torch
from lightning_fabric.utilities.apply_func import move_data_to_device

from kragrec.config import Settings
from kragrec.models.collate import collate
from kragrec.models.graph_llm import GraphLLM, ModelBatch
from kragrec.training.config import TrainConfig
from kragrec.training.dataset import PromptDataset
from kragrec.training.trainer import build_model, prepare_training_data


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


def non_embedding_parameters(model: GraphLLM) -> int:
    """Parameters of the LLM that every token passes through (all but the input embeddings)."""
    embedding = model.llm.get_input_embeddings().weight.numel()
    return sum(p.numel() for p in model.llm.parameters() if p.ndim > 0) - embedding


def timed_steps(model: GraphLLM, batches: list[ModelBatch], bf16: bool, device: str = "cpu") -> tuple[float, float]:
    """samples/s and FLOP/s estimate of one optimizer step per batch, the first batch a warm-up left out."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-5)
    samples = tokens = 0
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
            tokens += sum(len(b) + len(a) for b, a in zip(batch.before, batch.after, strict=True))
    synchronize(device)
    seconds = time.perf_counter() - started
    return samples / seconds, 4 * non_embedding_parameters(model) * tokens / seconds


def measure(settings: Settings, config: TrainConfig, data, steps: int) -> tuple[float, float]:
    """samples/s and FLOP/s estimate of `steps` optimizer steps after one warm-up step."""
    model = build_model(settings, config, data.features).train()
    dataset = PromptDataset(data.train, data.features, settings.candidates)
    size = config.batch_size
    batches = [collate([dataset[i] for i in range(n * size, (n + 1) * size)]) for n in range(steps + 1)]
    return timed_steps(model, batches, config.bf16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(".kragrec"))
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=4)
    args = parser.parse_args()
    settings = Settings(data_dir=args.data_dir)
    base = TrainConfig(
        run_dir=Path("/dev/null"), batch_size=args.batch_size, max_train=args.batch_size * (args.steps + 1), max_valid=1
    )
    data = prepare_training_data(settings, base)
    peaks = {False: matmul_peak(torch.float32), True: matmul_peak(torch.bfloat16)}
    print(f"matmul peak: fp32 {peaks[False] / 1e9:.1f} GFLOP/s, bf16 {peaks[True] / 1e9:.1f} GFLOP/s")
    print(f"{'mode':<8} {'precision':<10} {'samples/s':>10} {'GFLOP/s':>9} {'of peak':>8} {'peak RSS GiB':>13}")
    for llm_mode in ("frozen", "lora"):
        for bf16 in (False, True):
            config = TrainConfig(run_dir=base.run_dir, llm_mode=llm_mode, bf16=bf16, batch_size=args.batch_size)
            rate, flops = measure(settings, config, data, args.steps)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
            precision = "bf16-amp" if bf16 else "fp32"
            share = flops / peaks[bf16]
            print(f"{llm_mode:<8} {precision:<10} {rate:>10.2f} {flops / 1e9:>9.1f} {share:>8.1%} {rss:>13.2f}")


if __name__ == "__main__":
    main()
