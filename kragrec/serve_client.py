"""The `recommend --server` side of `kragrec serve`: the request's parameters, the server's identity, and one
ranking fetched over local HTTP (nothing here imports the ML stack)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from kragrec.config import Settings, public_url
from kragrec.errors import KragrecError
from kragrec.recommendation import Recommendation

REQUEST_TIMEOUT_S = 600.0  # a first request builds the model; later ones take about a second


@dataclass(frozen=True)
class RecommendRequest:
    """What `kragrec recommend` asks for, besides the run."""

    user: str
    top: int = 10
    explain: bool = False
    all_items: bool = False
    retriever: str | None = None  # a sasrec run folder (with all_items)
    split: str = "test"

    def query(self) -> str:
        """The URL query string."""
        values = {name: value for name, value in asdict(self).items() if value is not None}
        return urlencode({name: int(v) if isinstance(v, bool) else v for name, v in values.items()})

    @classmethod
    def from_query(cls, params: dict[str, list[str]]) -> RecommendRequest:
        """Parse what query() wrote; a KragrecError naming the parameter when one is missing or malformed."""
        known = {field.name: field for field in fields(cls)}
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise KragrecError(f"unknown request parameter {unknown[0]!r}: parameters are {', '.join(known)}")
        if "user" not in params:
            raise KragrecError("request parameter 'user' is missing")
        values: dict[str, Any] = {}
        for name, (raw, *_) in params.items():
            kind = known[name].type
            if kind == "int" and not raw.lstrip("-").isdigit():
                raise KragrecError(f"request parameter {name!r}: {raw!r} is not an integer")
            if kind == "bool" and raw not in ("0", "1"):
                raise KragrecError(f"request parameter {name!r}: {raw!r} is not 0 or 1")
            values[name] = int(raw) if kind == "int" else raw == "1" if kind == "bool" else raw
        return cls(**values)


def server_identity(run_dir: Path, settings: Settings) -> dict[str, str | None]:
    """What a server answers for, compared by the client: the run folder and the connection settings that choose
    the data, graph and vectors (URLs without credentials)."""
    return {
        "run": str(run_dir.resolve()),
        "data_dir": str(settings.data_dir.resolve()),
        "backend": settings.backend,
        "neo4j_uri": public_url(settings.neo4j_uri) if settings.neo4j_uri else None,
        "vector_backend": settings.vector_backend,
        "qdrant_url": public_url(settings.qdrant_url) if settings.qdrant_url else None,
    }


def _get(url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUT_S) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        try:
            message = json.loads(error.read())["error"]
        except (ValueError, KeyError, TypeError):
            message = f"HTTP {error.code}"
        raise KragrecError(message) from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise KragrecError(f"--server {url.split('/', 3)[2]}: no kragrec server answers ({reason})") from None


def recommend_from_server(server: str, run_dir: Path, settings: Settings, request: RecommendRequest) -> Recommendation:
    """The ranking from a `kragrec serve` process; a one-line error when it serves another run or connection."""
    base = server.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise KragrecError(f"--server {server!r}: give the URL kragrec serve printed, e.g. http://127.0.0.1:8765")
    expected = server_identity(run_dir, settings)
    served = _get(f"{base}/health")
    differing = [name for name, value in expected.items() if served.get(name) != value]
    if differing:
        name = differing[0]
        raise KragrecError(f"--server {base} serves {name} {served.get(name)!r}, not {expected[name]!r}")
    answer = _get(f"{base}/recommend?{request.query()}")
    try:
        return Recommendation.from_json(answer)
    except TypeError as error:
        raise KragrecError(f"--server {base}: {error}") from None
