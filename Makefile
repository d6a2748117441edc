# Two commands do everything on a fresh machine with Python >= 3.11 and make:
#   make run    install into .venv, migrate, load the demo operator, serve on :8000
#   make test   the whole suite: lint, layering, tests on SQLite and on PostgreSQL

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
export PORT

.PHONY: run test lint format bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Ringup needs Python 3.11 or newer (found $$($(PYTHON) --version))" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.run-installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e .
	@touch $@

$(VENV)/.test-installed: pyproject.toml constraints.txt $(VENV)/.run-installed
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	@touch $@

run: $(VENV)/.run-installed
	$(BIN)/ringup migrate --noinput
	$(BIN)/ringup demo-data --if-empty
	$(BIN)/ringup run --port $(PORT)

lint: $(VENV)/.test-installed
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

format: $(VENV)/.test-installed
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

test: lint
	tests/both_databases.sh $(BIN)/pytest $(BIN)/python "$(TEST_DATABASE_URL)"

bench: $(VENV)/.test-installed
	$(BIN)/python bench/quote_api.py
	$(BIN)/python bench/demo_data.py
	$(BIN)/python bench/rate_cdrs.py
	$(BIN)/python bench/bill.py
	$(BIN)/python bench/trial_provisioning.py
	$(BIN)/python bench/segments.py
	$(BIN)/python bench/mailings.py
	$(BIN)/python bench/metrics.py
	$(BIN)/python bench/dashboard.py
	$(BIN)/python bench/bill_analysis.py

clean:
	rm -rf $(VENV) var build *.egg-info src/*.egg-info
