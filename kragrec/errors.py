"""Errors that the CLI reports as one line and a non-zero exit."""

from __future__ import annotations

from pathlib import Path


def visible(text: str) -> str:
    """The text with invisible and control characters escaped (a BOM shows as \\ufeff, a tab as \\t)."""
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text)


class KragrecError(Exception):
    """An error the user can act on; the CLI prints it as one line and exits 1."""


class DataError(KragrecError):
    """Bad input data, located by file, line and field."""

    def __init__(self, path: Path | str, line: int, field: str, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.problem = problem
        super().__init__(visible(f"{self.path}:{line}: field '{field}': {problem}"))


class SettingsError(KragrecError):
    """A setting has a bad value or an unknown name."""


class LoadVerificationError(KragrecError):
    """The graph store's read-back counts differ from the input."""


def error_line(error: KragrecError | OSError) -> str:
    """The one line the CLI prints after `error: `; an OSError names its file and the system's reason."""
    if isinstance(error, OSError) and error.strerror:
        return f"{error.filename}: {error.strerror}" if error.filename else error.strerror
    return str(error)
