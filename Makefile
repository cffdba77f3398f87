# papersite: `make site` builds seeds/ into site/, `make test` runs every test.
# Both create their own virtual environment in .venv on first use.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: site test serve lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.core: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test: pyproject.toml $(VENV)/.core
	$(BIN)/pip install -q -e '.[test]'
	touch $@

site: $(VENV)/.core
	$(BIN)/python -m generator build

serve: $(VENV)/.core
	$(BIN)/python -m generator serve

test: $(VENV)/.test
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: $(VENV)/.test
	$(BIN)/ruff check generator tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) site
