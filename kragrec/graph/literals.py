"""Cypher literals and names for generated scripts (`kragrec kg export --format cypher`): any value or name read from
the store is written so that the Cypher parser reads back exactly that value, and cypher-shell's statement splitter
never sees a bare quote, newline or control character inside it."""

from __future__ import annotations

import math
import re
from typing import Any

from kragrec.errors import KragrecError

_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Words the Cypher parser treats as keywords; a name spelled like one is backticked, whatever its case.
# fmt: off
_KEYWORDS = frozenset((
    "ADD", "ALL", "AND", "AS", "ASC", "ASCENDING", "BY", "CALL", "CASE", "CONSTRAINT", "CONTAINS", "CREATE",
    "DELETE", "DESC", "DESCENDING", "DETACH", "DISTINCT", "DO", "DROP", "ELSE", "END", "ENDS", "EXISTS", "FALSE",
    "FOR", "FROM", "IN", "INDEX", "IS", "LIMIT", "LOAD", "MANDATORY", "MATCH", "MERGE", "NOT", "NULL", "OF", "ON",
    "OPTIONAL", "OR", "ORDER", "REMOVE", "REQUIRE", "RETURN", "SCALAR", "SET", "SKIP", "STARTS", "THEN", "TO",
    "TRUE", "UNION", "UNIQUE", "UNWIND", "USE", "WHEN", "WHERE", "WITH", "XOR", "YIELD",
))
# fmt: on
_STRING_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
# Backslash, quote, C0/C1 controls, DEL, the Unicode line and paragraph separators and lone surrogates.
_NEEDS_ESCAPE = re.compile("[\\\\'\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_LONG_MIN = -(2**63)
_LONG_MAX = 2**63 - 1


def cypher_string(text: str) -> str:
    """A single-quoted Cypher string literal for `text`."""
    return "'" + _NEEDS_ESCAPE.sub(_escape_char, text) + "'"


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _STRING_ESCAPES.get(char) or f"\\u{ord(char):04x}"


def cypher_name(name: str) -> str:
    """A label, relationship type or property key as a Cypher name: as is when plain, else backticked."""
    if _PLAIN_NAME.fullmatch(name) and name.upper() not in _KEYWORDS:
        return name
    return "`" + name.replace("`", "``") + "`"


def cypher_float(value: float) -> str:
    """A float literal; NaN and the infinities, which have none, as the float divisions that give them."""
    if math.isnan(value):
        return "0.0/0.0"
    if math.isinf(value):
        return "1.0/0.0" if value > 0 else "-1.0/0.0"
    text = repr(value)
    mantissa, exponent_mark, exponent = text.partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent_mark else text  # Cypher's exponent takes no '+'


def cypher_literal(value: Any) -> str:
    """A Cypher literal for null, a boolean, a 64-bit integer, a float, a string, or a list or map of them."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not _LONG_MIN <= value <= _LONG_MAX:
            raise KragrecError(f"the integer {value} does not fit Cypher's 64-bit integers")
        return f"{_LONG_MIN + 1} - 1" if value == _LONG_MIN else str(value)  # -2**63 has no literal of its own
    if isinstance(value, float):
        return cypher_float(value)
    if isinstance(value, str):
        return cypher_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(cypher_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{cypher_name(str(key))}: {cypher_literal(item)}" for key, item in value.items()) + "}"
    raise KragrecError(f"a {type(value).__name__} value has no Cypher literal here")
