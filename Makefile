# The two commands a newcomer needs (see README):
#   make up STACK=<stack> [YES=1]   set up, then deploy the stack (`make preview STACK=<stack>` only shows changes)
#   make test                       set up, then run lint, type checks and every test
# `make setup` also installs the project itself (editable), which puts .venv/bin/pipeline-sandbox there.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STACK  ?=
# YES=1 applies without Pulumi's confirmation prompt, which a non-interactive shell cannot answer.
YES    ?=
TIER_STACKS := dev stage prod

.PHONY: setup test lint typecheck unit preview up plan bench clean need-stack

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

# Every stack-taking target names its stack: an implicit default would plan or deploy the wrong one.
need-stack:
	@if [ -z "$(STACK)" ]; then \
	  echo "usage: make $(or $(filter preview up plan,$(MAKECMDGOALS)),<preview|up|plan>) STACK=<stack>" \
	    "(a tier stack: $(TIER_STACKS); any other name is a sandbox)" >&2; \
	  exit 2; \
	fi

# Engine-free dry run: evaluates the whole program for STACK under Pulumi mocks and prints the
# resources it would declare. Works without the Pulumi CLI, a cluster or lakeFS.
plan: need-stack setup
	$(BIN)/python -m tools.plan --stack $(STACK)

# preview and up select STACK, creating it on first use (a tier stack then reads stacks/Pulumi.<STACK>.yaml).
preview: need-stack setup
	pulumi stack select --create $(STACK)
	pulumi preview --stack $(STACK)

up: need-stack setup
	@case "$(YES)" in \
	  1) ;; \
	  "") if ! [ -t 0 ] || ! [ -t 1 ]; then \
	        echo "make up: not an interactive terminal, so pulumi cannot ask to confirm;" \
	          "run 'make up STACK=$(STACK) YES=1' to apply without asking" >&2; \
	        exit 2; \
	      fi ;; \
	  *) echo "make up: YES must be 1 (apply without asking) or unset, got '$(YES)'" >&2; exit 2 ;; \
	esac
	pulumi stack select --create $(STACK)
	pulumi up --stack $(STACK)$(if $(filter 1,$(YES)), --yes)

bench: setup
	$(BIN)/python -m tools.bench
	$(BIN)/python -m tools.bench_lakefs
	$(BIN)/python -m tools.bench_catalog
	$(BIN)/python -m tools.bench_cli

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
