"""Sentence embeddings: masked mean pooling over a transformer's last hidden state, L2-normalised."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase
from transformers.utils import logging as hf_logging

from kragrec.errors import KragrecError
from kragrec.progress import progress_bar
from kragrec.retrieval.encoder_source import encoder_location, is_offline

FALLBACK_MAX_TOKENS = 512


@dataclass
class TextEncoder:
    """A sentence encoder; `encode` returns float32 unit vectors, one row per text."""

    name: str
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    max_tokens: int

    @property
    def dim(self) -> int:
        """Width of the embeddings."""
        return int(self.model.config.hidden_size)

    @torch.inference_mode()
    def encode(self, texts: list[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        """Embed texts in batches of similar length (faster), returned in the input order."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with progress_bar(disable=not show_progress) as progress:
            task = progress.add_task("encode", total=len(texts))
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                batch = self.tokenizer(
                    [texts[i] for i in chunk],
                    padding=True,
                    truncation=True,
                    max_length=self.max_tokens,
                    return_tensors="pt",
                )
                hidden = self.model(**batch).last_hidden_state
                out[chunk] = mean_pool(hidden, batch["attention_mask"]).numpy()
                progress.advance(task, len(chunk))
        return out


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average the token vectors where mask is 1, then L2-normalise each row."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=1)


def _max_tokens(folder: Path, tokenizer: PreTrainedTokenizerBase) -> int:
    config = folder / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text())["max_seq_length"])
    limit = tokenizer.model_max_length
    return limit if isinstance(limit, int) and limit < 100_000 else FALLBACK_MAX_TOKENS


@contextmanager
def _no_weight_loading_bar() -> Iterator[None]:
    """A sentence encoder loads in well under a second; its weight-loading bar would only clutter stderr."""
    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if shown:
            hf_logging.enable_progress_bar()


def load_text_encoder(name: str, cache_dir: Path) -> TextEncoder:
    """Load a sentence-transformers-style encoder; the packaged default never touches a model hub."""
    location = encoder_location(name, cache_dir)
    offline = is_offline(name, location)
    if offline:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        tokenizer = AutoTokenizer.from_pretrained(location, local_files_only=offline)
        with _no_weight_loading_bar():
            model = AutoModel.from_pretrained(location, local_files_only=offline).eval()
    except OSError as error:
        raise KragrecError(f"cannot load encoder {name!r}: {str(error).splitlines()[0]}") from None
    max_tokens = _max_tokens(Path(location), tokenizer) if offline else FALLBACK_MAX_TOKENS
    return TextEncoder(name, model, tokenizer, max_tokens)
