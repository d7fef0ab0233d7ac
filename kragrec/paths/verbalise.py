"""Paths written for the prompt: `(1) Toy Story (1995) -> HAS_GENRE -> Animation -> GENRE_OF -> (B) Aladdin (1992)`."""

from __future__ import annotations

from collections.abc import Mapping

from kragrec.paths.finder import ItemPath

ROLE_OF = {"DIRECTED_BY": "a director", "HAS_ACTOR": "an actor", "WRITTEN_BY": "a writer"}  # KG people are nameless


def node_text(label: str, key: str, entered_by: str, titles: Mapping[str, str]) -> str:
    """An item by its title, a person by the role the path reached them in, a genre or year by itself."""
    if label == "Item":
        return titles[key]
    if label == "Person":
        return ROLE_OF.get(entered_by, "a person")
    return key


def verbalise(path: ItemPath, head_mark: str, tail_mark: str, titles: Mapping[str, str]) -> str:
    """The path as alternating nodes and relationship types; the ends carry the history number and option letter
    (an empty mark: the title alone)."""
    words = [f"{head_mark} {titles[path.nodes[0][1]]}".strip()]
    for relation, (label, key) in zip(path.relations, path.nodes[1:-1], strict=False):
        words += [relation, node_text(label, key, relation, titles)]
    words += [path.relations[-1], f"{tail_mark} {titles[path.nodes[-1][1]]}".strip()]
    return " -> ".join(words)
