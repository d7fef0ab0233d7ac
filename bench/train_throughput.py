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

from kragrec.config import Settings
from kragrec.models.collate import collate
from kragrec.training.config import TrainConfig
from kragrec.training.dataset import PromptDataset
from kragrec.training.trainer import build_model, prepare_training_data


def matmul_peak(dtype: torch.dtype, size: int = 2048, repeats: int = 5) -> float:
    """Best FLOP/s of a square matmul in this dtype, measured now."""
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    a @ b  # warm-up
    best = 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        a @ b
        best = max(best, 2 * size**3 / (time.perf_counter() - started))
    return best


def measure(settings: Settings, config: TrainConfig, data, steps: int) -> tuple[float, float]:
    """samples/s and FLOP/s estimate of `steps` optimizer steps after one warm-up step."""
    model = build_model(settings, config, data.features).train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.lr)
    dataset = PromptDataset(data.train, data.features, settings.candidates)
    batches = [collate([dataset[i] for i in range(n, n + config.batch_size)]) for n in range(0, steps + 1)]
    embedding = model.llm.get_input_embeddings().weight.numel()
    llm_parameters = sum(p.numel() for p in model.llm.parameters() if p.ndim > 0) - embedding
    tokens = 0
    started = 0.0
    for n, batch in enumerate(batches):
        if n == 1:
            started = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bf16):
            loss = model.loss(batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if n >= 1:
            tokens += sum(len(b) + len(a) for b, a in zip(batch.before, batch.after, strict=True))
    seconds = time.perf_counter() - started
    return steps * config.batch_size / seconds, 4 * llm_parameters * tokens / seconds


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
