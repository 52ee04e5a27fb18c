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
	touch $@

run: $(VENV)/.installed
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

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/mypy
	@# lint-imports fails when there is no contract to read: run it once pyproject.toml has some.
	@if grep -q '^\[tool\.importlinter\]' pyproject.toml; then \
		echo "$(VENV)/bin/lint-imports"; $(VENV)/bin/lint-imports; \
	else echo "lint-imports: no [tool.importlinter] contracts in pyproject.toml, skipped"; fi

format: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check --fix $(LINTED)
	$(VENV)/bin/ruff format $(LINTED)

bench: $(VENV)/.installed
	$(PY) bench/api_throughput.py

clean:
	rm -rf $(VENV) .qconnect-local .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
