"""GraphLLM: projected sub-graph vectors inserted as soft prompt tokens; one forward pass scores the option letters."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from peft import LoraConfig, get_peft_model
from torch import nn
from transformers import PreTrainedModel

from kragrec.models.graph_encoder import GraphEncoder, Projector
from kragrec.paths.preference import PathGroup

SOFT_TOKEN_MODES = ("per-graph", "mean")
SOFT_NORMS = ("embedding", "none")  # soft tokens rescaled to the LLM's mean token-embedding norm, or left as projected
LLM_MODES = ("frozen", "lora")
# Cross-entropy of the answer letter against the whole vocabulary (the papers' language-model loss, default), or
# against the candidates' letters only (the verbalizer's softmax).
ANSWER_LOSSES = ("vocab", "letters")


@dataclass
class ModelBatch:
    """A collated batch: prompt pieces, all sub-graphs flattened, which sample owns each, labels."""

    before: list[torch.Tensor]
    after: list[torch.Tensor]
    x: torch.Tensor
    edge_index: torch.Tensor
    edge_attr: torch.Tensor
    node_graph: torch.Tensor
    graph_owner: torch.Tensor
    labels: torch.Tensor
    num_candidates: int
    users: torch.Tensor | None = None  # user indices, for methods that choose relation paths per user
    path_groups: list[list[PathGroup]] | None = None  # per sample, the candidate paths of each history item

    @property
    def size(self) -> int:
        """Number of samples."""
        return len(self.before)


@dataclass(frozen=True)
class LoraSettings:
    """peft LoRA hyper-parameters (paper Table 4: r 8, alpha 16, dropout 0.1 on q_proj/v_proj)."""

    r: int = 8
    alpha: int = 16
    dropout: float = 0.1
    targets: tuple[str, ...] = ("q_proj", "v_proj")


class GraphLLM(nn.Module):
    """LLM (frozen or LoRA) + graph encoder + projector; the encoder is absent for methods without KG tokens."""

    def __init__(
        self,
        llm: PreTrainedModel,
        letter_ids: list[int],
        encoder: GraphEncoder | None,
        projector: Projector | None,
        llm_mode: str = "frozen",
        soft_tokens: str = "per-graph",
        lora: LoraSettings | None = None,
        soft_norm: str = "embedding",
        answer_loss: str = "vocab",
    ) -> None:
        super().__init__()
        if llm_mode not in LLM_MODES or soft_tokens not in SOFT_TOKEN_MODES or soft_norm not in SOFT_NORMS:
            raise ValueError(f"llm_mode {llm_mode!r} / soft_tokens {soft_tokens!r} / soft_norm {soft_norm!r}")
        if answer_loss not in ANSWER_LOSSES:
            raise ValueError(f"answer_loss {answer_loss!r}")
        self.answer_loss = answer_loss
        llm.requires_grad_(False)
        weights = llm.get_input_embeddings().weight
        rescale = soft_norm == "embedding" and encoder is not None
        self.soft_token_norm = float(weights.detach().float().norm(dim=1).mean()) if rescale else None
        if llm_mode == "lora":
            lora = lora or LoraSettings()
            config = LoraConfig(
                r=lora.r,
                lora_alpha=lora.alpha,
                lora_dropout=lora.dropout,
                target_modules=list(lora.targets),
                bias="none",
                task_type="CAUSAL_LM",
            )
            llm = get_peft_model(llm, config)
        self.llm = llm
        self.encoder = encoder
        self.projector = projector
        self.soft_tokens = soft_tokens
        self.llm_mode = llm_mode
        self.register_buffer("letter_ids", torch.tensor(letter_ids, dtype=torch.long), persistent=False)

    @property
    def input_device(self) -> torch.device:
        """Where batches go: the device of the LLM's input embeddings (a sharded LLM's first layers)."""
        return self._embeddings().weight.device

    def graph_tokens(self, batch: ModelBatch) -> list[torch.Tensor]:
        """Soft tokens per sample: one per sub-graph, their mean, or none when the sample has no sub-graph.

        With soft_norm "embedding" every token is rescaled to the mean norm of the LLM's token embeddings, so the
        projector sets only its direction (unscaled, projected tokens grow ~50x larger than words and drown them).
        """
        empty = self._embeddings().weight.new_zeros((0, self._embeddings().embedding_dim))
        if self.encoder is None or self.projector is None or batch.graph_owner.numel() == 0:
            return [empty] * batch.size
        pooled = self.encoder(batch.x, batch.edge_index, batch.edge_attr, batch.node_graph, batch.graph_owner.numel())
        projected = self.projector(pooled).to(empty.dtype)
        tokens = []
        for sample in range(batch.size):
            mine = projected[batch.graph_owner == sample]
            if self.soft_tokens == "mean" and len(mine):
                mine = mine.mean(dim=0, keepdim=True)
            if self.soft_token_norm is not None:
                mine = mine * (self.soft_token_norm / mine.norm(dim=1, keepdim=True).clamp_min(1e-6))
            tokens.append(mine)
        return tokens

    def chosen_evidence(self, batch: ModelBatch) -> list[list[str]] | None:
        """Evidence the model itself picks per sample; None when it reads all it is given (the samples' evidence)."""
        return None

    def trained_modules(self) -> dict[str, nn.Module]:
        """The modules trained beside the LLM's adapter, by checkpoint name."""
        parts = (("encoder", self.encoder), ("projector", self.projector))
        return {name: module for name, module in parts if module is not None}

    def last_logits(self, batch: ModelBatch, soft: list[torch.Tensor] | None = None) -> torch.Tensor:
        """Vocabulary logits at the answer position of every sample: [batch, vocab].

        `soft` are the embeddings that fill each prompt's slot; by default the projected sub-graph tokens.
        """
        embed = self._embeddings()
        soft = self.graph_tokens(batch) if soft is None else soft
        device = embed.weight.device
        rows = [
            torch.cat([embed(before.to(device)), tokens, embed(after.to(device))])
            for before, tokens, after in zip(batch.before, soft, batch.after, strict=True)
        ]
        width = max(len(row) for row in rows)
        pad = embed.weight.new_zeros((1, embed.embedding_dim))
        inputs = torch.stack([torch.cat([pad.expand(width - len(row), -1), row]) for row in rows])
        mask = torch.stack(
            [
                torch.cat([torch.zeros(width - len(row), dtype=torch.long), torch.ones(len(row), dtype=torch.long)])
                for row in rows
            ]
        ).to(device)
        positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
        output = self.llm(inputs_embeds=inputs, attention_mask=mask, position_ids=positions, logits_to_keep=1)
        return output.logits[:, -1, :].float()

    def forward(self, batch: ModelBatch) -> torch.Tensor:
        """The training loss (forward is what data-parallel wrappers synchronise gradients through)."""
        return self.loss(batch)

    def scores(self, batch: ModelBatch) -> torch.Tensor:
        """Logits of the candidates' letters, exactly the label token ids: [batch, candidates]."""
        logits = self.last_logits(batch)
        return logits[:, self.letter_ids[: batch.num_candidates].to(logits.device)]

    def loss(self, batch: ModelBatch) -> torch.Tensor:
        """Cross-entropy of the answer letter only (against the candidates' letters or the whole vocabulary)."""
        return self.sample_losses(self.last_logits(batch), batch).mean()

    def sample_losses(self, logits: torch.Tensor, batch: ModelBatch) -> torch.Tensor:
        """Per-sample cross-entropy of the answer letter (logits on the last layer's device when sharded)."""
        labels = batch.labels.to(logits.device)
        if self.answer_loss == "letters":
            letters = self.letter_ids[: batch.num_candidates].to(logits.device)
            return nn.functional.cross_entropy(logits[:, letters], labels, reduction="none")
        return nn.functional.cross_entropy(logits, self.letter_ids.to(logits.device)[labels], reduction="none")

    def _embeddings(self) -> nn.Embedding:
        return self.llm.get_input_embeddings()
