"""Recommendation prompts: history, candidates, a slot for graph soft tokens, the model's chat template.

Two answer heads read them. "title" (default): the candidates are scored by the likelihood of their titles as the
answer, so the prompt ends with the history (the candidates listed or not) and each candidate's title tokens follow
it. "letter" (the papers' verbalizer): the candidates are lettered A, B, ... and the answer is one letter.

The title answer's prompt is a "completion" (default): a plain document whose history is a list, the answer being its
next item (cloze format, which small LMs rank far better zero-shot), or a "chat": an instruction in the model's chat
template, the title as the assistant's reply.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from transformers import PreTrainedTokenizerBase

from kragrec.errors import KragrecError
from kragrec.models.choices import LETTER_ANSWER, AnswerFormat

LETTERS = string.ascii_uppercase
GRAPH_SLOT = "\x00graph\x00"  # split point for soft tokens; never reaches the tokenizer
COMPLETION_CUE = "\n-"  # a completion prompt ends with the next list item's dash; the title follows after a space


@dataclass(frozen=True)
class PromptTokens:
    """Token ids before and after the graph slot (soft tokens go between them); with the title answer, each
    candidate's answer tokens: its title and the end-of-turn marker."""

    before: list[int]
    after: list[int]
    options: tuple[tuple[int, ...], ...] = ()


def recommendation_prompt(
    history: list[str],
    candidates: list[str],
    with_graph: bool,
    evidence_text: str = "",
    answer_format: AnswerFormat = LETTER_ANSWER,
    with_collab: bool = False,
) -> str:
    """The instruction of K-RagRec's movie template (paper Table 11), one history title and one option per line.

    Knowledge comes first: the slot for graph soft tokens, or retrieved triples written as text. Collaborative
    history tokens go into the graph slot after the sub-graph tokens, or into a slot of their own without sub-graphs.
    With the letter answer each option ends with its letter, written as the very token that is scored and used as
    the label, so the answer position can attend to the letter right after the title it has judged. With the title
    answer the prompt asks for the next film's title, which follows it as the answer.
    """
    lines = [f"Knowledge graph evidence: {GRAPH_SLOT}"] if with_graph else []
    lines += [f"Watched films as item tokens: {GRAPH_SLOT}"] if with_collab and not with_graph else []
    lines += [f"Knowledge graph evidence: {evidence_text}"] if evidence_text else []
    if answer_format.completion:
        return "\n".join(
            [
                *lines,
                *_completion_lines("A movie fan's watching history, in order:", history, candidates, answer_format),
            ]
        )
    if answer_format.answer == "title":
        listed = answer_format.title_options == "listed"
        lines += [
            "Given the user's watching history, name the film the user will watch next"
            + (", one of the options." if listed else "."),
            "Watching history:",
            *(f"- {title}" for title in history),
            *(["Options:", *(f"- {title}" for title in candidates)] if listed else []),
        ]
        return "\n".join(lines)
    last = _last_letter(candidates)
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


def llamarec_prompt(
    history: list[str],
    candidates: list[str],
    with_relations: bool,
    answer_format: AnswerFormat = LETTER_ANSWER,
) -> str:
    """LlamaRec's instruction and input, one title per line; LKG-RAG's Relations block holds the slot for path lines.

    With the title answer the instruction asks for the next item's title and the candidate pool is listed only
    with title_options "listed".
    """
    and_relations = " and the relations" if with_relations else ""
    relations = [f"Relations:\n{GRAPH_SLOT}"] if with_relations else []
    if answer_format.completion:
        header = "A user's history, in chronological order:"
        lines = [*relations, *_completion_lines(header, history, candidates, answer_format)]
        return "\n".join(lines).replace(GRAPH_SLOT + "\n", GRAPH_SLOT)
    history_lines = [*(f"({n}) {title}" for n, title in enumerate(history, start=1))]
    if answer_format.answer == "title":
        listed = answer_format.title_options == "listed"
        lines = [
            f"Given user history in chronological order{and_relations}, name the next item the user will interact "
            + ("with, from the candidate pool." if listed else "with."),
            "User history:",
            *history_lines,
            *relations,
            *(["Candidate pool:", *(f"- {title}" for title in candidates)] if listed else []),
        ]
        return "\n".join(lines).replace(GRAPH_SLOT + "\n", GRAPH_SLOT)
    last = _last_letter(candidates)
    lines = [
        f"Given user history in chronological order{and_relations}, recommend an item from the candidate pool "
        "with its index letter.",
        "User history:",
        *history_lines,
        *([f"Relations:\n{GRAPH_SLOT}Candidate pool:"] if with_relations else ["Candidate pool:"]),
        *(f"({LETTERS[n]}) {title}" for n, title in enumerate(candidates)),
        f"Answer with the index letter of one candidate, from A to {last}.",
    ]
    return "\n".join(lines)


def _completion_lines(header: str, history: list[str], candidates: list[str], answer_format: AnswerFormat) -> list[str]:
    """A completion prompt's body: the candidates when listed, then the history as a list under `header`; the
    answer (added by prompt_tokens) is the list's next item."""
    listed = ["Candidates:", *(f"- {title}" for title in candidates)] if answer_format.title_options == "listed" else []
    return [*listed, header, *(f"- {title}" for title in history)]


def _last_letter(candidates: list[str]) -> str:
    if len(candidates) > len(LETTERS):
        raise KragrecError(f"{len(candidates)} candidates: at most {len(LETTERS)} can be lettered")
    return LETTERS[len(candidates) - 1]


def prompt_tokens(
    tokenizer: PreTrainedTokenizerBase,
    prompt: str,
    answer_format: AnswerFormat = LETTER_ANSWER,
    candidates: list[str] | None = None,
) -> PromptTokens:
    """Render the prompt and split it at the graph slot; with the title answer, tokenize each candidate's answer.

    A completion prompt is plain text ending with the next list item's dash; each answer is " Title" and the
    newline that ends the item. Otherwise the model's chat template renders the prompt (plain text and "Answer:"
    if it has none) and each answer is the title alone, then the end-of-sequence token.
    """
    completion = answer_format.completion
    if tokenizer.chat_template and not completion:
        messages: list[dict[str, Any]] = [{"role": "user", "content": prompt}]
        text = str(tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False))
        add_special = False
    else:
        text, add_special = prompt + (COMPLETION_CUE if completion else "\nAnswer:"), True
    before, _, after = text.partition(GRAPH_SLOT)
    before_ids = tokenizer(before, add_special_tokens=add_special)["input_ids"]
    after_ids = tokenizer(after, add_special_tokens=False)["input_ids"] if after else []
    titles = answer_format.answer_titles(candidates or [])
    return PromptTokens(list(before_ids), list(after_ids), _answer_tokens(tokenizer, titles, completion))


def _answer_tokens(
    tokenizer: PreTrainedTokenizerBase, titles: list[str] | None, completion: bool
) -> tuple[tuple[int, ...], ...]:
    """Each title's answer tokens and end marker (a completion's newline, else the end-of-sequence token)."""
    if titles is None:
        return ()
    if completion:
        end = tuple(tokenizer("\n", add_special_tokens=False)["input_ids"])
    elif tokenizer.eos_token_id is None:
        raise KragrecError("the title answer needs a tokenizer with an end-of-sequence token")
    else:
        end = (tokenizer.eos_token_id,)
    space = " " if completion or not tokenizer.chat_template else ""
    ids = tokenizer([space + title for title in titles], add_special_tokens=False)["input_ids"]
    return tuple((*title, *end) for title in ids)


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
