"""Save and restore a GraphLLM's trained parts: peft adapters via save_pretrained, the other modules' state."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from peft import PeftModel, set_peft_model_state_dict

from kragrec.errors import KragrecError
from kragrec.models.graph_llm import GraphLLM
from kragrec.models.tensor_files import read_safetensors, read_torch_file

ADAPTER_DIR = "adapter"
ADAPTER_FILE = "adapter_model.safetensors"  # the name peft's save_pretrained gives the adapter's weights
GRAPH_FILE = "graph_modules.pt"


@dataclass(frozen=True)
class TrainedParts:
    """A checkpoint's trained weights, read (and so checked) before any model is built."""

    folder: Path
    adapter: dict[str, torch.Tensor] | None
    modules: dict[str, dict[str, torch.Tensor]]


def save_trained_parts(model: GraphLLM, folder: Path) -> None:
    """Write the LoRA adapter (if any) and the other trained modules' weights into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(model.llm, PeftModel):
        model.llm.save_pretrained(folder / ADAPTER_DIR)
    modules = model.trained_modules().items()
    # on the CPU, so a run trained on a GPU loads anywhere
    states = {name: {key: value.cpu() for key, value in module.state_dict().items()} for name, module in modules}
    torch.save(states, folder / GRAPH_FILE)


def read_trained_parts(folder: Path) -> TrainedParts:
    """What save_trained_parts wrote; a truncated or corrupt file is a one-line error."""
    adapter_file = folder / ADAPTER_DIR / ADAPTER_FILE
    adapter = read_safetensors(adapter_file) if adapter_file.exists() else None
    return TrainedParts(folder, adapter, read_torch_file(folder / GRAPH_FILE))


def load_trained_parts(model: GraphLLM, folder: Path) -> None:
    """Restore what save_trained_parts wrote into a model of the same architecture."""
    apply_trained_parts(model, read_trained_parts(folder))


def apply_trained_parts(model: GraphLLM, parts: TrainedParts) -> None:
    """Put read_trained_parts' weights into a model of the same architecture."""
    if isinstance(model.llm, PeftModel):
        if parts.adapter is None:
            raise KragrecError(f"{parts.folder}: no LoRA adapter in the checkpoint; retrain or pick another checkpoint")
        set_peft_model_state_dict(model.llm, parts.adapter)
    for name, module in model.trained_modules().items():
        module.load_state_dict(parts.modules[name])
