# Every target installs what it needs: a fresh clone needs only `make dev` or `make test`.
SHELL := /bin/bash
export PYENV_VERSION ?= 3.12.1
export SAM_CLI_TELEMETRY := 0
export REDOCLY_TELEMETRY := off
export REDOCLY_SUPPRESS_UPDATE_NOTICE := true
PYTHON312 ?= python3.12
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
STAMP := $(VENV)/.installed
# The render function is a container image: building it needs Docker (make build BUILD_EXCLUDES= to try).
BUILD_EXCLUDES ?= --exclude RenderFunction
export PYTHONPATH := $(CURDIR)/functions:$(CURDIR)

.PHONY: dev test test-unit test-integration test-e2e test-packaging lint build openapi token bench bench-render clean

$(PY):
	$(PYTHON312) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# Node tools (Redocly CLI; clients/typescript's openapi-typescript, openapi-fetch, TypeScript, tsx), pinned in
# package.json, clients/typescript/package.json and the one package-lock.json (an npm workspace).
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json clients/typescript/package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

.PHONY: node_modules client
node_modules: $(NODE_STAMP)

## Regenerate the TypeScript client's types from openapi.json (not committed) and type-check the client
client: $(NODE_STAMP)
	npm run --workspace clients/typescript generate
	npm run --workspace clients/typescript check

$(SAM): 
	$(PYTHON312) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet 'aws-sam-cli>=1.170,<2'

.PHONY: install
install: $(STAMP)

## Run the whole system locally: moto on loopback, the HTTP API on 127.0.0.1:3000
dev: $(STAMP)
	$(PY) -m infra.local

## Every test: unit, integration (moto), e2e (the local stack over HTTP)
test: $(STAMP) $(NODE_STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup

test-unit: $(STAMP) $(NODE_STAMP)
	$(PY) -m pytest tests/unit

test-integration: $(STAMP)
	$(PY) -m pytest tests/integration

test-e2e: $(STAMP) $(NODE_STAMP)
	$(PY) -m pytest tests/e2e

## Each Lambda package built as Lambda gets it (pip, no SAM or Docker); its handler imported in a clean Python
test-packaging: $(STAMP)
	$(PY) -m pytest tests/packaging

## Static checks: ruff, mypy, cfn-lint (raw and SAM-translated), sam validate --lint, Redocly on openapi.json
lint: $(STAMP) $(SAM) $(NODE_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy functions infra
	$(VENV)/bin/cfn-lint template.yaml
	$(PY) -m infra.translate --lint
	$(SAM) validate --lint --region us-east-1
	node_modules/.bin/redocly lint openapi.json
	$(MAKE) --no-print-directory client

## sam build of the zip functions and the ffmpeg layer (the render image needs Docker)
build: $(SAM) $(STAMP)
	PATH="$$(dirname $$(PYENV_VERSION=$(PYENV_VERSION) pyenv which python3.12 2>/dev/null || command -v $(PYTHON312))):$$PATH" \
	  $(SAM) build --region us-east-1 $(BUILD_EXCLUDES)
	$(PY) -m infra.package_sizes

## Regenerate openapi.json from the code
openapi: $(STAMP)
	$(PY) -m api.openapi > openapi.json

## Print a bearer token the local API accepts: make token SUB=<user-id> [GROUPS=admin]
token: $(STAMP)
	@$(PY) -m infra.local.tokens --sub "$(SUB)" --groups "$(GROUPS)"

## Benchmarks under bench/ (they print their figures)
bench: $(STAMP)
	$(PY) -m bench

## The render benchmark alone: ours vs the equivalent ffmpeg command line vs the encode-only floor
bench-render: $(STAMP)
	$(PY) -m bench.render

## The metrics benchmark alone: thousands of events at one visual, accepted ev/s, counter error, hot-item writes
.PHONY: bench-metrics
bench-metrics: $(STAMP)
	$(PY) -m bench.metrics

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .local node_modules
