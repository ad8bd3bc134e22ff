# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: install lint unit integration test demo bench sandbox-down clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# pip byte-compiles every package it installs, but not an editable checkout; with
# PYTHONDONTWRITEBYTECODE set (as on these machines) every run would recompile pacdeploy
# from source (~25 ms a command). Only changed files are compiled again.
install: $(VENV)/.installed
	$(BIN)/python -m compileall -q pacdeploy

# checkov pins many packages of its own: it gets a venv of its own, beside the project's.
SCAN := .venv-scan
$(SCAN)/.installed:
	$(PYTHON) -m venv $(SCAN)
	$(SCAN)/bin/pip install --quiet --upgrade pip
	$(SCAN)/bin/pip install --quiet checkov==3.3.30
	touch $@

lint: install $(SCAN)/.installed
	$(BIN)/ruff check pacdeploy tests bench
	$(BIN)/ruff format --check pacdeploy tests bench
	$(BIN)/mypy
	$(BIN)/python -m tests.security.scan $(SCAN)/bin/checkov

unit: install
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

# Two phases (tests/conftest.py says which test goes where): the tests that share the
# cluster on $(WORKERS) pytest-xdist workers side by side, then the exclusive ones, each
# alone. Both phases run whatever the first gives; exit 5 is "nothing selected". Tests
# go to the workers one at a time, the long ones first, so that no long one is left to
# run on alone at the end.
WORKERS ?= 2
TWO_PHASES = $(BIN)/pytest -n $(WORKERS) --maxschedchunk=1 -m "not exclusive" $(1) $(PYTEST_ARGS); first=$$?; \
	$(BIN)/pytest -p no:xdist -m exclusive $(1) $(PYTEST_ARGS); then=$$?; \
	for code in $$first $$then; do [ $$code -eq 0 ] || [ $$code -eq 5 ] || exit $$code; done

# Integration tests bring the sandbox up themselves (building it on first use).
integration: install
	$(call TWO_PHASES,tests/integration)

test: lint
	$(call TWO_PHASES,)

demo: install
	$(BIN)/pacdeploy sandbox up
	$(BIN)/pacdeploy --context pacdeploy-sandbox up --storage-class csi-hostpath-sc
	$(BIN)/pacdeploy --context pacdeploy-sandbox status
	$(BIN)/pacdeploy --context pacdeploy-sandbox scale --replicas 10
	$(BIN)/pacdeploy --context pacdeploy-sandbox scale --replicas 1
	@echo "Next: pacdeploy forward 9090, pacdeploy down, pacdeploy sandbox down"

# Builds Helm 4 from the Go module proxy on first use (a few minutes), like the sandbox.
bench: install
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/peers.py
	$(BIN)/python bench/forward_vs_kubectl.py
	$(BIN)/python bench/forward_soak.py
	cd bench && ../$(BIN)/python growth.py

sandbox-down: install
	$(BIN)/pacdeploy sandbox down

clean:
	rm -rf $(VENV) $(SCAN) .pytest_cache .ruff_cache
