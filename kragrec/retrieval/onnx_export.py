"""Export a sentence encoder to ONNX for the query-time encoder (query_encoder.py): the torch model with masked mean
pooling and L2 normalisation, traced once, and its fast tokenizer with the torch encoder's truncation and padding."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer

from kragrec.files import replace_dir_atomically
from kragrec.retrieval.encoder import load_text_encoder, mean_pool
from kragrec.retrieval.query_encoder import INPUTS, MODEL_FILE, RECORD_FILE, TOKENIZER_FILE

EXAMPLE_TEXTS = ["a query", "a longer query, so that the example batch is padded"]


class PooledEncoder(torch.nn.Module):
    """Token ids and mask → unit sentence vectors, as TextEncoder.encode computes them."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return mean_pool(hidden, attention_mask)


def export_encoder(name: str, cache_dir: Path, folder: Path, record: dict[str, Any]) -> None:
    """Write model.onnx, tokenizer.json and the export record into `folder`, replacing it atomically."""
    encoder = load_text_encoder(name, cache_dir)
    hf_tokenizer = encoder.tokenizer
    example = hf_tokenizer(EXAMPLE_TEXTS, padding=True, return_tensors="pt")
    with replace_dir_atomically(folder) as staging, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shape-dependent branches, which pooling never takes
        torch.onnx.export(
            PooledEncoder(encoder.model).eval(),
            tuple(example[key] for key in INPUTS),
            str(staging / MODEL_FILE),
            input_names=list(INPUTS),
            output_names=["embedding"],
            dynamic_axes={**{key: {0: "batch", 1: "tokens"} for key in INPUTS}, "embedding": {0: "batch"}},
            dynamo=False,
        )
        tokenizer = Tokenizer.from_str(hf_tokenizer.backend_tokenizer.to_str())
        tokenizer.enable_truncation(encoder.max_tokens)
        tokenizer.enable_padding(
            direction=hf_tokenizer.padding_side, pad_id=hf_tokenizer.pad_token_id, pad_token=hf_tokenizer.pad_token
        )
        tokenizer.save(str(staging / TOKENIZER_FILE))
        (staging / RECORD_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
