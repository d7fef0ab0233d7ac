"""Training and validation samples for the LLM recommender: prompts, candidates, labels and retrieved sub-graphs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from kragrec.config import Settings
from kragrec.data.candidates import draw_candidates
from kragrec.data.dataset import natural_key
from kragrec.data.prepare import prepared_file
from kragrec.data.registry import open_dataset
from kragrec.files import read_jsonl
from kragrec.models.prompt import AnswerFormat, PromptTokens, prompt_tokens, recommendation_prompt
from kragrec.paths.preference import PathGroup
from kragrec.retrieval.graph_text import subgraphs_as_text
from kragrec.retrieval.retriever import Retriever, retrieval_query_text
from kragrec.retrieval.subgraph import SubGraph

TRAIN_CANDIDATE_STREAM = 3
NO_TARGET = -1  # label of a sample scored for recommending, whose target is unknown


@dataclass(frozen=True)
class Record:
    """One prepared sample: user, history, target, candidate list."""

    user: str
    history: list[str]
    target: str
    candidates: list[str]

    @property
    def label(self) -> int:
        """The target's position among the candidates, or NO_TARGET when it is not one of them."""
        return self.candidates.index(self.target) if self.target in self.candidates else NO_TARGET


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


def _subset(records: list[Record], limit: int | None, seed: int) -> list[Record]:
    if limit is None or limit >= len(records):
        return records
    chosen = np.random.default_rng(seed).choice(len(records), size=limit, replace=False)
    return [records[i] for i in sorted(chosen)]


def training_records(settings: Settings, limit: int | None, candidates: int | None = None) -> list[Record]:
    """Training windows (a seeded subset when limited) with candidates drawn like the prepared ones: the target and
    `candidates` - 1 negatives (default: as many as the prepared lists have)."""
    windows = read_jsonl(prepared_file(settings, "train"))
    chosen = _subset([Record(w["user"], w["history"], w["target"], []) for w in windows], limit, settings.seed)
    dataset = open_dataset(settings, settings.dataset)
    rated: dict[str, set[str]] = {}
    for inter in dataset.interactions:
        rated.setdefault(inter.user, set()).add(inter.item)
    all_items = sorted(dataset.items, key=natural_key)
    return [
        Record(
            r.user,
            r.history,
            r.target,
            draw_candidates(
                r.target,
                rated[r.user],
                all_items,
                candidates or settings.candidates,
                settings.seed,
                (TRAIN_CANDIDATE_STREAM, n),
            ),
        )
        for n, r in enumerate(chosen)
    ]


def evaluation_records(settings: Settings, split: str, limit: int | None) -> list[Record]:
    """The prepared valid or test samples (a seeded subset when limited)."""
    records = [
        Record(r["user"], r["history"], r["target"], r["candidates"])
        for r in read_jsonl(prepared_file(settings, split))
    ]
    return _subset(records, limit, settings.seed)


Titles = Mapping[str, str]  # titles of candidates that are not catalogue items (the hallucination test's fictions)


def prompt_samples(
    records: list[Record],
    retriever: Retriever,
    tokenizer,
    evidence: str,
    answer_format: AnswerFormat,
    training: bool,
    titles: Titles | None = None,
) -> list[PromptSample]:
    """Retrieve for every record (query texts encoded in one batch) and build its prompt tokens.

    evidence "graph" keeps the sub-graphs for soft tokens, "text" writes them into the prompt, "none" skips retrieval.
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
