"""Read checkpoint files; a missing, truncated or corrupt one is a one-line error, not a traceback."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from kragrec.errors import KragrecError


def _unreadable(path: Path, error: Exception) -> KragrecError:
    """One line for a checkpoint file that is missing, truncated or corrupt."""
    text = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    reason = text.splitlines()[0].split(". ")[0] if text else "the file ends early"
    return KragrecError(f"{path}: unreadable checkpoint ({reason}); retrain or pick another checkpoint")


def read_torch_file(path: Path, weights_only: bool = True) -> Any:
    """torch.load onto the CPU; a missing, truncated or corrupt file is a one-line error."""
    try:
        return torch.load(path, map_location="cpu", weights_only=weights_only)
    except (OSError, EOFError, RuntimeError, pickle.UnpicklingError) as error:
        raise _unreadable(path, error) from None


def read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    """A safetensors file's tensors; a missing, truncated or corrupt file is a one-line error."""
    try:
        return load_file(path)
    except (OSError, SafetensorError) as error:
        raise _unreadable(path, error) from None
