# Every target sets up what it needs first (idempotent; quick when already done).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8080
HOST ?= 127.0.0.1
DEFAULT_MODEL := models/digits-cnn.onnx
MODEL_PATH ?= $(DEFAULT_MODEL)
export MODEL_PATH

.PHONY: help setup model demo serve test lint typecheck unit clean

help:
	@echo "make demo   - set up, export the default model, serve it through the Lambda entry point, predict"
	@echo "make test   - set up, lint, type-check (mypy --strict) and run the whole test suite"
	@echo "make serve  - serve MODEL_PATH (default $(DEFAULT_MODEL)) on $(HOST):PORT (default 8080)"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "onnx-lambda needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[export,dev]'
	@touch $(STAMP)

setup: $(STAMP)

# The default model: trained on scikit-learn's bundled digits, exported with a parity check.
$(DEFAULT_MODEL): $(STAMP) $(filter-out model_export/demo.py,$(wildcard model_export/*.py))
	$(BIN)/python -m model_export digits --out-dir models

model: $(DEFAULT_MODEL)

demo: model
	$(BIN)/python -m model_export.demo --model $(DEFAULT_MODEL)

serve: model
	$(BIN)/python -m handler.local_gateway --host $(HOST) --port $(PORT)

lint: setup
	$(BIN)/ruff check handler model_export tests
	$(BIN)/ruff format --check handler model_export tests

typecheck: setup
	$(BIN)/mypy --strict handler model_export

test: lint typecheck model
	$(BIN)/pytest

clean:
	rm -rf $(VENV) models .pytest_cache .mypy_cache .ruff_cache
