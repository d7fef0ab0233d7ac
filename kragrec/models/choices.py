"""The models' option values and the answer format, importable without torch or transformers (run configs, the CLI
and settings checks read them before any model is loaded)."""

from __future__ import annotations

from dataclasses import dataclass

from kragrec.errors import KragrecError

DEFAULT_LLM = "SmolLM2-135M-Instruct"
SOFT_TOKEN_MODES = ("per-graph", "mean")
SOFT_NORMS = ("embedding", "none")  # soft tokens rescaled to the LLM's mean token-embedding norm, or left as projected
LLM_MODES = ("frozen", "lora")
# Cross-entropy of the answer letter against the whole vocabulary (the papers' language-model loss, default), or
# against the candidates' letters only (the verbalizer's softmax).
ANSWER_LOSSES = ("vocab", "letters")
PATH_SELECTIONS = ("learned", "shortest")
ANSWERS = ("title", "letter")
TITLE_OPTIONS = ("hidden", "listed")  # title answer: candidates absent from the prompt, or listed before the answer
TITLE_PROMPTS = ("completion", "chat")  # title answer: the next item of a plain list, or a chat-template reply


@dataclass(frozen=True)
class AnswerFormat:
    """How the model answers: with a candidate's title (the candidates listed in the prompt or not; the prompt a
    plain completion or a chat) or a letter."""

    answer: str = "title"
    title_options: str = "hidden"
    title_prompt: str = "completion"

    def __post_init__(self) -> None:
        if self.answer not in ANSWERS:
            raise KragrecError(f"--answer {self.answer!r}: choose one of {', '.join(ANSWERS)}")
        if self.title_options not in TITLE_OPTIONS:
            raise KragrecError(f"--title-options {self.title_options!r}: choose one of {', '.join(TITLE_OPTIONS)}")
        if self.title_prompt not in TITLE_PROMPTS:
            raise KragrecError(f"--title-prompt {self.title_prompt!r}: choose one of {', '.join(TITLE_PROMPTS)}")

    def answer_titles(self, candidates: list[str]) -> list[str] | None:
        """The titles scored as answers (title answer), or None (letter answer)."""
        return candidates if self.answer == "title" else None

    @property
    def completion(self) -> bool:
        """Whether the prompt is a plain document the title answer continues (no chat template)."""
        return self.answer == "title" and self.title_prompt == "completion"


TITLE_ANSWER = AnswerFormat()
LETTER_ANSWER = AnswerFormat("letter")
