# Everything runs inside a project-local virtual environment built from pyproject.toml.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: setup demo test lint catalogue bench-startup fuzz clean

$(STAMP): pyproject.toml
	@echo "creating $(VENV) and installing rheumetrics with its dependencies (about a minute)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -e '.[dev]'
	touch $(STAMP)
	@echo "ready: run .venv/bin/rheumetrics --help (or source .venv/bin/activate)"

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/rheumetrics report nz_mri --out report.html

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

catalogue: $(STAMP)
	$(BIN)/rheumetrics catalogue --out docs/measures.md

bench-startup: $(STAMP)
	$(BIN)/python benchmarks/startup.py

# Property-based tests at the entry points, >= 10,000 generated cases each (docs/security.md).
fuzz: $(STAMP)
	RHEUMETRICS_FUZZ=rheumetrics-fuzz $(BIN)/pytest -m fuzz tests/fuzz -p no:cacheprovider

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
