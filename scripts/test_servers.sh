#!/usr/bin/env bash
# `make test-servers`: the whole suite against throwaway Neo4j 5 and Qdrant servers from docker-compose.yml.
#
# The servers run as their own compose project (kragrec-test), so its containers and volumes are never a user's;
# they are removed (`down -v`) on every exit, also when a test fails or the run is interrupted, and the script
# exits with pytest's status. The Neo4j password is generated per run and kept in this process's environment only.
# Without a Docker engine it prints one line and exits 0: it never fakes a server.
# Arguments go to pytest; VENV, PY and MAKE come from the Makefile (the venv is built only once Docker is found).
set -euo pipefail
cd "$(dirname "$0")/.."

skip() {
    echo "make test-servers: $1; the server suite needs Neo4j 5 and Qdrant (docker compose), skipped"
    exit 0
}

command -v docker >/dev/null 2>&1 || skip "no Docker engine here (no docker command)"
engine_answers() {
    if command -v timeout >/dev/null 2>&1; then timeout 60 docker info; else docker info; fi
}
engine_answers >/dev/null 2>&1 || skip "no Docker engine here (docker info reaches no daemon)"
if docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1 && [[ "$(docker-compose version --short 2>/dev/null)" == 2.* ]]; then
    compose=(docker-compose)
else
    skip "no Docker Compose v2 here (neither docker compose nor docker-compose 2.x)"
fi
compose+=(--project-name kragrec-test --file docker-compose.yml)

VENV=${VENV:-.venv}
PY=${PY:-$VENV/bin/python}
"${MAKE:-make}" -q "$VENV/.installed" 2>/dev/null || "${MAKE:-make}" --no-print-directory "$VENV/.installed"

KRAGREC_NEO4J_PASSWORD=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export KRAGREC_NEO4J_PASSWORD
export KRAGREC_NEO4J_URI=bolt://localhost:7687
export KRAGREC_NEO4J_USER=neo4j
export KRAGREC_NEO4J_DATABASE=neo4j
export KRAGREC_QDRANT_URL=http://localhost:6333

# shellcheck disable=SC2329  # invoked by the EXIT trap below
stop_servers() {
    "${compose[@]}" down --volumes --remove-orphans >/dev/null 2>&1 || echo "make test-servers: could not remove the kragrec-test containers; run: docker compose -p kragrec-test down -v" >&2
}
trap stop_servers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "make test-servers: starting Neo4j and Qdrant (compose project kragrec-test) and waiting for their healthchecks"
if ! "${compose[@]}" up --detach --wait; then
    echo "make test-servers: the servers did not become healthy (are ports 7474, 7687, 6333 and 6334 free?); their last log lines:" >&2
    "${compose[@]}" logs --no-color --tail 40 2>&1 | sed "s/${KRAGREC_NEO4J_PASSWORD}/********/g" >&2 || true
    exit 1
fi

status=0
"$PY" -m pytest "$@" || status=$?
exit "$status"
