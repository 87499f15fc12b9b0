# One place for every workflow step; CI (.ci/run, Jenkinsfile) calls these same targets.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test test-unit test-integration lint format bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# CPU build of torch first (from local disk here); without it pip pulls a multi-GB CUDA build
	$(BIN)/pip install --quiet "torch==2.13.0" || echo "torch 2.13.0 CPU build not available; later engines will install their own"
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: setup
	$(BIN)/crypto-assistant serve

test: setup
	$(BIN)/python -m pytest -q

test-unit: setup
	$(BIN)/python -m pytest -q tests/unit

test-integration: setup
	$(BIN)/python -m pytest -q tests/integration

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy agent tools knowledge api bots ui

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: setup
	$(BIN)/python benchmarks/bench_import.py
	$(BIN)/python benchmarks/bench_historical.py
	$(BIN)/python benchmarks/bench_technical_panel.py
	$(BIN)/python benchmarks/bench_technical_api.py
	$(BIN)/python benchmarks/bench_chat_offline.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
