# Tasks: make demo | make test | make test-postgres | make lint | make bench
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: venv demo test test-postgres lint format bench

venv:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -e '.[dev]'

demo:
	python3 -m venv $(VENV) && $(VENV)/bin/pip install -q -e . && $(VENV)/bin/caselens demo

test:
	python3 -m venv $(VENV) && $(VENV)/bin/pip install -q -e '.[test]' && $(VENV)/bin/pytest

# Needs a PostgreSQL server: CASELENS_TEST_DATABASE_URL=postgresql+psycopg://user:pw@127.0.0.1/postgres
test-postgres:
	$(VENV)/bin/pytest

lint: venv
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy

format: venv
	$(VENV)/bin/ruff format src tests benchmarks
	$(VENV)/bin/ruff check --fix src tests benchmarks

bench: venv
	$(PY) benchmarks/ingest.py
	$(PY) benchmarks/formats.py
