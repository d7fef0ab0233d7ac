"""Sentence encoding at query time without torch: the encoder exported once to ONNX and run by onnxruntime with the
encoder's own fast tokenizer. Its vectors equal the torch encoder's to float rounding (≈ 2e-7), and it starts in a
fraction of the time, so retrieval never imports torch or transformers to encode a query.

The export lives in `cache_dir/onnx/NAME-HASH/`: `model.onnx` (token ids and mask in, unit vectors out: the
transformer, masked mean pooling and L2 normalisation in one graph), `tokenizer.json` (truncation and padding as the
torch encoder applies them) and `export.json` (what it was exported from, see `export_record`). `kragrec index`
writes it; a folder whose record does not match the encoder's files, or that onnxruntime cannot load, is exported
again on first use.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from filelock import FileLock
from tokenizers import Tokenizer

from kragrec.retrieval.encoder_source import encoder_location, encoder_slug, is_offline

EXPORT_VERSION = 1  # raise when the exported graph's inputs, outputs or pooling change
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
RECORD_FILE = "export.json"
INPUTS = ("input_ids", "attention_mask")


def export_folder(name: str, cache_dir: Path) -> Path:
    """Where the ONNX export of an encoder lives (one folder per encoder name and location)."""
    location = encoder_location(name, cache_dir)
    return cache_dir / "onnx" / f"{encoder_slug(name)}-{hashlib.sha256(location.encode()).hexdigest()[:12]}"


def export_record(name: str, cache_dir: Path) -> dict[str, Any]:
    """What an export must have been made from: the format version, the encoder, and for files on disk each file's
    size and modification time (a changed model is exported again)."""
    location = encoder_location(name, cache_dir)
    files = {}
    if is_offline(name, location):
        files = {
            str(path.relative_to(location)): [stat.st_size, stat.st_mtime_ns]
            for path in sorted(Path(location).rglob("*"))
            if path.is_file() and (stat := path.stat())
        }
    return {"version": EXPORT_VERSION, "encoder": name, "location": location, "files": files}


@dataclass
class OnnxTextEncoder:
    """A sentence encoder run by onnxruntime; `encode` returns float32 unit vectors, one row per text."""

    name: str
    session: ort.InferenceSession
    tokenizer: Tokenizer
    dim: int

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Embed texts in batches of similar length, returned in the input order."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            encodings = self.tokenizer.encode_batch([texts[i] for i in chunk])
            feed = {
                "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            }
            out[chunk] = self.session.run(None, feed)[0]
        return out


def _session(model: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: onnxruntime's warnings are not the user's business
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


def _open(folder: Path, name: str) -> OnnxTextEncoder:
    session = _session(folder / MODEL_FILE)
    dim = int(session.get_outputs()[0].shape[-1])
    return OnnxTextEncoder(name, session, Tokenizer.from_file(str(folder / TOKENIZER_FILE)), dim)


def _current(folder: Path, record: dict[str, Any]) -> bool:
    try:
        return json.loads((folder / RECORD_FILE).read_text(encoding="utf-8")) == record
    except (OSError, ValueError):
        return False


def _export(name: str, cache_dir: Path, folder: Path, record: dict[str, Any], damaged: bool = False) -> None:
    """Export under a lock beside the folder: one process exports, the others wait and then find it current."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(folder.with_name(f"{folder.name}.lock")):
        if damaged or not _current(folder, record):
            from kragrec.retrieval.onnx_export import export_encoder

            export_encoder(name, cache_dir, folder, record)


def ensure_export(name: str, cache_dir: Path) -> Path:
    """The folder of the encoder's current ONNX export, exported first (with torch, once) when missing or stale."""
    folder = export_folder(name, cache_dir)
    record = export_record(name, cache_dir)
    if not _current(folder, record):
        _export(name, cache_dir, folder, record)
    return folder


def load_query_encoder(name: str, cache_dir: Path) -> OnnxTextEncoder:
    """The encoder's ONNX export, made first when it is missing, stale or does not load."""
    folder = ensure_export(name, cache_dir)
    try:
        return _open(folder, name)
    except Exception:  # onnxruntime raises its own untyped errors for a damaged file
        _export(name, cache_dir, folder, export_record(name, cache_dir), damaged=True)
        return _open(folder, name)
