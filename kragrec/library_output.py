"""What third-party libraries may print on a kragrec user's terminal: by default only their errors. Their
warnings, deprecation notices, info lines ("Seed set to 0") and weight-loading bars are hidden, in this process and
in the processes it starts (DDP ranks); `kragrec --verbose` leaves the libraries as they are."""

from __future__ import annotations

import logging
import os
import warnings

# Read by the libraries as they are imported, and inherited by the processes this one starts.
QUIET_ENVIRONMENT = {
    "PYTHONWARNINGS": "ignore",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # transformers' "Loading weights" bar follows huggingface_hub's switch
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "TQDM_DISABLE": "1",  # plain tqdm bars, such as transformers' GGUF conversion on a cold cache
}
QUIET_MARK = "KRAGREC_QUIET_LIBRARIES"  # tells a started process that the CLI was quiet
# Libraries that set their own logger's level or handler on import (lightning_fabric does both).
LIBRARY_LOGGERS = ("lightning_fabric", "lightning", "transformers", "peft", "torch_geometric", "httpx", "neo4j")


class _LibraryErrors(logging.StreamHandler):
    """The root handler of a quiet process: only errors of the libraries' loggers reach stderr."""


def quiet_libraries() -> None:
    """Hide third-party warnings, info lines and progress bars from here on, here and in started processes.

    Environment variables a user has set keep their value. Idempotent."""
    for name, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    os.environ[QUIET_MARK] = "1"
    warnings.simplefilter("ignore")
    for name in LIBRARY_LOGGERS:  # already imported: their level; imported later: they propagate to the root
        logging.getLogger(name).setLevel(logging.ERROR)
    root = logging.getLogger()
    if not any(isinstance(handler, _LibraryErrors) for handler in root.handlers):
        handler = _LibraryErrors()
        handler.setLevel(logging.ERROR)
        root.addHandler(handler)  # with a root handler, lightning_fabric adds none of its own on import


def inherit_library_output() -> None:
    """In a process the CLI started (a spawned DDP rank): as quiet as the CLI was."""
    if os.environ.get(QUIET_MARK) == "1":
        quiet_libraries()
