# The two quick-start commands are `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: serve test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(STAMP)

## serve: set up, make sure the demo credential exists, run the LRS on 127.0.0.1:8000
serve: $(STAMP)
	mkdir -p data
	$(BIN)/lrs credentials demo
	$(BIN)/lrs serve

## test: set up with the dev extras and run the whole test suite (MongoDB tests included)
test: $(DEV_STAMP)
	$(BIN)/python -m pytest

## lint: ruff, mypy --strict and the import contracts
lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## bench: every benchmark scenario on every engine, writing bench/results/ and docs/benchmarks.md
##        (see bench/README.md); BENCH_ARGS=--quick for a smoke run of under 5 minutes
bench: $(DEV_STAMP)
	$(BIN)/python -m bench.ingest $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
