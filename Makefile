# Two commands do all the set-up: `make run` and `make test`. Each makes its own virtualenv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 4580
PYTEST_ARGS ?=

.PHONY: run test bench clean

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

bench: $(VENV)/.installed
	$(PY) bench/api_throughput.py

clean:
	rm -rf $(VENV) .qconnect-local .pytest_cache
