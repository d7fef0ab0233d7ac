"""Reader for RecBole atomic files (`.inter .item .user .kg .link`) that validates as it reads."""

from __future__ import annotations

import codecs
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kragrec.errors import DataError

FIELD_TYPES = ("token", "token_seq", "float", "float_seq")

# Columns each kind of atomic file must have, with their declared type.
REQUIRED_COLUMNS: dict[str, dict[str, str]] = {
    "inter": {"user_id": "token", "item_id": "token"},
    "item": {"item_id": "token"},
    "user": {"user_id": "token"},
    "kg": {"head_id": "token", "relation_id": "token", "tail_id": "token"},
    "link": {"item_id": "token", "entity_id": "token"},
}
OPTIONAL_COLUMNS: dict[str, dict[str, str]] = {
    "inter": {"rating": "float", "timestamp": "float"},
}


@dataclass(frozen=True)
class Field:
    """One column of an atomic file: its name and RecBole type."""

    name: str
    type: str


@dataclass(frozen=True)
class AtomicTable:
    """The parsed rows of one atomic file, each with the line it came from."""

    path: Path
    fields: tuple[Field, ...]
    rows: tuple[tuple[Any, ...], ...]
    lines: tuple[int, ...]

    def has(self, name: str) -> bool:
        """Whether the file has a column of this name."""
        return any(f.name == name for f in self.fields)

    def column(self, name: str) -> list[Any]:
        """All values of one column, in file order."""
        index = self._index(name)
        return [row[index] for row in self.rows]

    def records(self) -> list[dict[str, Any]]:
        """Rows as dicts keyed by field name."""
        names = [f.name for f in self.fields]
        return [dict(zip(names, row, strict=True)) for row in self.rows]

    def error(self, row_number: int, field: str, problem: str) -> DataError:
        """A DataError pointing at the line of the row at this position."""
        return DataError(self.path, self.lines[row_number], field, problem)

    def _index(self, name: str) -> int:
        for index, f in enumerate(self.fields):
            if f.name == name:
                return index
        raise KeyError(f"{self.path} has no column {name!r}")


def _decode(path: Path, line_number: int, raw: bytes, header: tuple[Field, ...] | None) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        column = raw[: error.start].count(b"\t")
        field = header[column].name if header and column < len(header) else "header"
        raise DataError(
            path, line_number, field, f"invalid UTF-8 byte 0x{raw[error.start]:02x} at byte {error.start + 1}"
        ) from None


def _parse_header(path: Path, text: str, kind: str) -> tuple[Field, ...]:
    fields = []
    for entry in text.split("\t"):
        name, sep, ftype = entry.partition(":")
        if not sep or not name:
            raise DataError(path, 1, entry or "header", f"header entry {entry!r} is not 'name:type'")
        if ftype not in FIELD_TYPES:
            raise DataError(path, 1, name, f"unknown type {ftype!r} (expected one of {', '.join(FIELD_TYPES)})")
        if any(f.name == name for f in fields):
            raise DataError(path, 1, name, "column appears twice in the header")
        fields.append(Field(name, ftype))
    declared = {f.name: f.type for f in fields}
    expected = {**REQUIRED_COLUMNS[kind], **OPTIONAL_COLUMNS.get(kind, {})}
    for name, ftype in REQUIRED_COLUMNS[kind].items():
        if name not in declared:
            have = ", ".join(declared)
            raise DataError(path, 1, name, f"missing required column '{name}:{ftype}' (header has: {have})")
    for name, ftype in expected.items():
        if name in declared and declared[name] != ftype:
            raise DataError(path, 1, name, f"declared as {declared[name]!r}, expected {ftype!r}")
    return tuple(fields)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _parse_value(table_path: Path, line_number: int, f: Field, text: str, required: bool) -> Any:
    if f.type == "token":
        if required and text == "":
            raise DataError(table_path, line_number, f.name, "empty value")
        return text
    if f.type == "token_seq":
        return tuple(text.split())
    try:
        if f.type == "float":
            return _parse_float(text)
        return tuple(_parse_float(part) for part in text.split())
    except ValueError:
        raise DataError(table_path, line_number, f.name, f"{text!r} is not a finite float") from None


def read_atomic(path: Path, kind: str | None = None) -> AtomicTable:
    """Read and validate one atomic file (UTF-8, an initial BOM ignored); the first bad row raises DataError."""
    path = Path(path)
    kind = kind or path.suffix.lstrip(".")
    if kind not in REQUIRED_COLUMNS:
        raise DataError(path, 0, "file", f"unknown atomic file kind {kind!r}")
    raw_lines = path.read_bytes().removeprefix(codecs.BOM_UTF8).split(b"\n")  # utf-8-sig: a BOM is no header text
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    if not raw_lines or raw_lines[0].strip() == b"":
        raise DataError(path, 1, "header", "file is empty; expected a header of tab-separated 'name:type' columns")
    header = _parse_header(path, _decode(path, 1, raw_lines[0].rstrip(b"\r"), None), kind)
    required = set(REQUIRED_COLUMNS[kind])
    rows: list[tuple[Any, ...]] = []
    lines: list[int] = []
    for line_number, raw in enumerate(raw_lines[1:], start=2):
        raw = raw.rstrip(b"\r")
        if raw.strip() == b"":
            continue
        values = _decode(path, line_number, raw, header).split("\t")
        if len(values) < len(header):
            missing = header[len(values)].name
            raise DataError(
                path, line_number, missing, f"missing value (row has {len(values)} of {len(header)} columns)"
            )
        if len(values) > len(header):
            raise DataError(
                path, line_number, header[-1].name, f"row has {len(values)} columns, header has {len(header)}"
            )
        rows.append(
            tuple(
                _parse_value(path, line_number, f, text, f.name in required)
                for f, text in zip(header, values, strict=True)
            )
        )
        lines.append(line_number)
    return AtomicTable(path, header, tuple(rows), tuple(lines))
