# The two quick-start commands are `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
RALPH_VENV := .ralph-venv
RALPH_STAMP := $(RALPH_VENV)/.installed

CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: serve test lint bench fuzz crash soak clean demo browser

OIDC := tests/oidc
VC_VERIFIER := tests/vc

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(STAMP)

## serve: set up, make sure the demo credential exists (its secret is printed the first time
## only; `lrs credentials rotate demo` gives a new one), run the LRS on 127.0.0.1:8000
serve: $(STAMP)
	mkdir -p data
	$(BIN)/lrs credentials demo
	$(BIN)/lrs serve

## test: set up with the dev extras and run the whole test suite (MongoDB, browser and sign-in
##       tests included)
test: $(DEV_STAMP) browser $(OIDC)/node_modules $(VC_VERIFIER)/node_modules $(RALPH_STAMP)
	$(BIN)/python -m pytest

## .ralph-venv: Ralph (PyPI ralph-malph), the peer LRS the migration tests import from, in its
## own venv: it pins FastAPI and so a Starlette older than ours (tests/e2e/test_migration.py)
$(RALPH_STAMP):
	$(PYTHON) -m venv $(RALPH_VENV)
	$(RALPH_VENV)/bin/pip install --quiet 'ralph-malph[backend-fs,lrs,cli]==5.1.0' 'requests>=2.31'
	touch $@

## browser: Debian's chromium for the dashboard's browser tests (Playwright drives it; its own
## browser downloads are never used)
browser:
	@test -x $(CHROMIUM) || { $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

## tests/oidc/node_modules: the OpenID provider the sign-in tests run (npm's oidc-provider, pinned
## by tests/oidc/package-lock.json); Debian's nodejs and npm first when node is missing
$(OIDC)/node_modules: $(OIDC)/package.json $(OIDC)/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || { \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm; }
	npm ci --prefix $(OIDC) --no-audit --no-fund
	touch $@

## tests/vc/node_modules: the Digital Credentials Consortium's verifier (npm
## @digitalcredentials/verifier-core) and the JSON-LD context packages, pinned by
## tests/vc/package-lock.json, that tests/lrs/vc runs on the exported credentials
$(VC_VERIFIER)/node_modules: $(VC_VERIFIER)/package.json $(VC_VERIFIER)/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || { \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm; }
	npm ci --prefix $(VC_VERIFIER) --no-audit --no-fund
	touch $@

## demo: a fresh data-demo/ (its own store, replaced each time; data/ is never touched) with a
## month of made-up traffic, a dashboard credential printed, then served on 127.0.0.1:8000
demo: $(STAMP)
	rm -rf data-demo
	$(BIN)/lrs demo --data-dir data-demo
	$(BIN)/lrs serve --data-dir data-demo

## lint: ruff, mypy --strict, the import contracts and known vulnerabilities in dependencies
lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pip-audit --progress-spinner off --skip-editable

## bench: every benchmark scenario on every engine, writing bench/results/ and docs/benchmarks.md
##        (see bench/README.md); BENCH_ARGS=--quick for a smoke run of under 5 minutes
bench: $(DEV_STAMP)
	$(BIN)/python -m bench.ingest $(BENCH_ARGS)

## fuzz: the dedicated fuzzing run, >= 100,000 generated requests over both engines
## (LRS_FUZZ_EXAMPLES per property); figures in bench/results/fuzz-DATE.json
fuzz: $(DEV_STAMP)
	LRS_HYPOTHESIS_PROFILE=fuzz LRS_FUZZ_REPORT=bench/results/fuzz-$$(date -u +%F).json \
		$(BIN)/python -m pytest tests/fuzz -q -p no:cacheprovider --timeout=0

## crash: the SIGKILL durability test, many kills per engine (CRASH_ROUNDS, default 25)
crash: $(DEV_STAMP)
	LRS_CRASH_ROUNDS=$${CRASH_ROUNDS:-25} $(BIN)/python -m pytest -q -s --timeout=0 \
		tests/e2e/test_crash_durability.py

## soak: 30 minutes at a fixed rate, RSS, open files and latency to bench/results/ (SOAK_ARGS)
soak: $(DEV_STAMP)
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

clean:
	rm -rf $(VENV) $(RALPH_VENV) .pytest_cache .mypy_cache .ruff_cache $(OIDC)/node_modules
