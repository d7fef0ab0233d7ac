"""Where a method's prompt samples come from: the K-RagRec retriever, or the path finder of the LlamaRec family."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from kragrec.config import Settings
from kragrec.data.sample import Record, Titles
from kragrec.models.choices import AnswerFormat
from kragrec.models.llm import load_tokenizer
from kragrec.paths.finder import open_path_finder
from kragrec.retrieval.retriever import Retriever
from kragrec.retrieval.session import open_retriever
from kragrec.retrieval.subgraph import GraphFeatures
from kragrec.training.config import TrainConfig
from kragrec.training.path_samples import PathSamples
from kragrec.training.samples import PromptSample, prompt_samples


class SampleSource(Protocol):
    """Turns records into prompt samples the way one method needs them."""

    features: GraphFeatures | None  # node and relation vectors of sub-graphs fed as soft tokens

    def samples(self, records: list[Record], training: bool, titles: Titles | None = None) -> list[PromptSample]:
        """Prompt samples of the records."""


class RetrievedSamples:
    """K-RagRec-family samples: sub-graphs retrieved per record, fed as soft tokens, as text, or not at all."""

    def __init__(
        self, retriever: Retriever, tokenizer, evidence: str, answer_format: AnswerFormat, collab: bool = False
    ) -> None:
        self.retriever, self.tokenizer, self.evidence = retriever, tokenizer, evidence
        self.answer_format, self.collab = answer_format, collab
        self.features = retriever.features

    def samples(self, records: list[Record], training: bool, titles: Titles | None = None) -> list[PromptSample]:
        """Retrieve and build the prompts (query texts encoded in one batch)."""
        return prompt_samples(
            records, self.retriever, self.tokenizer, self.evidence, self.answer_format, training, titles, self.collab
        )


@contextmanager
def open_sample_source(
    settings: Settings, config: TrainConfig, retriever: Retriever | None = None
) -> Iterator[SampleSource]:
    """The method's sample source; K-RagRec methods use `retriever` when the caller holds one open."""
    tokenizer = load_tokenizer(config.llm, settings.cache_dir)
    collab = config.collab is not None
    if config.prompt == "llamarec":
        with open_path_finder(settings) as finder:
            yield PathSamples(settings, finder, tokenizer, config.evidence == "paths", config.answer_format)
    elif retriever is not None:
        yield RetrievedSamples(retriever, tokenizer, config.evidence, config.answer_format, collab)
    else:
        with open_retriever(settings) as opened:
            yield RetrievedSamples(opened, tokenizer, config.evidence, config.answer_format, collab)
