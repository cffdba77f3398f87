# papersite: `make site` builds seeds/ into site/, `make test` runs every test.
# Both create their own virtual environment in .venv on first use.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: site test serve lint bench clean native

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.core: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[native]'
	touch $@

# the seed readers and generator/phrases.py compiled with mypyc into build/native/<hash of their
# sources>/ (a no-op when built for the current sources; see generator/native.py); without a C
# compiler they run as plain Python. Then generator/'s bytecode, written even where
# PYTHONDONTWRITEBYTECODE is set (as in many CI and container images), which would otherwise
# have every build compile the package from source again (~0.15 s of each one-record rebuild)
native: $(VENV)/.core
	@$(BIN)/python -c 'import sys; from generator.native import build; sys.exit(build())' \
		|| echo "note: native modules not built; the readers and phrases run as plain Python"
	@$(BIN)/python -m compileall -q generator >/dev/null || true

$(VENV)/.test: pyproject.toml $(VENV)/.core
	$(BIN)/pip install -q -e '.[test]'
	touch $@

site: $(VENV)/.core native
	$(BIN)/python -m generator build

serve: $(VENV)/.core native
	$(BIN)/python -m generator serve

test: $(VENV)/.test native
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: $(VENV)/.test
	$(BIN)/ruff check generator tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) site build/native
