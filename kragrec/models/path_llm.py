"""PathLLM (LlamaRec-LKG-RAG): the chosen relation paths fill the prompt's Relations block; the choice is learned."""

from __future__ import annotations

import torch
from transformers import PreTrainedModel

from kragrec.models.graph_llm import GraphLLM, LoraSettings, ModelBatch
from kragrec.paths.preference import UserPreference, choose_paths


class PathLLM(GraphLLM):
    """LLM (LoRA or frozen) reading one selected path per history item; preferences None = shortest paths."""

    def __init__(
        self,
        llm: PreTrainedModel,
        letter_ids: list[int],
        preference: UserPreference | None,
        llm_mode: str = "lora",
        lora: LoraSettings | None = None,
    ) -> None:
        super().__init__(llm, letter_ids, None, None, llm_mode, lora=lora)
        self.preference = preference

    def trained_modules(self) -> dict[str, torch.nn.Module]:
        """The preference module, when paths are chosen by it."""
        return {"preference": self.preference} if self.preference is not None else {}

    def relation_tokens(self, batch: ModelBatch) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Embedded lines of the chosen paths per sample, and each sample's log-probability of its choices."""
        assert batch.path_groups is not None and batch.users is not None
        embed = self._embeddings()
        preferences = self.preference(batch.users.to(embed.weight.device)) if self.preference is not None else None
        tokens, log_probs = [], []
        for n, groups in enumerate(batch.path_groups):
            chosen, log_prob = choose_paths(groups, None if preferences is None else preferences[n], self.training)
            ids = [token for group, index in zip(groups, chosen, strict=True) for token in group.line_ids[index]]
            tokens.append(embed(torch.tensor(ids, dtype=torch.long, device=embed.weight.device)))
            log_probs.append(log_prob)
        return tokens, torch.stack(log_probs) if log_probs else embed.weight.new_zeros(0)

    def graph_tokens(self, batch: ModelBatch) -> list[torch.Tensor]:
        """The chosen paths' lines, in place of sub-graph tokens."""
        return self.relation_tokens(batch)[0]

    def loss(self, batch: ModelBatch) -> torch.Tensor:
        """Answer-letter cross-entropy; its REINFORCE term (value 0) carries the gradient to the preferences."""
        tokens, log_probs = self.relation_tokens(batch)
        losses = self.sample_losses(self.last_logits(batch, tokens), batch)
        if self.preference is None:
            return losses.mean()
        return losses.mean() + self.preference.reinforce(losses, log_probs.to(losses.device))
