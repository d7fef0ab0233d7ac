"""`kragrec serve`: one process keeps a run's model and retriever open and answers `recommend --server` over local
HTTP, so a ranking costs its own work and not the ML stack's start-up (about 5 s of imports on 2 cores)."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kragrec.config import Settings
from kragrec.data.records import evaluation_records
from kragrec.errors import KragrecError
from kragrec.recommend import RecommendSession, open_recommend_session, recommend_in
from kragrec.recommendation import RecommendRequest
from kragrec.serve_client import server_identity


class RecommendServer(HTTPServer):
    """An HTTP server over one open recommend session; requests are answered one at a time (the model is shared)."""

    def __init__(self, address: tuple[str, int], session: RecommendSession, identity: dict[str, Any]) -> None:
        super().__init__(address, RecommendHandler)
        self.session = session
        self.identity = identity

    @property
    def url(self) -> str:
        """Where clients reach it."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class RecommendHandler(BaseHTTPRequestHandler):
    """GET /health: the served run and connection; GET /recommend?user=…: a ranking, or a 400 with its error."""

    server: RecommendServer

    def do_GET(self) -> None:
        """Answer one request with JSON."""
        url = urlsplit(self.path)
        if url.path == "/health":
            self._reply(200, self.server.identity)
        elif url.path == "/recommend":
            try:
                request = RecommendRequest.from_query(parse_qs(url.query, keep_blank_values=True))
                result = recommend_in(self.server.session, request)
            except KragrecError as error:
                self._reply(400, {"error": str(error)})
                return
            self._reply(200, result.to_json())
        else:
            self._reply(404, {"error": f"no such endpoint {url.path!r}: use /recommend or /health"})

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a request log is not the user's business."""


@contextmanager
def recommend_server(run_dir: Path, connection: Settings, host: str, port: int) -> Iterator[RecommendServer]:
    """A server bound to host:port (0: any free port) over the run; the model is built before it is yielded, so the
    first request is as fast as the next ones. The retrieval cache is saved when it closes."""
    with open_recommend_session(run_dir, connection, resident=True) as session:
        warm_up(session)
        try:
            server = RecommendServer((host, port), session, server_identity(run_dir, connection))
        except OSError as error:
            raise KragrecError(f"--port {port}: cannot listen on {host}:{port} ({error.strerror})") from None
        try:
            yield server
        finally:
            server.server_close()


def stop_on_terminate() -> None:
    """Make SIGTERM stop the server as Ctrl-C does (the session closes and saves its retrieval cache)."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def warm_up(session: RecommendSession) -> None:
    """Build the model (and load the encoder) by ranking one prepared test sample."""
    records = evaluation_records(session.run.settings, "test", 1)
    if records:
        recommend_in(session, RecommendRequest(records[0].user, top=1))
