# `make demo` and `make test` work on a fresh machine: they create .venv when it is missing.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.complement-installed

.PHONY: demo test lint bench fixture

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev,ray]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/complement demo

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check complement tests benchmarks scripts
	$(VENV)/bin/mypy complement

bench: $(STAMP)
	$(PY) benchmarks/run.py

fixture: $(STAMP)
	$(PY) -m pip install -q -e ".[fixture]"
	$(PY) scripts/build_movielens_fixture.py
