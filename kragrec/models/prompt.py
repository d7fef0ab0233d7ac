"""Recommendation prompts: history and lettered candidates, a slot for graph soft tokens, the model's chat template."""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from transformers import PreTrainedTokenizerBase

from kragrec.errors import KragrecError

LETTERS = string.ascii_uppercase
GRAPH_SLOT = "\x00graph\x00"  # split point for soft tokens; never reaches the tokenizer


@dataclass(frozen=True)
class PromptTokens:
    """Token ids before and after the graph slot; soft tokens go between them."""

    before: list[int]
    after: list[int]


def recommendation_prompt(history: list[str], candidates: list[str], with_graph: bool, evidence_text: str = "") -> str:
    """The instruction of K-RagRec's movie template (paper Table 11), one history title and one option per line.

    Knowledge comes first: the slot for graph soft tokens, or retrieved triples written as text.
    Each option ends with its letter, written as the very token that is scored and used as the label, so the
    answer position can attend to the letter right after the title it has judged.
    """
    last = _last_letter(candidates)
    lines = [f"Knowledge graph evidence: {GRAPH_SLOT}"] if with_graph else []
    lines += [f"Knowledge graph evidence: {evidence_text}"] if evidence_text else []
    lines += [
        "Given the user's watching history, select a film that is most likely to interest the user from the options.",
        "Watching history:",
        *(f"- {title}" for title in history),
        "Options:",
        *(f"{title} ({LETTERS[n]})" for n, title in enumerate(candidates)),
        f"Select a movie from options A to {last} that the user is most likely to be interested in. "
        f"Answer with one letter from A to {last}.",
    ]
    return "\n".join(lines)


def llamarec_prompt(history: list[str], candidates: list[str], with_relations: bool) -> str:
    """LlamaRec's instruction and input, one title per line; LKG-RAG's Relations block holds the slot for path lines."""
    last = _last_letter(candidates)
    and_relations = " and the relations" if with_relations else ""
    lines = [
        f"Given user history in chronological order{and_relations}, recommend an item from the candidate pool "
        "with its index letter.",
        "User history:",
        *(f"({n}) {title}" for n, title in enumerate(history, start=1)),
        *([f"Relations:\n{GRAPH_SLOT}Candidate pool:"] if with_relations else ["Candidate pool:"]),
        *(f"({LETTERS[n]}) {title}" for n, title in enumerate(candidates)),
        f"Answer with the index letter of one candidate, from A to {last}.",
    ]
    return "\n".join(lines)


def _last_letter(candidates: list[str]) -> str:
    if len(candidates) > len(LETTERS):
        raise KragrecError(f"{len(candidates)} candidates: at most {len(LETTERS)} can be lettered")
    return LETTERS[len(candidates) - 1]


def prompt_tokens(tokenizer: PreTrainedTokenizerBase, prompt: str) -> PromptTokens:
    """Render the prompt with the model's chat template (plain text if it has none) and split at the graph slot."""
    if tokenizer.chat_template:
        messages: list[dict[str, Any]] = [{"role": "user", "content": prompt}]
        text = str(tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False))
        add_special = False
    else:
        text, add_special = f"{prompt}\nAnswer:", True
    before, _, after = text.partition(GRAPH_SLOT)
    before_ids = tokenizer(before, add_special_tokens=add_special)["input_ids"]
    after_ids = tokenizer(after, add_special_tokens=False)["input_ids"] if after else []
    return PromptTokens(list(before_ids), list(after_ids))


def letter_token_ids(tokenizer: PreTrainedTokenizerBase, count: int) -> list[int]:
    """The token id of each option letter, tokenized alone: the same ids are training labels and scores."""
    ids = []
    for letter in LETTERS[:count]:
        pieces = tokenizer(letter, add_special_tokens=False)["input_ids"]
        if len(pieces) != 1:
            raise KragrecError(f"the tokenizer splits option letter {letter!r} into {len(pieces)} tokens")
        ids.append(pieces[0])
    if len(set(ids)) != count:
        raise KragrecError("the tokenizer maps two option letters to the same token")
    return ids
