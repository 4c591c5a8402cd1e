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

# Not part of `make test`: the scenarios take several minutes and append
# their results to docs/benchmarks.md. BENCH_ARGS picks one scenario and its
# sizes, e.g. `make bench BENCH_ARGS="replay --events 1000000"`.
.PHONY: bench
$(VENV)/.bench-installed: pyproject.toml $(BIN)/punt
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $@

bench: $(VENV)/.bench-installed
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) punt.db punt.db-wal punt.db-shm

# A longer schemathesis campaign than `make test` runs: FUZZ_EXAMPLES cases
# per operation and phase, signed in and anonymous.
FUZZ_EXAMPLES ?= 50
.PHONY: fuzz
fuzz: $(BIN)/punt
	PUNT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) PUNT_FUZZ_TIMEOUT=3600 $(BIN)/python -m pytest -s tests/contract/test_schemathesis.py
