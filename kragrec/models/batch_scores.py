"""Score batches with a GraphLLM the one way validation and test share: no gradients, eval mode, the same autocast."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

import numpy as np
import torch
from lightning_utilities.core.apply_func import apply_to_collection

from kragrec.models.graph_llm import GraphLLM, ModelBatch


@torch.no_grad()
def scored_batches(
    model: GraphLLM, batches: Iterable[ModelBatch], bf16: bool
) -> Iterator[tuple[ModelBatch, np.ndarray]]:
    """Each batch (on the model's input device) with its fp32 candidate scores; the body under bf16 autocast when
    `bf16`, as in training. The model's train/eval mode is restored afterwards."""
    was_training = model.training
    model.eval()
    device = model.input_device
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    try:
        for batch in batches:
            moved = apply_to_collection(batch, torch.Tensor, torch.Tensor.to, device)
            with autocast:
                scores = model.scores(moved)
            yield moved, scores.float().cpu().numpy()
    finally:
        model.train(was_training)
