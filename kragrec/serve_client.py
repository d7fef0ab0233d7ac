"""The `recommend --server` side of `kragrec serve`: the server's identity, and one ranking fetched over local HTTP
(nothing here imports the ML stack)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from kragrec.config import Settings, public_url
from kragrec.errors import KragrecError
from kragrec.recommendation import Recommendation, RecommendRequest

REQUEST_TIMEOUT_S = 600.0  # a first request builds the model; later ones take about a second


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
