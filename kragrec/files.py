"""Atomic file and folder writes, and content hashes."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kragrec.errors import KragrecError


def require_folder(path: Path, what: str) -> None:
    """A one-line error when `path`, or the nearest of its parents that exists, is a file rather than a folder."""
    existing = next((folder for folder in (path, *path.parents) if folder.exists()), None)
    if existing is not None and not existing.is_dir():
        where = "is a file" if existing == path else f"lies inside the file {existing}"
        raise KragrecError(f"{what} {path} {where}, not a folder")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def json_line(record: Any) -> str:
    """One canonical JSON line: sorted keys, no spaces, so equal data gives equal bytes."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def write_jsonl(path: Path, records: Iterable[Any]) -> int:
    """Write records as canonical JSON lines; returns how many."""
    count = 0
    with Path(path).open("w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(json_line(record) + "\n")
            count += 1
    return count


def write_json(path: Path, record: Any) -> None:
    """Write one JSON document, indented and with sorted keys."""
    Path(path).write_text(json.dumps(record, sort_keys=True, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_jsonl(path: Path) -> list[Any]:
    """All records of a JSON-lines file (gzip-compressed when its name ends in .gz)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def gzip_file(source: Path, target: Path) -> None:
    """Write `source` gzip-compressed to `target`, byte for byte the same for the same content (no timestamp)."""
    with (
        replace_file_atomically(target) as partial,
        Path(source).open("rb") as plain,
        partial.open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as packed,
    ):
        shutil.copyfileobj(plain, packed)


@contextmanager
def replace_dir_atomically(target: Path) -> Iterator[Path]:
    """Yield an empty staging folder; on success it replaces `target`, on error it is removed."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    staging.chmod(0o755)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    swap_dirs(staging, target)


@contextmanager
def replace_file_atomically(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it replaces `target`, on error it is removed."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(handle)
    partial = Path(name)
    partial.chmod(0o644)
    try:
        yield partial
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)


def swap_dirs(source: Path, target: Path) -> None:
    """Move `source` to `target`, replacing whatever folder was there."""
    retired = target.with_name(f".{target.name}.old")
    shutil.rmtree(retired, ignore_errors=True)
    if target.exists():
        os.replace(target, retired)
    os.replace(source, target)
    shutil.rmtree(retired, ignore_errors=True)


def jsonable(record: Any) -> Any:
    """A dataclass as plain JSON values (paths as their str()); settings go through config.settings_record."""
    return json.loads(json.dumps(dataclasses.asdict(record), default=str))
