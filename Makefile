# ArqonHPO developer commands. `make demo` and `make test` work on a fresh machine: they create .venv, install
# the Python dependencies (every extra) and build the Rust extension into it, then run.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SIZE ?= full

.PHONY: help develop demo test test-rust test-python lint bench bench-smoke clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(VENV)/bin/maturin:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip "maturin>=1.5,<2"

develop: $(VENV)/bin/maturin  ## build the Rust extension (release) into .venv, with every extra installed
	$(VENV)/bin/maturin develop --release --extras dev --quiet
	@$(PY) -c "import arqonhpo; print('arqonhpo', arqonhpo.__version__, 'built')"

demo: develop  ## tune a scikit-learn model through Optuna with ArqonSampler and TPE, side by side
	$(PY) examples/demo.py

test: develop test-rust test-python  ## every test: cargo (engine) and pytest (API, adapters, benchmarks at smoke size)

test-rust:
	cargo test --workspace --exclude arqonhpo-py --release

test-python:
	$(PY) -m pytest -q -p no:cacheprovider

lint: develop  ## rustfmt --check, clippy -D warnings, ruff, mypy
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(VENV)/bin/ruff check integrations tests benchmarks examples
	$(VENV)/bin/ruff format --check integrations tests benchmarks examples
	$(VENV)/bin/mypy

bench: develop  ## every benchmark at full size (SIZE=smoke for the quick one); writes benchmarks/report/
	$(PY) -m benchmarks --size $(SIZE)

bench-smoke:  ## every benchmark at smoke size
	$(MAKE) bench SIZE=smoke

clean:  ## remove the virtualenv and build products
	rm -rf $(VENV) target
