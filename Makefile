# make demo   - set up .venv and try aimem on a bundled sample export
# make test   - set up .venv with test dependencies and run the whole suite
# make bench  - import/search benchmarks and the LoCoMo retrieval benchmark (slow)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test lint gen bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

demo: $(STAMP)
	$(BIN)/aimem demo

test: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -n 2

lint: $(TEST_STAMP)
	$(BIN)/ruff check aimem tests scripts

# Regenerate man/aimem.1 and completions/ from the command tree.
gen: $(STAMP)
	$(BIN)/python -m aimem._gen

bench: $(TEST_STAMP)
	$(BIN)/python scripts/bench.py

clean:
	rm -rf $(VENV) build dist .pytest_cache
