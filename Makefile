# The README's two commands: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export SAMSYN_DATA_DIR ?= data
export SAMSYN_PORT ?= 8000

.PHONY: run test lint typecheck imports unit clean lock

# Exactly the versions CI tested, every file checked against its hash (requirements-dev.lock,
# made by `make lock`); then Samsyn itself, with the locked setuptools and nothing else.
$(STAMP): pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/samsyn run --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy .

imports: $(STAMP)
	$(BIN)/lint-imports --no-cache

# In parallel, one xdist worker per CPU; the browser tests share one worker (loadgroup).
PYTEST_WORKERS ?= auto

test: lint typecheck imports
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The lock files follow pyproject.toml: `make lock` adds and removes packages and keeps every
# other pin; `make lock LOCK_UPGRADE=--upgrade` moves everything to the newest allowed versions.
LOCK_VENV := .venv-lock
LOCK_UPGRADE ?=
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile --quiet \
	$(LOCK_UPGRADE) --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links
lock:
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet pip-tools==7.6.2
	$(PIP_COMPILE) --allow-unsafe --extra dev --all-build-deps \
	  --output-file requirements-dev.lock pyproject.toml
	$(PIP_COMPILE) -c requirements-dev.lock --output-file requirements.lock pyproject.toml
	rm -rf $(LOCK_VENV)

clean:
	rm -rf $(VENV) $(LOCK_VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
