"""`kragrec serve` and `recommend --server`: the served ranking equals the in-process one, the model is built once,
the client refuses another run's server and reports the server's errors in one line, and it imports no ML stack."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import replace
from urllib.parse import parse_qs

import pytest
from typer.testing import CliRunner

from kragrec.cli import app
from kragrec.errors import KragrecError
from kragrec.files import read_jsonl
from kragrec.recommend import recommend
from kragrec.recommendation import RecommendRequest
from kragrec.serve import recommend_server
from kragrec.serve_client import recommend_from_server

from conftest import ml_modules_after


@pytest.fixture(scope="module")
def served(tiny_runs):
    """The tiny K-RagRec run served from a thread on a free port; its settings, runs root and server."""
    settings, root = tiny_runs
    with recommend_server(root / "kragrec-run", settings, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield settings, root, server
        server.shutdown()
        thread.join()


def test_request_parameters_round_trip_and_bad_ones_are_named():
    request = RecommendRequest("u 1", 5, True, True, "/runs/sasrec", "valid")
    assert RecommendRequest.from_query(parse_qs(request.query())) == request
    with pytest.raises(KragrecError, match="'top': 'many' is not an integer"):
        RecommendRequest.from_query({"user": ["1"], "top": ["many"]})
    with pytest.raises(KragrecError, match="'explain': 'yes' is not 0 or 1"):
        RecommendRequest.from_query({"user": ["1"], "explain": ["yes"]})
    with pytest.raises(KragrecError, match="unknown request parameter 'usr'"):
        RecommendRequest.from_query({"usr": ["1"]})


def test_served_rankings_equal_in_process_ones_and_the_model_is_built_once(served):
    settings, root, server = served
    run = root / "kragrec-run"
    users = [row["user"] for row in read_jsonl(settings.prepared_dir / "test.jsonl")][:3]
    built = server.session.recommender.model
    assert built is not None  # built before the first request
    for user in users:
        request = RecommendRequest(user, 10, explain=True)
        remote = recommend_from_server(server.url, run, settings, request)
        local = recommend(run, settings, request)
        assert [e["item"] for e in remote.ranked] == [e["item"] for e in local.ranked]
        assert [e["probability"] for e in remote.ranked] == pytest.approx([e["probability"] for e in local.ranked])
        assert (remote.user, remote.target, remote.history, remote.fed) == (
            local.user,
            local.target,
            local.history,
            local.fed,
        )
        views = (remote.evidence, local.evidence)
        untimed = [{k: v for k, v in json.loads(json.dumps(e)).items() if k != "timings_ms"} for e in views]
        assert untimed[0] == untimed[1] and remote.evidence["subgraphs"]
    assert server.session.recommender.model is built


def test_all_items_with_a_retriever_run_is_served(served):
    settings, root, server = served
    user = read_jsonl(settings.prepared_dir / "test.jsonl")[0]["user"]
    request = RecommendRequest(user, 5, all_items=True, retriever=str(root / "sasrec-run"))
    remote = recommend_from_server(server.url, root / "kragrec-run", settings, request)
    local = recommend(root / "kragrec-run", settings, request)
    assert [e["item"] for e in remote.ranked] == [e["item"] for e in local.ranked] and remote.target is None


def test_client_refuses_another_run_or_connection_and_reports_server_errors(served):
    settings, root, server = served
    run = root / "kragrec-run"
    with pytest.raises(KragrecError, match=r"serves run '.*kragrec-run', not '.*sasrec-run'"):
        recommend_from_server(server.url, root / "sasrec-run", settings, RecommendRequest("1"))
    elsewhere = replace(settings, data_dir=root / "elsewhere")
    with pytest.raises(KragrecError, match="serves data_dir"):
        recommend_from_server(server.url, run, elsewhere, RecommendRequest("1"))
    with pytest.raises(KragrecError, match="user 'nobody' has no test sample"):
        recommend_from_server(server.url, run, settings, RecommendRequest("nobody"))
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{server.url}/nothing-here")
    assert missing.value.code == 404 and "use /recommend" in json.loads(missing.value.read())["error"]


def test_no_server_is_a_one_line_error(tiny_runs):
    settings, root = tiny_runs
    with pytest.raises(KragrecError, match=r"127\.0\.0\.1:9: no kragrec server answers"):
        recommend_from_server("http://127.0.0.1:9", root / "kragrec-run", settings, RecommendRequest("1"))
    with pytest.raises(KragrecError, match="give the URL kragrec serve printed"):
        recommend_from_server("127.0.0.1:8765", root / "kragrec-run", settings, RecommendRequest("1"))


def test_cli_prints_the_same_table_through_the_server_without_importing_the_ml_stack(served):
    settings, root, server = served
    user = read_jsonl(settings.prepared_dir / "test.jsonl")[0]["user"]
    arguments = ["recommend", str(root / "kragrec-run"), "--user", user, "--top", "5"]
    arguments += ["--data-dir", str(settings.data_dir), "--dataset", "tiny"]
    runner = CliRunner()
    local = runner.invoke(app, arguments)
    remote = runner.invoke(app, [*arguments, "--server", server.url])
    assert local.exit_code == 0 and remote.exit_code == 0, remote.output
    assert remote.stdout == local.stdout and f"user {user}: top 5" in remote.stdout
    assert ml_modules_after([*arguments, "--server", server.url]) == []


def test_serve_command_announces_its_url_answers_and_stops_on_sigterm(tiny_runs):
    settings, root = tiny_runs
    command = [sys.executable, "-m", "kragrec", "serve", str(root / "kragrec-run"), "--port", "0"]
    command += ["--data-dir", str(settings.data_dir), "--dataset", "tiny"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        while "serving" not in line:
            line = process.stderr.readline()
            assert line, "kragrec serve exited before serving"
        url = line.split(" at ")[1].split()[0]
        with urllib.request.urlopen(f"{url}/health") as response:
            assert json.loads(response.read())["run"] == str((root / "kragrec-run").resolve())
        process.send_signal(signal.SIGTERM)
        rest = process.communicate(timeout=60)[1]
    finally:
        process.kill()
    assert process.returncode == 0 and "stopped; the retrieval cache is saved" in rest
