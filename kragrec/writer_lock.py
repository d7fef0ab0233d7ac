"""The data dir's writer lock: one command at a time writes its stores; readers never take it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from kragrec.errors import KragrecError
from kragrec.files import require_folder

LOCK_FILE = "writer.lock"
WRITERS = "load-kg, index, data fetch or data prepare"


@contextmanager
def data_dir_writer(data_dir: Path) -> Iterator[None]:
    """Hold the writer lock of `data_dir` for the block, or fail at once with a one-line "busy" error.

    It is an OS lock (flock), so it is released on any exit, a kill -9 included; the file itself may stay.
    Nested use within one process is allowed (a writer that calls another writer).
    """
    data_dir = Path(data_dir)
    path = data_dir / LOCK_FILE
    require_folder(data_dir, "data dir")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(path, blocking=False, is_singleton=True, fallback_to_soft=False)
        lock.acquire()
    except Timeout:
        raise KragrecError(f"{data_dir} is busy: another kragrec {WRITERS} is writing it (lock {path})") from None
    except OSError as error:
        raise KragrecError(f"cannot lock the data dir {data_dir}: {error.strerror or error}") from None
    try:
        yield
    finally:
        lock.release()
