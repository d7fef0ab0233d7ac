"""The allow-list in front of `kragrec kg query`: one statement made only of read clauses, for either backend.

The text is split into tokens the way Cypher reads it, so words inside string literals, comments and
`backtick-quoted` names never count, nor do names after `.`, `$` or `:` (properties, parameters, labels) or
before `:` (map keys, variables with a label). What is left must start with a read clause and contain no
clause or statement keyword that writes, touches files or the network, or changes the session.
"""

from __future__ import annotations

from itertools import pairwise

from kragrec.errors import KragrecError
from kragrec.graph.cypher_lexer import cypher_tokens

READ_STARTS = frozenset({"MATCH", "OPTIONAL", "UNWIND", "WITH", "RETURN"})
# Clause and statement keywords of Cypher (Neo4j 5, openCypher) and of the Kùzu family that are not read clauses;
# administration statements (START DATABASE, …) are refused too, as no read clause starts them.
REFUSED = frozenset(
    {
        "ALTER", "ATTACH", "BEGIN", "CALL", "CHECKPOINT", "COMMENT", "COMMIT", "COPY", "CREATE", "DELETE", "DENY",
        "DETACH", "DROP", "EXPLAIN", "EXPORT", "FINISH", "FOREACH", "GRANT", "IMPORT", "INSERT", "INSTALL", "LOAD",
        "MERGE", "PROFILE", "REMOVE", "RENAME", "REVOKE", "ROLLBACK", "SET", "SHOW", "TERMINATE", "TRANSACTION",
        "UNINSTALL", "USE",
    }
)  # fmt: skip
HINT = "(use MATCH … RETURN)"

_NAME_MARKS = (".", "$", ":")


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, text) of every token that counts: no spaces or comments; a word that is a name has kind 'name'."""
    tokens: list[tuple[str, str]] = []
    for kind, value, offset in cypher_tokens(text):
        if kind == "unclosed":
            raise KragrecError(f"kg query: unclosed {value!r} at character {offset + 1}")
        if kind == "word" and tokens and tokens[-1][1] in _NAME_MARKS:
            kind = "name"
        if value == ":" and tokens and tokens[-1][0] == "word":
            tokens[-1] = ("name", tokens[-1][1])
        tokens.append((kind, value))
    return tokens


def _parameter_name(token: tuple[str, str]) -> str:
    kind, value = token
    return value[1:-1].replace("``", "`") if kind == "quoted" else value


def read_only_parameters(text: str) -> set[str]:
    """Refuse (KragrecError, one line) anything but one statement of read clauses; the $parameters it uses."""
    tokens = _tokens(text)
    if ";" in (value for _, value in tokens[:-1]):
        raise KragrecError("kg query runs one statement at a time; remove what follows ';'")
    refused = next((value.upper() for kind, value in tokens if kind == "word" and value.upper() in REFUSED), None)
    if refused is not None:
        raise KragrecError(f"kg query runs read-only queries; {refused} is not allowed {HINT}")
    first = tokens[0][1].upper() if tokens and tokens[0][0] == "word" else None
    if first not in READ_STARTS:
        raise KragrecError(
            f"kg query runs read-only queries; start with MATCH, OPTIONAL MATCH, UNWIND, WITH or RETURN {HINT}"
        )
    return {_parameter_name(token) for previous, token in pairwise(tokens) if previous[1] == "$"}
