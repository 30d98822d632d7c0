# zonebot: `make run` sets up and starts the chat; `make test` sets up and runs the tests.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: setup browser run ingest test test-fast lint eval bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The CPU build of torch goes in first (an unpinned torch would pull a multi-GB CUDA build).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

setup: $(VENV)/.installed
	@echo "zonebot is installed in $(VENV)/bin: run 'source $(VENV)/bin/activate' to have 'zonebot' on your PATH"

run: setup
	$(BIN)/zonebot serve

ingest: setup
	$(BIN)/zonebot ingest

# Headless Chromium for the browser tests comes from Debian's packages.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; }

test: setup browser
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not browser"

lint: setup
	$(BIN)/ruff check src tests benchmarks app.py

eval: setup
	$(BIN)/zonebot eval --qa eval/qa.jsonl --markdown eval/report.md

bench: setup
	$(BIN)/pip install -q -e ".[bench]"
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf index/gen-* index/CURRENT index/.lock
