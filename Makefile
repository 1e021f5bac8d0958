# Civic Input: `make run` serves the API with demo data; `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	CIVIC_SEED_DEMO_ON_EMPTY=true $(BIN)/civic-input serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check api models tests bench
	$(BIN)/ruff format --check api models tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# The whole suite on SQLite, then again on PostgreSQL when CIVIC_TEST_DATABASE_URL names one.
pytest: $(STAMP)
	env -u CIVIC_TEST_DATABASE_URL $(BIN)/pytest
	@if [ -n "$$CIVIC_TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL"; $(BIN)/pytest; \
	else echo "== CIVIC_TEST_DATABASE_URL not set: PostgreSQL pass skipped"; fi

test: lint typecheck pytest

bench: $(STAMP)
	bench/run

clean:
	rm -rf $(VENV) *.egg-info civic-input.db civic-input.db-wal civic-input.db-shm
