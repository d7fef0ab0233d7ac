"""Cypher split into tokens the way Cypher reads it: string literals, comments and `backtick-quoted` names are one
token each, so the words inside them never count as keywords (the `kg query` guard and the manual check read this)."""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<quoted>`(?:[^`]|``)*`)
  | (?P<unclosed>['"`]|/\*)
  | (?P<word>[^\W\d]\w*)
  | (?P<number>\d+(?:\.\d+)?(?:[eE]-?\d+)?)
  | (?P<symbol><>|<=|>=|=~|\+=|->|<-|\.\.|.)
    """,
    re.VERBOSE | re.DOTALL,
)


def cypher_tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, offset) of every token but spaces and comments. Kinds: string, quoted, word, number, symbol
    (one character or a two-character operator) and unclosed (a quote or comment that never ends)."""
    return [
        (match.lastgroup or "symbol", match.group(), match.start())
        for match in _TOKEN.finditer(text)
        if match.lastgroup not in ("space", "comment")
    ]
