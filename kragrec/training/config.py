"""Options of a training run (the retrieval and data options live in Settings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kragrec.errors import KragrecError
from kragrec.models.choices import ANSWER_LOSSES, DEFAULT_LLM, PATH_SELECTIONS, SOFT_NORMS, AnswerFormat


@dataclass(frozen=True)
class Method:
    """What a trainable method feeds the LLM, and the LLM mode it fixes (None: --llm-mode decides)."""

    evidence: str  # "graph": sub-graph soft tokens; "text": retrieved triples in the prompt; "paths"; "none"
    llm_mode: str | None
    prompt: str = "k-ragrec"  # or "llamarec": LlamaRec's instruction, and LKG-RAG's Relations block for paths


METHODS = {
    "k-ragrec": Method("graph", None),
    "k-ragrec-lora": Method("graph", "lora"),
    "k-ragrec-frozen": Method("graph", "frozen"),
    "lora-no-kg": Method("none", "lora"),
    "lora-kg-text": Method("text", "lora"),
    "llamarec": Method("none", "lora", "llamarec"),
    "lkg-rag": Method("paths", "lora", "llamarec"),
}


@dataclass(frozen=True)
class TrainConfig:
    """Everything `kragrec train` takes besides Settings; defaults follow the paper where it says."""

    run_dir: Path
    method: str = "k-ragrec"
    llm: str = DEFAULT_LLM
    llm_mode: str = "lora"
    llm_dtype: str = "float32"
    soft_tokens: str = "per-graph"
    soft_norm: str = "embedding"
    answer: str = "title"
    title_options: str = "hidden"
    title_prompt: str = "completion"
    title_scale: float = 1.0
    lm_weight: float = 0.0
    train_candidates: int | None = None
    answer_loss: str = "vocab"
    epochs: int = 3
    batch_size: int = 4
    grad_accum: int = 1
    lr: float = 1e-5
    graph_lr: float | None = None
    preference_lr: float | None = None
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
    path_select: str = "learned"
    user_dim: int = 128
    collab: str | None = None  # a trained sasrec run: its item embeddings as collaborative tokens (models/collab.py)
    stop_after_steps: int | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise KragrecError(f"--method {self.method!r}: trainable methods are {', '.join(METHODS)}")
        if self.soft_norm not in SOFT_NORMS:
            raise KragrecError(f"--soft-norm {self.soft_norm!r}: choose one of {', '.join(SOFT_NORMS)}")
        if self.answer_loss not in ANSWER_LOSSES:
            raise KragrecError(f"--answer-loss {self.answer_loss!r}: choose one of {', '.join(ANSWER_LOSSES)}")
        AnswerFormat(self.answer, self.title_options, self.title_prompt)  # refuses unknown values
        if self.train_candidates is not None and self.train_candidates < 2:
            raise KragrecError(f"--train-candidates {self.train_candidates}: need the target and at least 1 negative")
        if self.path_select not in PATH_SELECTIONS:
            raise KragrecError(f"--path-select {self.path_select!r}: choose one of {', '.join(PATH_SELECTIONS)}")
        if self.collab is not None and (self.answer != "title" or self.prompt != "k-ragrec"):
            raise KragrecError(
                f"--collab with --method {self.method} --answer {self.answer}: collaborative tokens need the title "
                "answer and a K-RagRec-family method (k-ragrec*, lora-no-kg, lora-kg-text)"
            )

    @property
    def answer_format(self) -> AnswerFormat:
        """How the model answers (title or letter), whether a title answer sees the candidates listed, and its
        prompt style (completion or chat)."""
        return AnswerFormat(self.answer, self.title_options, self.title_prompt)

    @property
    def evidence(self) -> str:
        """How retrieved knowledge reaches the model: graph, text or none."""
        return METHODS[self.method].evidence

    @property
    def uses_graph(self) -> bool:
        """Whether this method feeds retrieved sub-graphs to the model as soft tokens."""
        return self.evidence == "graph"

    @property
    def prompt(self) -> str:
        """The prompt template family of the method."""
        return METHODS[self.method].prompt

    @property
    def mode(self) -> str:
        """The LLM mode: fixed by the method, else --llm-mode."""
        return METHODS[self.method].llm_mode or self.llm_mode
