"""Benchmark: GraphLLM training throughput on one GPU with a 7B-shaped, randomly initialised Llama.

The LLM has Llama-2-7B's shape (32 layers, hidden 4096, 32 heads, MLP 11008) with the vocabulary size of
the SmolLM2 tokenizer kragrec uses (49,152), random weights held in bf16 and bf16 autocast, as a 7B model is
trained on one card; speed does not depend on the weights' values. Batches are synthetic with the shape of
ML-100K's K-RagRec training samples (measured on 300 of them: 507 prompt tokens on average, 1.4 sub-graphs
of 5.4 nodes and 13.3 edges, 384-d node and relation vectors, 20 candidates). For frozen vs LoRA: samples/s,
tokens/s, peak GPU memory, and train_throughput.py's FLOP/s estimate as a share of a bf16 matmul peak
measured in the same run. One process: a second GPU would run a second replica (`kragrec train --gpus 2`).

Run on a GPU machine: python bench/train_throughput_gpu.py [--layers 32] [--steps 10] [--batch-size 4]
"""

from __future__ import annotations

import argparse

import torch
from torch_geometric.data import Data
from transformers import AutoModelForCausalLM, LlamaConfig

from kragrec.models.collate import EncodedSample, collate
from kragrec.models.graph_encoder import GraphEncoder, Projector
from kragrec.models.graph_llm import GraphLLM, ModelBatch
from kragrec.models.prompt import PromptTokens
from kragrec.training.config import TrainConfig

from train_throughput import matmul_peak, timed_steps

VOCAB = 49_152
CANDIDATES = 20
VECTOR_DIM = 384
ANSWER_TOKENS = 6  # the chat template's closing tokens after the graph slot and before the answer


def llama_7b_shape(layers: int) -> LlamaConfig:
    """Llama-2-7B's widths with `layers` decoder layers and SmolLM2's vocabulary size."""
    return LlamaConfig(
        vocab_size=VOCAB,
        hidden_size=4096,
        intermediate_size=11008,
        num_hidden_layers=layers,
        num_attention_heads=32,
        num_key_value_heads=32,
        max_position_embeddings=4096,
    )


def synthetic_batch(generator: torch.Generator, size: int, tokens: int, graph_counts: list[int]) -> ModelBatch:
    """`size` samples of `tokens` random prompt tokens, each with sub-graphs of ML-100K's average size."""
    samples = []
    for n in range(size):
        ids = torch.randint(VOCAB, (tokens,), generator=generator).tolist()
        graphs = [
            Data(
                x=torch.randn(5, VECTOR_DIM, generator=generator),
                edge_index=torch.randint(5, (2, 13), generator=generator),
                edge_attr=torch.randn(13, VECTOR_DIM, generator=generator),
            )
            for _ in range(graph_counts[n % len(graph_counts)])
        ]
        label = int(torch.randint(CANDIDATES, (1,), generator=generator))
        prompt = PromptTokens(ids[:-ANSWER_TOKENS], ids[-ANSWER_TOKENS:])
        samples.append(EncodedSample(prompt, graphs, label, CANDIDATES))
    return collate(samples)


def graph_llm(config: LlamaConfig, llm_mode: str) -> GraphLLM:
    """A randomly initialised LLM in bf16 on the GPU, with kragrec's default graph encoder and projector."""
    with torch.device("cuda"):
        llm = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
        hidden = TrainConfig.gnn_hidden  # the training defaults, as `kragrec train` builds the encoder
        encoder = GraphEncoder(VECTOR_DIM, VECTOR_DIM, hidden, TrainConfig.gnn_layers, TrainConfig.gnn_heads)
        projector = Projector(hidden, config.hidden_size)
        letters = list(range(100, 100 + CANDIDATES))
        return GraphLLM(llm, letters, encoder, projector, llm_mode).train()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--layers", type=int, default=32)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=507, help="prompt tokens per sample (ML-100K mean)")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("bench/train_throughput_gpu.py needs a CUDA GPU")
    generator = torch.Generator().manual_seed(0)
    graph_counts = [1, 1, 2, 1, 2]  # 1.4 sub-graphs per sample, as on ML-100K
    batches = [synthetic_batch(generator, args.batch_size, args.tokens, graph_counts) for _ in range(args.steps + 1)]
    peak = matmul_peak(torch.bfloat16, size=8192, repeats=10, device="cuda")
    print(f"device: {torch.cuda.get_device_name(0)}; bf16 matmul peak {peak / 1e12:.0f} TFLOP/s")
    config = llama_7b_shape(args.layers)
    print(f"LLM: {args.layers} layers x hidden 4096, bf16 weights + bf16 autocast; batch {args.batch_size}")
    print(f"{'mode':<8} {'samples/s':>10} {'tokens/s':>10} {'TFLOP/s':>8} {'of peak':>8} {'peak GPU GiB':>13}")
    for llm_mode in ("frozen", "lora"):
        torch.cuda.reset_peak_memory_stats()
        model = graph_llm(config, llm_mode)
        rate, flops = timed_steps(model, batches, bf16=True, device="cuda")
        memory = torch.cuda.max_memory_allocated() / 2**30
        print(
            f"{llm_mode:<8} {rate:>10.2f} {rate * args.tokens:>10.0f} {flops / 1e12:>8.1f} "
            f"{flops / peak:>8.1%} {memory:>13.1f}"
        )
        del model
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
