# The two commands a newcomer needs (see README):
#   make preview STACK=<stack>   set up, then run the program (pulumi preview; `make up` applies)
#   make test                    set up, then run lint, type checks and every test
# `make setup` also installs the project itself (editable), which puts .venv/bin/pipeline-sandbox there.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STACK  ?=

.PHONY: setup test lint typecheck unit preview up plan bench clean

$(BIN)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

setup: $(BIN)/.installed

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/python -m pytest

test: lint typecheck unit

# Engine-free dry run: evaluates the whole program for STACK under Pulumi mocks and prints the
# resources it would declare. Works without the Pulumi CLI, a cluster or lakeFS.
plan: setup
	$(BIN)/python -m tools.plan $(if $(STACK),--stack $(STACK))

preview: setup
	pulumi preview $(if $(STACK),--stack $(STACK))

up: setup
	pulumi up $(if $(STACK),--stack $(STACK))

bench: setup
	$(BIN)/python -m tools.bench
	$(BIN)/python -m tools.bench_lakefs
	$(BIN)/python -m tools.bench_cli

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
