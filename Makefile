# hepatrial — the two commands: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | cksum | cut -d' ' -f1)
DEMO_PARTICIPANTS ?= 92
DEMO_SEED ?= 20240301

.PHONY: install demo test bench lint format system-deps screenshots clean lock

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

## Set up, load the protocol, demo accounts and a simulated trial; serve on http://127.0.0.1:8000
demo: install
	$(BIN)/hepatrial init --demo-accounts
	$(BIN)/hepatrial demo --participants $(DEMO_PARTICIPANTS) --seed $(DEMO_SEED)
	$(BIN)/hepatrial serve

## The whole test suite: lint, SQLite, then PostgreSQL (HEPATRIAL_STRICT=1 forbids skips)
test: install
	bash scripts/run-tests

## Benchmarks: every bench/bench_*.py, printing figures
bench: install
	bash scripts/run-benchmarks

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Refresh requirements.lock (exact versions with hashes, what install uses) to the newest
## versions pyproject.toml allows; run `make test` before committing it
lock: install
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --upgrade --generate-hashes --extra dev --strip-extras \
	  --allow-unsafe --no-emit-index-url --no-emit-find-links --output-file requirements.lock pyproject.toml

## Machine packages the suite uses (Debian): Chromium for browser tests, CJK fonts for pages and PDFs
system-deps:
	bash scripts/install-system-deps

## Screenshots of a running `make demo` for the README (docs/screenshots/)
screenshots: install
	$(BIN)/python scripts/take-screenshots.py
	$(BIN)/python scripts/report-screenshots.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
