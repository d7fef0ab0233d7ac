"""PathLLM (LlamaRec-LKG-RAG): the chosen relation paths fill the prompt's Relations block; the choice is learned."""

from __future__ import annotations

import torch
from transformers import PreTrainedModel

from kragrec.models.graph_llm import GraphLLM, LoraSettings, ModelBatch, TitleHead
from kragrec.models.path_preference import UserPreference, choose_paths


class PathLLM(GraphLLM):
    """LLM (LoRA or frozen) reading one selected path per history item; preferences None = shortest paths."""

    def __init__(
        self,
        llm: PreTrainedModel,
        letter_ids: list[int],
        preference: UserPreference | None,
        llm_mode: str = "lora",
        lora: LoraSettings | None = None,
        answer_loss: str = "vocab",
        title_head: TitleHead | None = None,
    ) -> None:
        super().__init__(
            llm, letter_ids, None, None, llm_mode, lora=lora, answer_loss=answer_loss, title_head=title_head
        )
        self.preference = preference

    def trained_modules(self) -> dict[str, torch.nn.Module]:
        """The preference module, when paths are chosen by it."""
        return {"preference": self.preference} if self.preference is not None else {}

    def _choices(self, batch: ModelBatch) -> list[tuple[list[int], torch.Tensor]]:
        """Per sample: the chosen path of every history item (sampled in training) and their log-probability."""
        assert batch.path_groups is not None and batch.users is not None
        device = self._embeddings().weight.device
        preferences = self.preference(batch.users.to(device)) if self.preference is not None else None
        return [
            choose_paths(groups, None if preferences is None else preferences[n], self.training)
            for n, groups in enumerate(batch.path_groups)
        ]

    def relation_tokens(self, batch: ModelBatch) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Embedded lines of the chosen paths per sample, and each sample's log-probability of its choices."""
        embed = self._embeddings()
        tokens, log_probs = [], []
        for groups, (chosen, log_prob) in zip(batch.path_groups or [], self._choices(batch), strict=True):
            ids = [token for group, index in zip(groups, chosen, strict=True) for token in group.line_ids[index]]
            tokens.append(embed(torch.tensor(ids, dtype=torch.long, device=embed.weight.device)))
            log_probs.append(log_prob)
        return tokens, torch.stack(log_probs) if log_probs else embed.weight.new_zeros(0)

    def chosen_evidence(self, batch: ModelBatch) -> list[list[str]] | None:
        """The prompt lines of the paths chosen for every sample (deterministic in eval mode)."""
        return [
            [group.lines[index] for group, index in zip(groups, chosen, strict=True)]
            for groups, (chosen, _) in zip(batch.path_groups or [], self._choices(batch), strict=True)
        ]

    def graph_tokens(self, batch: ModelBatch) -> list[torch.Tensor]:
        """The chosen paths' lines, in place of sub-graph tokens."""
        return self.relation_tokens(batch)[0]

    def loss(self, batch: ModelBatch) -> torch.Tensor:
        """The answer's cross-entropy; its REINFORCE term (value 0) carries the gradient to the preferences."""
        tokens, log_probs = self.relation_tokens(batch)
        losses = self.sample_losses(batch, tokens)
        if self.preference is None:
            return losses.mean()
        return losses.mean() + self.preference.reinforce(losses, log_probs.to(losses.device))
