"""GraphLLM: projected sub-graph vectors inserted as soft prompt tokens; one pass scores the candidates.

Answer heads: "title" scores each candidate by the mean log-probability of its title tokens (and end marker) after
the prompt; the prompt runs once, packed with the candidates' titles, which attend to it and to themselves. "letter"
scores the candidates' letters at the answer position (the papers' verbalizer). Either way the scores and their
log-softmax are computed in fp32 from the last hidden states, whatever precision the transformer body runs in:
bf16 logits near 30 are rounded to steps of 0.125-0.25 and tie distinct candidates.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from peft import LoraConfig, get_peft_model
from torch import nn
from transformers import PreTrainedModel

from kragrec.models.choices import ANSWER_LOSSES, LLM_MODES, SOFT_NORMS, SOFT_TOKEN_MODES
from kragrec.models.collab import CollabTokens
from kragrec.models.graph_encoder import GraphEncoder, Projector
from kragrec.models.path_preference import PathGroup
from kragrec.models.soft_norm import mean_token_norm, rescaled


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
    histories: list[tuple[str, ...]] | None = None  # per sample, its history's item ids (collaborative tokens)
    candidates: list[tuple[str, ...]] | None = None  # per sample, its candidates' item ids

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
        collab: CollabTokens | None = None,
    ) -> None:
        """`title_head` None: the letter answer, scored at `letter_ids`. `collab`: collaborative tokens in the slot
        (after any sub-graph tokens) and before each candidate's title (title answer only)."""
        super().__init__()
        if llm_mode not in LLM_MODES or soft_tokens not in SOFT_TOKEN_MODES or soft_norm not in SOFT_NORMS:
            raise ValueError(f"llm_mode {llm_mode!r} / soft_tokens {soft_tokens!r} / soft_norm {soft_norm!r}")
        if answer_loss not in ANSWER_LOSSES:
            raise ValueError(f"answer_loss {answer_loss!r}")
        if collab is not None and title_head is None:
            raise ValueError("collaborative tokens need the title answer")
        self.answer_loss = answer_loss
        self.title_head = title_head
        llm.requires_grad_(False)
        rescale = soft_norm == "embedding" and encoder is not None
        self.soft_token_norm = mean_token_norm(llm.get_input_embeddings()) if rescale else None
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
        self.collab = collab
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
                mine = rescaled(mine, self.soft_token_norm)
            tokens.append(mine)
        return tokens

    def chosen_evidence(self, batch: ModelBatch) -> list[list[str]] | None:
        """Evidence the model itself picks per sample; None when it reads all it is given (the samples' evidence)."""
        return None

    def trained_modules(self) -> dict[str, nn.Module]:
        """The modules trained beside the LLM's adapter, by checkpoint name."""
        parts = (("encoder", self.encoder), ("projector", self.projector), ("collab", self.collab))
        return {name: module for name, module in parts if module is not None}

    def slot_tokens(self, batch: ModelBatch) -> list[torch.Tensor]:
        """Each sample's soft tokens in the slot: its sub-graph tokens, then its history's collaborative tokens."""
        graph = self.graph_tokens(batch)
        if self.collab is None:
            return graph
        assert batch.histories is not None
        history = self.collab.history_tokens(batch.histories)
        return [torch.cat([g, h.to(g.dtype)]) for g, h in zip(graph, history, strict=True)]

    def _prompt_rows(self, batch: ModelBatch, soft: list[torch.Tensor] | None) -> list[torch.Tensor]:
        """Each sample's prompt embeddings with its soft tokens in the slot (by default slot_tokens)."""
        embed = self._embeddings()
        soft = self.slot_tokens(batch) if soft is None else soft
        device = embed.weight.device
        return [
            torch.cat([embed(before.to(device)), tokens, embed(after.to(device))])
            for before, tokens, after in zip(batch.before, soft, batch.after, strict=True)
        ]

    def fp32_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Vocabulary logits of hidden states, computed in fp32 outside any autocast (exact scores to rank by)."""
        head = self.llm.get_output_embeddings()
        with torch.autocast(hidden.device.type, enabled=False):
            hidden = hidden.to(head.weight.device).float()
            bias = None if head.bias is None else head.bias.float()
            return nn.functional.linear(hidden, head.weight.float(), bias)

    def last_logits(self, batch: ModelBatch, soft: list[torch.Tensor] | None = None) -> torch.Tensor:
        """Vocabulary logits at the answer position of every sample, in fp32: [batch, vocab]."""
        rows = self._prompt_rows(batch, soft)
        width = max(len(row) for row in rows)
        inputs = torch.stack([nn.functional.pad(row, (0, 0, width - len(row), 0)) for row in rows])  # left-padded
        mask = torch.stack([torch.arange(width, device=inputs.device) >= width - len(row) for row in rows]).long()
        positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
        hidden = self.llm.get_decoder()(inputs_embeds=inputs, attention_mask=mask, position_ids=positions)
        return self.fp32_logits(hidden.last_hidden_state[:, -1, :])

    def title_log_probs(self, batch: ModelBatch, soft: list[torch.Tensor] | None = None) -> torch.Tensor:
        """Mean log-probability of every candidate's answer tokens after its sample's prompt: [batch, candidates].

        One pass per sample over its prompt followed by all M answers, packed: a 4-D mask lets each answer token
        attend to the prompt and to the earlier tokens of its own answer only, and its positions continue the
        prompt's, so every answer is scored as if it alone followed the prompt (the same numbers as M passes).
        With collaborative tokens each answer starts with its candidate's token, which is read but not scored.
        """
        assert batch.option_ids is not None and batch.option_mask is not None
        embed = self._embeddings()
        prompts = self._prompt_rows(batch, soft)
        device = embed.weight.device
        option_ids, scored = batch.option_ids.to(device), batch.option_mask.to(device).bool()  # [batch, M, length]
        answers = embed(option_ids)
        if self.collab is not None:  # a leading slot per answer: the candidate's token
            assert batch.candidates is not None
            lead = self.collab.candidate_tokens(batch.candidates).to(device, answers.dtype)
            answers = torch.cat([lead[:, :, None], answers], dim=2)
            option_ids = nn.functional.pad(option_ids, (1, 0))
            scored = nn.functional.pad(scored, (1, 0))
            real = scored.clone()
            real[:, :, 0] = True
        else:
            real = scored
        lengths = real.sum(dim=2)
        prompt_lengths = torch.tensor([len(p) for p in prompts], device=device)
        # where each answer starts in its row, and the row position of every answer slot and of its predictor
        starts = prompt_lengths[:, None] + lengths.cumsum(dim=1) - lengths
        step = torch.arange(option_ids.shape[2], device=device)
        token_at = starts[:, :, None] + step
        predictor_at = torch.where(step == 0, prompt_lengths[:, None, None] - 1, token_at - 1)
        width = int((prompt_lengths + lengths.sum(dim=1)).max())
        segment = torch.full((len(prompts), width), -1, device=device)  # -1 padding, 0 prompt, m + 1 answer m
        positions = torch.zeros((len(prompts), width), dtype=torch.long, device=device)
        rows = []
        for sample, prompt in enumerate(prompts):
            mine = answers[sample][real[sample]]
            rows.append(nn.functional.pad(torch.cat([prompt, mine]), (0, 0, 0, width - len(prompt) - len(mine))))
            at = token_at[sample][real[sample]]
            segment[sample, : len(prompt)] = 0
            segment[sample, at] = real[sample].nonzero()[:, 0] + 1
            positions[sample, : len(prompt)] = torch.arange(len(prompt), device=device)
            positions[sample, at] = len(prompt) + step.expand_as(real[sample])[real[sample]]
        causal = torch.ones((width, width), dtype=torch.bool, device=device).tril()
        query, key = segment[:, :, None], segment[:, None, :]
        visible = causal & (key >= 0) & ((key == 0) | (key == query))
        visible |= torch.eye(width, dtype=torch.bool, device=device) & (query < 0)  # padding rows see themselves
        hidden = self.llm.get_decoder()(
            inputs_embeds=torch.stack(rows), attention_mask=visible[:, None], position_ids=positions
        ).last_hidden_state
        owner = torch.arange(len(prompts), device=device)[:, None, None].expand_as(scored)[scored]
        logits = self.fp32_logits(hidden[owner, predictor_at[scored]])
        token_log_probs = torch.zeros(scored.shape, device=logits.device)
        token_log_probs[scored.to(logits.device)] = -nn.functional.cross_entropy(
            logits, option_ids[scored].to(logits.device), reduction="none"
        )
        return token_log_probs.sum(dim=2) / scored.sum(dim=2).to(logits.device).clamp_min(1)

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
