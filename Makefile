# Every target works on a fresh clone: the virtualenv and the pinned CDK CLI are created on demand.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install venv help test lint typecheck unit integration property cdk-tests e2e faults demo synth deploy destroy bench bench-quick soak mutate lock clean

install: $(STAMP)  ## create .venv: the pinned dependencies, and this project (editable: .venv/bin/ddb-replicator)
	@echo "ready: source $(VENV)/bin/activate (then ddb-replicator --help), or run $(VENV)/bin/ddb-replicator"

help:  ## list the targets
	@grep -E '^[a-z0-9-]+:.*##' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

# uv (pinned, from PyPI like everything else) installs the pins: the same packages pip would
# install, in about a third of the time on a fresh clone (no bytecode compiled ahead, parallel
# downloads and unpacking). The project goes in editable and without dependencies
# (requirements/dev.txt pins them all), so edits take effect at once and the ddb-replicator script
# exists; reinstalled when pyproject.toml changes (packages, entry points).
UV_VERSION := 0.13.9
$(STAMP): requirements/dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet uv==$(UV_VERSION)
	$(VENV)/bin/uv pip install --quiet --python $(PY) -r requirements/dev.txt
	$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps --editable .
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $(NODE_STAMP)

venv: $(STAMP)

test: $(STAMP) $(NODE_STAMP)  ## lint, type-check and run the whole test suite
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m pytest -n 2 --dist loadgroup

lint: $(STAMP)  ## ruff only
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP)  ## mypy only
	$(PY) -m mypy

unit: $(STAMP)  ## the unit tier: pure code, no moto, no server, no CDK (under 30 s; prints its time)
	$(PY) -m pytest tests/unit

integration: $(STAMP)  ## the integration tier: the code against moto's in-process AWS
	$(PY) -m pytest -n 2 tests/integration

property: $(STAMP)  ## the property tier: Hypothesis state machines over moto
	$(PY) -m pytest tests/property

cdk-tests: $(STAMP) $(NODE_STAMP)  ## the CDK tier: assertions on the synthesized app
	$(PY) -m pytest tests/cdk

e2e: $(STAMP)  ## the end-to-end tier: embedded server, demo, benchmarks smoke run
	$(PY) -m pytest tests/e2e

faults: $(STAMP)  ## the fault-injection tier: scenarios on the fault lab's rig
	$(PY) -m pytest -n 2 tests/faults

demo: $(STAMP)  ## run the whole system locally: two regions, workload, replication, metrics, dashboards, check
	$(PY) -m localrun demo $(ARGS)

synth: $(STAMP) $(NODE_STAMP)  ## synthesize both stacks offline (no credentials needed)
	npx cdk synth --quiet $(CDK_ARGS)

deploy: $(STAMP) $(NODE_STAMP)  ## bootstrap and deploy both regions (needs AWS credentials; ARGS=--dry-run rehearses offline)
	$(PY) -m cdk.deploy $(CDK_ARGS) $(ARGS)

destroy: $(STAMP) $(NODE_STAMP)  ## delete both stacks (the replica table is retained)
	npx cdk destroy --all $(CDK_ARGS)

bench: $(STAMP)  ## run every benchmark and rewrite docs/benchmarks.md
	$(PY) -m bench

bench-quick: $(STAMP)  ## a short run of every benchmark (smoke test)
	$(PY) -m bench --quick --output /tmp/benchmarks-quick.md

soak: $(STAMP)  ## long fault-injection run (rewrites docs/reliability.md), then the state machine at 10x its examples
	$(PY) -m faultlab.soak $(ARGS)
	CONVERGENCE_EXAMPLES=600 $(PY) -m pytest -q -n 2 tests/property/test_replicator_convergence.py

mutate: $(STAMP)  ## mutation testing of the write protocol (about 15 min); rewrites docs/reliability.md's last section
	$(PY) -m faultlab.mutation $(ARGS)

lock:  ## re-resolve requirements/dev.in into exact pins
	rm -rf /tmp/lock-venv && $(PYTHON) -m venv /tmp/lock-venv
	/tmp/lock-venv/bin/pip install --quiet -r requirements/dev.in
	( echo "# Exact pins for the development virtualenv (make test / demo / synth / bench)."; \
	  echo "# Regenerate with: make lock"; /tmp/lock-venv/bin/pip freeze ) > requirements/dev.txt

clean:  ## remove the virtualenv, node_modules, build output and mutmut's mutants/
	rm -rf $(VENV) node_modules cdk.out mutants .pytest_cache .mypy_cache .ruff_cache .hypothesis
