# The two commands a newcomer types: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup test demo lint typecheck vectors interop-setup browser-setup bench simulate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# JavaScript implementations for the interoperability tests, installed from the npm registry
# before the tests run (nothing is fetched while a test runs). `npm install` follows the lock file;
# `npm ci` refuses it because npm omits cbor-extract's optional per-platform packages from the lock.
interop-setup:
	@if command -v npm >/dev/null 2>&1; then \
		cd tests/interop && npm install --no-audit --no-fund --loglevel=error ; \
	else echo "npm not found: interoperability tests will be skipped"; fi

# Debian's chromium for the dashboard's real-browser test (Playwright drives it; it downloads no browser).
browser-setup:
	sh scripts/setup_browser.sh

lint: setup
	$(BIN)/ruff check protocol node tests scripts

typecheck: setup
	$(BIN)/mypy protocol

vectors: setup
	$(BIN)/python scripts/gen_vectors.py --check

test: setup interop-setup browser-setup lint typecheck vectors
	$(BIN)/python -m pytest -q

demo: setup
	$(BIN)/rightsmesh demo

bench: setup
	for b in scripts/bench/*.py; do $(BIN)/python $$b || exit 1; done

simulate: setup
	$(BIN)/python scripts/simulate.py

clean:
	rm -rf $(VENV) tests/interop/node_modules .pytest_cache .mypy_cache .ruff_cache
