# The two commands the README promises: `make run` and `make test`.
# Both create .venv and install what they need when it is missing or out of date.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-shifted lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.run-deps

## Start the bot (SQLite under data/ unless DATABASE_URL says otherwise).
run: $(VENV)/.run-deps
	$(BIN)/python -m bot

## The whole suite, on SQLite and (when reachable) PostgreSQL. The end-to-end tests mostly
## wait on Telegram's pacing, so four workers share the two cores well.
test: $(VENV)/.dev-deps
	$(BIN)/python -m pytest -n 4

## The suite again with the wall clock a year ahead, at 23:59 in Asia/Shanghai, for every
## process it starts: no test may depend on the real date or time of day (docs/testing.md).
## Needs libfaketime (Debian: apt-get install faketime).
test-shifted: $(VENV)/.dev-deps
	.ci/shifted-clock $(BIN)/python -m pytest -n 4

lint: $(VENV)/.dev-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/python .ci/layers.py

format: $(VENV)/.dev-deps
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
