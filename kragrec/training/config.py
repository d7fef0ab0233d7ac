"""Options of a training run (the retrieval and data options live in Settings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kragrec.models.llm import DEFAULT_LLM

METHODS = {"k-ragrec": True, "lora-no-kg": False}  # method -> whether the prompt gets KG soft tokens


@dataclass(frozen=True)
class TrainConfig:
    """Everything `kragrec train` takes besides Settings; defaults follow the paper where it says."""

    run_dir: Path
    method: str = "k-ragrec"
    llm: str = DEFAULT_LLM
    llm_mode: str = "lora"
    llm_dtype: str = "float32"
    soft_tokens: str = "per-graph"
    epochs: int = 3
    batch_size: int = 4
    grad_accum: int = 1
    lr: float = 1e-5
    weight_decay: float = 0.05
    betas: tuple[float, float] = (0.9, 0.95)
    warmup_ratio: float = 0.05
    clip: float = 1.0
    bf16: bool = False
    max_train: int | None = None
    max_valid: int | None = None
    val_every: int | None = None
    patience: int = 2
    checkpoint_every: int = 50
    num_workers: int = 1
    gnn_hidden: int = 1024
    gnn_layers: int = 4
    gnn_heads: int = 4
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.1
    lora_targets: str = "q_proj,v_proj"
    accelerator: str = "cpu"
    devices: int = 1
    shard: bool = False
    stop_after_steps: int | None = field(default=None, compare=False)

    @property
    def uses_graph(self) -> bool:
        """Whether this method feeds retrieved sub-graphs to the model."""
        return METHODS[self.method]
