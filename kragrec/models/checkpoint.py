"""Save and restore a GraphLLM's trained parts: peft adapters via save_pretrained, the other modules' state."""

from __future__ import annotations

from pathlib import Path

import torch
from peft import PeftModel, set_peft_model_state_dict
from safetensors.torch import load_file

from kragrec.models.graph_llm import GraphLLM

ADAPTER_DIR = "adapter"
GRAPH_FILE = "graph_modules.pt"


def save_trained_parts(model: GraphLLM, folder: Path) -> None:
    """Write the LoRA adapter (if any) and the other trained modules' weights into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(model.llm, PeftModel):
        model.llm.save_pretrained(folder / ADAPTER_DIR)
    modules = model.trained_modules().items()
    # on the CPU, so a run trained on a GPU loads anywhere
    states = {name: {key: value.cpu() for key, value in module.state_dict().items()} for name, module in modules}
    torch.save(states, folder / GRAPH_FILE)


def load_trained_parts(model: GraphLLM, folder: Path) -> None:
    """Restore what save_trained_parts wrote into a model of the same architecture."""
    if isinstance(model.llm, PeftModel):
        adapter = load_file(folder / ADAPTER_DIR / "adapter_model.safetensors")
        set_peft_model_state_dict(model.llm, adapter)
    graph_state = torch.load(folder / GRAPH_FILE, map_location="cpu", weights_only=True)
    for name, module in model.trained_modules().items():
        module.load_state_dict(graph_state[name])
