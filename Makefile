# queuebench: `make run` runs the default suite, `make test` runs every check.
# Both create .venv and install what they need on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ARGS   ?=

.PHONY: run test lint typecheck pytest clean bench bench-gate

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e . --config-settings editable_mode=compat
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	touch $@ $(VENV)/.installed

## run: the default suite (all strategies), summary table, results under results/
run: $(VENV)/.installed
	$(BIN)/queuebench run $(ARGS)

## test: lint, format check, type check (strict) and the test suite
test: $(VENV)/.installed-dev lint typecheck pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

pytest: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

## bench: measure queuebench itself (overhead vs minimal loops, accuracy, scale, start-up; ~5 min)
bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/bench_harness.py $(ARGS)
	$(BIN)/python -m pytest benchmarks/test_hotpaths.py --benchmark-only -q -p no:cacheprovider

## bench-gate: measure the regression gate itself (A/A false alarms, A/B detections; ~6-10 min)
bench-gate: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_gate.py $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
