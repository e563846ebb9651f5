# hepatrial — the two commands: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
DEMO_PARTICIPANTS ?= 92
DEMO_SEED ?= 20240301

.PHONY: install demo test bench lint format system-deps screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
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

## Machine packages the suite uses (Debian): Chromium for browser tests, CJK fonts for pages and PDFs
system-deps:
	bash scripts/install-system-deps

## Screenshots of a running `make demo` for the README (docs/screenshots/)
screenshots: install
	$(BIN)/python scripts/take-screenshots.py
	$(BIN)/python scripts/report-screenshots.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
