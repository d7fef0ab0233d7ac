"""Prompt samples of the LlamaRec family: history, lettered candidates and, for LKG-RAG, every candidate path."""

from __future__ import annotations

from kragrec.config import Settings
from kragrec.data.dataset import natural_key
from kragrec.data.registry import open_dataset
from kragrec.data.sample import Record, Titles
from kragrec.graph.entity_text import item_label
from kragrec.models.choices import AnswerFormat
from kragrec.models.path_preference import PathGroup, path_features
from kragrec.models.prompt import LETTERS, llamarec_prompt, prompt_tokens
from kragrec.paths.finder import PathFinder
from kragrec.paths.verbalise import verbalise
from kragrec.progress import progress_bar
from kragrec.training.samples import PromptSample


class PathSamples:
    """Builds LlamaRec prompts; with relations, each history item's paths to the candidates go with the sample."""

    features = None  # no sub-graph features: nothing is fed as graph soft tokens

    def __init__(
        self, settings: Settings, finder: PathFinder, tokenizer, with_relations: bool, answer_format: AnswerFormat
    ) -> None:
        dataset = open_dataset(settings, settings.dataset)
        self.titles = {item.id: item_label(item) for item in dataset.items.values()}
        self.user_index = {user: n for n, user in enumerate(sorted(dataset.users, key=natural_key))}
        self.finder, self.tokenizer, self.with_relations = finder, tokenizer, with_relations
        self.answer_format = answer_format

    def samples(self, records: list[Record], training: bool, titles: Titles | None = None) -> list[PromptSample]:
        """One sample per record; candidates found in `titles` (not in the graph) are written with that title."""
        names = {**self.titles, **(titles or {})}
        built = []
        with progress_bar() as bar:
            task = bar.add_task("paths" if self.with_relations else "prompts", total=len(records))
            for record in records:
                candidates = [names[c] for c in record.candidates]
                prompt = llamarec_prompt(
                    [names[i] for i in record.history], candidates, self.with_relations, self.answer_format
                )
                groups = self._path_groups(record, names) if self.with_relations else []
                built.append(
                    PromptSample(
                        record,
                        prompt_tokens(self.tokenizer, prompt, self.answer_format, candidates),
                        [],
                        record.label,
                        user_index=self.user_index[record.user],
                        path_groups=tuple(groups),
                    )
                )
                bar.advance(task)
        return built

    def _path_groups(self, record: Record, names: dict[str, str]) -> list[PathGroup]:
        """Per history item with any path: the path to each reachable candidate, in candidate order."""
        in_graph = [c for c in record.candidates if c in self.titles]
        paths = self.finder.paths(record.history, in_graph)
        groups = []
        for number, head in enumerate(record.history, start=1):
            found = [(n, paths[(head, c)]) for n, c in enumerate(record.candidates) if paths.get((head, c))]
            if not found:
                continue
            head_mark = "" if self.answer_format.completion else f"({number})"  # a completion's history is unnumbered
            lines = [verbalise(p, head_mark, self._candidate_mark(n), names) for n, p in found]
            ids = self.tokenizer([line + "\n" for line in lines], add_special_tokens=False)["input_ids"]
            groups.append(PathGroup([path_features(p) for _, p in found], [p.hops for _, p in found], lines, ids))
        return groups

    def _candidate_mark(self, position: int) -> str:
        """How a path line marks its candidate end: by its letter, or not at all when answers are titles."""
        return f"({LETTERS[position]})" if self.answer_format.answer == "letter" else ""
