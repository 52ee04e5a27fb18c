# Two commands do all the set-up: `make run` and `make test`. Each makes its own virtualenv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 4580
PYTEST_ARGS ?=

.PHONY: run test test-fast lint format bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $(VENV)/.runtime $@

# Running needs only the runtime dependencies (no test or benchmark extras).
$(VENV)/.runtime: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

run: $(VENV)/.runtime
	$(VENV)/bin/qconnect-local serve --port $(PORT)

test: $(VENV)/.installed
	$(PY) -m pytest $(PYTEST_ARGS)

# The suite without the crash, kill, shutdown and subprocess tests (marked `slow`).
test-fast: $(VENV)/.installed
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

# Linters only: the `dev` extra, not the test dependencies.
$(VENV)/.dev-installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

LINTED := src tests bench

# Every check runs, even after one fails, so one run shows everything to fix.
lint: $(VENV)/.dev-installed
	@status=0; \
	echo "== ruff check"; $(VENV)/bin/ruff check $(LINTED) || status=1; \
	echo "== ruff format --check"; $(VENV)/bin/ruff format --check $(LINTED) || status=1; \
	echo "== mypy"; $(VENV)/bin/mypy || status=1; \
	if grep -q '^\[tool\.importlinter\]' pyproject.toml; then \
		echo "== lint-imports"; $(VENV)/bin/lint-imports || status=1; \
	else echo "== lint-imports: no [tool.importlinter] contracts in pyproject.toml yet, skipped"; fi; \
	exit $$status

format: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check --fix $(LINTED)
	$(VENV)/bin/ruff format $(LINTED)

bench: $(VENV)/.installed
	$(PY) bench/api_throughput.py

clean:
	rm -rf $(VENV) .qconnect-local .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
