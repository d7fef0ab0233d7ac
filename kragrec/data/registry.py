"""Registered datasets: validated copies of atomic files under the data dir, with a manifest."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

from kragrec.config import Settings
from kragrec.data.dataset import ATOMIC_KINDS, Dataset, atomic_path, load_dataset
from kragrec.errors import KragrecError
from kragrec.files import replace_dir_atomically, sha256_file, write_json
from kragrec.writer_lock import data_dir_writer

MANIFEST = "manifest.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def check_name(name: str) -> str:
    """Dataset names become folder and file names: letters, digits, '.', '_' and '-' only."""
    if not _NAME.match(name):
        raise KragrecError(f"dataset name {name!r}: use letters, digits, '.', '_' and '-' only")
    return name


def dataset_dir(settings: Settings, name: str) -> Path:
    """The folder a registered dataset lives in."""
    return settings.datasets_dir / check_name(name)


def register(settings: Settings, source_dir: Path, name: str, origin: str) -> Dataset:
    """Validate the atomic files NAME.* in source_dir and copy them in; nothing is written if they are bad."""
    dataset = load_dataset(source_dir, name)
    with data_dir_writer(settings.data_dir), replace_dir_atomically(dataset_dir(settings, name)) as staging:
        files = {}
        for kind in ATOMIC_KINDS:
            source = atomic_path(source_dir, name, kind)
            if source.is_file():
                shutil.copyfile(source, atomic_path(staging, name, kind))
                files[kind] = sha256_file(source)
        write_json(staging / MANIFEST, {"name": name, "origin": origin, "sha256": files})
    return dataset


def manifest(settings: Settings, name: str) -> dict:
    """The manifest of a registered dataset; a clear error when it is not registered."""
    path = dataset_dir(settings, name) / MANIFEST
    if not path.is_file():
        raise KragrecError(
            f"dataset {name!r} is not registered under {settings.datasets_dir}: "
            f"run 'kragrec data fetch {name}' (or 'kragrec data fetch --from DIR {name}')"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def fingerprint(settings: Settings, name: str) -> str:
    """A short hash of the dataset's file contents."""
    files = manifest(settings, name)["sha256"]
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]


def open_dataset(settings: Settings, name: str) -> Dataset:
    """Read a registered dataset."""
    manifest(settings, name)
    return load_dataset(dataset_dir(settings, name), name)
