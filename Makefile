# ArqonHPO developer commands. `make demo` and `make test` work on a fresh machine: they create .venv,
# install the package with every extra, and build the Rust extension first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.deps-installed
SIZE ?= full

.PHONY: help venv develop demo test test-rust test-python lint bench bench-smoke clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet "maturin>=1.5,<2"
	$(PIP) install --quiet -e ".[dev]" --config-settings=build-args="--profile release"
	touch $(STAMP)

venv: $(STAMP)  ## create .venv with the package (editable) and every extra

develop: $(STAMP)  ## rebuild the Rust extension into .venv after Rust changes
	$(VENV)/bin/maturin develop --quiet --release --extras dev 2>&1 | grep -v '^📦\|^🔗\|^🐍\|^💻\|^🛠' || true
	$(PY) -c "import arqonhpo; print('arqonhpo', arqonhpo.__version__, 'ready')"

demo: develop  ## tune a scikit-learn model through Optuna with ArqonSampler and TPE, side by side
	$(PY) examples/demo.py

test: develop test-rust test-python  ## cargo tests + pytest (everything)

test-rust:
	cargo test --workspace --exclude arqonhpo-py --quiet

test-python:
	$(PY) -m pytest -q

lint: develop  ## rustfmt --check, clippy -D warnings, ruff, mypy
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings
	$(VENV)/bin/ruff check integrations tests benchmarks examples
	$(VENV)/bin/ruff format --check integrations tests benchmarks examples
	$(VENV)/bin/mypy

bench: develop  ## every benchmark at full size (SIZE=smoke for the quick version) -> benchmarks/report/
	$(PY) -m benchmarks --size $(SIZE)

bench-smoke:
	$(MAKE) bench SIZE=smoke

clean:
	rm -rf $(VENV) target
