"""GraphLLM: projected sub-graph vectors inserted as soft prompt tokens; one pass scores the candidates.

Answer heads: "title" scores each candidate by the mean log-probability of its title tokens (and end marker) after
the prompt; the prompt runs once and the candidates' titles attend to its cached keys and values. "letter" scores
the candidates' letters at the answer position (the papers' verbalizer). Either way the scores and their
log-softmax are computed in fp32 from the last hidden states, whatever precision the transformer body runs in:
bf16 logits near 30 are rounded to steps of 0.125-0.25 and tie distinct candidates.
"""

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
    option_ids: torch.Tensor | None = None  # title answer: [batch, candidates, length] answer tokens, right-padded
    option_mask: torch.Tensor | None = None  # 1 on real answer tokens
    users: torch.Tensor | None = None  # user indices, for methods that choose relation paths per user
    path_groups: list[list[PathGroup]] | None = None  # per sample, the candidate paths of each history item

    @property
    def size(self) -> int:
        """Number of samples."""
        return len(self.before)


@dataclass(frozen=True)
class TitleHead:
    """The title answer's training loss: listwise cross-entropy over the candidates' mean title log-probabilities
    times `scale`, plus `lm_weight` times the target title's language-model loss (its negative mean log-probability)."""

    scale: float = 1.0
    lm_weight: float = 0.0


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
        title_head: TitleHead | None = None,
    ) -> None:
        """`title_head` None: the letter answer, scored at `letter_ids`."""
        super().__init__()
        if llm_mode not in LLM_MODES or soft_tokens not in SOFT_TOKEN_MODES or soft_norm not in SOFT_NORMS:
            raise ValueError(f"llm_mode {llm_mode!r} / soft_tokens {soft_tokens!r} / soft_norm {soft_norm!r}")
        if answer_loss not in ANSWER_LOSSES:
            raise ValueError(f"answer_loss {answer_loss!r}")
        self.answer_loss = answer_loss
        self.title_head = title_head
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

    def _prompt_inputs(
        self, batch: ModelBatch, soft: list[torch.Tensor] | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Left-padded prompt embeddings with each sample's soft tokens in its slot; attention mask; positions.

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
        return inputs, mask, positions

    def fp32_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Vocabulary logits of hidden states, computed in fp32 outside any autocast (exact scores to rank by)."""
        head = self.llm.get_output_embeddings()
        with torch.autocast(hidden.device.type, enabled=False):
            hidden = hidden.to(head.weight.device).float()
            bias = None if head.bias is None else head.bias.float()
            return nn.functional.linear(hidden, head.weight.float(), bias)

    def last_logits(self, batch: ModelBatch, soft: list[torch.Tensor] | None = None) -> torch.Tensor:
        """Vocabulary logits at the answer position of every sample, in fp32: [batch, vocab]."""
        inputs, mask, positions = self._prompt_inputs(batch, soft)
        hidden = self.llm.get_decoder()(inputs_embeds=inputs, attention_mask=mask, position_ids=positions)
        return self.fp32_logits(hidden.last_hidden_state[:, -1, :])

    def title_log_probs(self, batch: ModelBatch, soft: list[torch.Tensor] | None = None) -> torch.Tensor:
        """Mean log-probability of every candidate's answer tokens after its sample's prompt: [batch, candidates].

        The prompt runs once per sample; its keys and values are repeated for the M candidates, whose answer tokens
        then run together, attending to the prompt and to their own earlier tokens (the same numbers as M separate
        passes of prompt + answer).
        """
        assert batch.option_ids is not None and batch.option_mask is not None
        decoder = self.llm.get_decoder()
        inputs, mask, positions = self._prompt_inputs(batch, soft)
        prompt = decoder(inputs_embeds=inputs, attention_mask=mask, position_ids=positions, use_cache=True)
        count, length = batch.option_ids.shape[1:]
        cache = prompt.past_key_values
        cache.batch_repeat_interleave(count)
        device = inputs.device
        option_ids = batch.option_ids.to(device).flatten(0, 1)  # [batch * M, length]
        option_mask = batch.option_mask.to(device).flatten(0, 1)
        prompt_lengths = mask.sum(dim=1).repeat_interleave(count)
        answers = decoder(
            input_ids=option_ids,
            attention_mask=torch.cat([mask.repeat_interleave(count, dim=0), option_mask], dim=1),
            position_ids=prompt_lengths[:, None] + torch.arange(length, device=device),
            past_key_values=cache,
        ).last_hidden_state
        # the prompt's last state predicts each answer's first token, an answer token's state the next one
        predictors = torch.cat(
            [prompt.last_hidden_state[:, -1:, :].repeat_interleave(count, dim=0), answers[:, :-1, :]], dim=1
        )
        logits = self.fp32_logits(predictors)
        token_log_probs = -nn.functional.cross_entropy(
            logits.flatten(0, 1), option_ids.to(logits.device).flatten(), reduction="none"
        ).view(option_ids.shape)
        weights = option_mask.to(logits.device).float()
        means = (token_log_probs * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1.0)
        return means.view(-1, count)

    def forward(self, batch: ModelBatch) -> torch.Tensor:
        """The training loss (forward is what data-parallel wrappers synchronise gradients through)."""
        return self.loss(batch)

    def scores(self, batch: ModelBatch, soft: list[torch.Tensor] | None = None) -> torch.Tensor:
        """fp32 score of every candidate, higher is better: [batch, candidates]. Title answer: the mean
        log-probability of its title; letter answer: the logit of its letter, exactly the label token id."""
        if self.title_head is not None:
            return self.title_log_probs(batch, soft)
        logits = self.last_logits(batch, soft)
        return logits[:, self.letter_ids[: batch.num_candidates].to(logits.device)]

    def loss(self, batch: ModelBatch) -> torch.Tensor:
        """The answer's cross-entropy (see sample_losses), averaged over the batch."""
        return self.sample_losses(batch).mean()

    def sample_losses(self, batch: ModelBatch, soft: list[torch.Tensor] | None = None) -> torch.Tensor:
        """Per-sample loss (on the last layer's device when sharded). Title answer: listwise cross-entropy of the
        scaled title scores, plus the weighted language-model loss of the target title. Letter answer: cross-entropy
        of the answer letter against the candidates' letters or the whole vocabulary."""
        if self.title_head is not None:
            scores = self.title_log_probs(batch, soft)
            labels = batch.labels.to(scores.device)
            losses = nn.functional.cross_entropy(scores * self.title_head.scale, labels, reduction="none")
            return losses - self.title_head.lm_weight * scores.gather(1, labels[:, None]).squeeze(1)
        logits = self.last_logits(batch, soft)
        labels = batch.labels.to(logits.device)
        if self.answer_loss == "letters":
            letters = self.letter_ids[: batch.num_candidates].to(logits.device)
            return nn.functional.cross_entropy(logits[:, letters], labels, reduction="none")
        return nn.functional.cross_entropy(logits, self.letter_ids.to(logits.device)[labels], reduction="none")

    def _embeddings(self) -> nn.Embedding:
        return self.llm.get_input_embeddings()
