# Two entry points for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test clean

$(BIN)/punt: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/punt
	$(BIN)/punt serve --demo

test: $(BIN)/punt
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) punt.db punt.db-wal punt.db-shm
