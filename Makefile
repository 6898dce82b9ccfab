# Two commands do all the set-up on a fresh machine: `make demo` runs the product, `make test` the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install chromium demo test test-fast screenshots hooks-doc lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Reinstall when the project's dependencies change. The sandbox (sandbox/) is a distribution of its own, installed
# for the demo and the tests only: the plugin never needs it.
$(STAMP): $(BIN)/python pyproject.toml sandbox/pyproject.toml examples/host_app/pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test,lint,postgres]' -e ./sandbox -e examples/host_app
	touch $(STAMP)

install: $(STAMP)

# Debian's chromium for the browser tests (installed with apt-get when missing).
chromium:
	bash scripts/ensure_chromium.sh

demo: install
	$(BIN)/python scripts/run_demo.py

test: install chromium
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not browser"

# The browser tests save their screenshots in pytest's temporary directory; this refreshes docs/screenshots instead.
screenshots: install chromium
	SFERUM_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests/browser

# docs/hooks.md from the docstrings of hookspecs/ and scripts/hooks_doc.md (a test fails when it is out of date).
hooks-doc: install
	$(BIN)/python scripts/hooks_doc.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy hookspecs sferum_plugin
	$(BIN)/mypy --config-file sandbox/pyproject.toml sandbox/src
	$(BIN)/mypy examples/host_app/lms_host

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .demo build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
