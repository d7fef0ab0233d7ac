"""Training and validation samples for the LLM recommender: prompts, candidates, labels and retrieved sub-graphs."""

from __future__ import annotations

from dataclasses import dataclass

from kragrec.data.sample import Record, Titles
from kragrec.models.choices import AnswerFormat
from kragrec.models.path_preference import PathGroup
from kragrec.models.prompt import PromptTokens, prompt_tokens, recommendation_prompt
from kragrec.retrieval.graph_text import subgraphs_as_text
from kragrec.retrieval.retriever import Retriever, retrieval_query_text
from kragrec.retrieval.subgraph import SubGraph


@dataclass(frozen=True)
class PromptSample:
    """A record made ready for the model, sub-graphs still as ids (tensors are built in DataLoader workers)."""

    record: Record
    tokens: PromptTokens
    subgraphs: list[SubGraph]  # fed as soft tokens
    label: int
    evidence: tuple[str, ...] = ()  # seed entities of every retrieved sub-graph, however it was fed
    user_index: int = -1  # the user's row in a preference module
    path_groups: tuple[PathGroup, ...] = ()  # per history item, its candidate paths (LKG-RAG)


def prompt_samples(
    records: list[Record],
    retriever: Retriever,
    tokenizer,
    evidence: str,
    answer_format: AnswerFormat,
    training: bool,
    titles: Titles | None = None,
    collab: bool = False,
) -> list[PromptSample]:
    """Retrieve for every record (query texts encoded in one batch) and build its prompt tokens.

    evidence "graph" keeps the sub-graphs for soft tokens, "text" writes them into the prompt, "none" skips retrieval.
    `collab`: the prompt has a slot for collaborative history tokens.
    Candidates found in `titles` are written with that title instead of a catalogue item's.
    """
    items = retriever.graph.items
    extra = titles or {}
    if evidence != "none":
        retriever.encode_queries([retrieval_query_text([items[i].text for i in r.history]) for r in records])
    samples = []
    for record in records:
        subgraphs = retriever.retrieve(record.history, training=training).subgraphs if evidence != "none" else []
        candidates = [extra[c] if c in extra else items[c].text for c in record.candidates]
        prompt = recommendation_prompt(
            [items[i].text for i in record.history],
            candidates,
            with_graph=evidence == "graph" and bool(subgraphs),
            evidence_text=subgraphs_as_text(retriever.graph, subgraphs) if evidence == "text" else "",
            answer_format=answer_format,
            with_collab=collab,
        )
        samples.append(
            PromptSample(
                record,
                prompt_tokens(tokenizer, prompt, answer_format, candidates),
                subgraphs if evidence == "graph" else [],
                record.label,
                tuple(g.seed for g in subgraphs),
            )
        )
    return samples
