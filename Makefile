# Two entry points on a fresh machine: `make demo` (the pairing on the bundled sample) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out/demo

.PHONY: demo test test-all install install-test lint bench bench-api bench-networks bench-network-defaults bench-rollouts bench-small-trials bench-exports bench-processes bench-uploads bench-areas serve key postgres chromium samples clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed lemon
install-test: $(VENV)/.installed-test lemon

demo: install
	mkdir -p $(dir $(OUT))
	$(BIN)/matcher pair data/samples/observations.csv --schools data/samples/schools.csv --out $(OUT)
	@echo "first pairs:" && head -n 4 $(OUT)/pairs.csv | cut -c1-160

# The storage tests run on SQLite and on a real PostgreSQL server (started here if none answers on 127.0.0.1:5432);
# the web page's end-to-end tests drive Debian's headless Chromium (installed here if missing).
test: install-test postgres chromium
	$(BIN)/ruff check src tests benchmarks
	d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && $(BIN)/mkdocs build --strict --quiet --site-dir "$$d"
	$(BIN)/pytest -q

# The long checks too (larger cross-checks against CP-SAT and networkx).
test-all: install-test postgres chromium
	$(BIN)/pytest -q -m "slow or not slow"

postgres:
	bash scripts/ensure-postgres.sh

chromium:
	bash scripts/ensure-chromium.sh

# The optional LEMON matcher (liblemon-dev + a small C++ shim); without apt-get it prints a note and rustworkx is used.
.PHONY: lemon
lemon:
	bash scripts/ensure-lemon.sh

# The REST API on http://127.0.0.1:8000 (OpenAPI at /docs); storage: MATCHER_DATABASE_URL, default ./matcher.db.
serve: install
	$(BIN)/matcher serve --host 127.0.0.1 --port 8000

# A state key for the local server (printed once; stored hashed).
key: install
	$(BIN)/matcher keys create --role state --label "make key"

lint: install-test
	$(BIN)/ruff check src tests benchmarks

bench: install-test
	$(BIN)/python benchmarks/pairing.py

bench-api: install-test
	$(BIN)/python benchmarks/api.py

# Re-match throughput with 1, 2 and 4 server processes on PostgreSQL (issue 12).
bench-processes: install-test postgres
	$(BIN)/python benchmarks/processes.py --mode both --clients 16,4 --write

# A hostile upload set through the reader and the API: time and peak memory per file (issue 12).
bench-uploads: install-test
	$(BIN)/python benchmarks/uploads.py

# Pairs, two-way pairs, value and time under each policy `areas` (issue 13).
bench-areas: install-test
	$(BIN)/python benchmarks/areas.py --write

bench-networks: install-test
	$(BIN)/python benchmarks/networks.py

bench-network-defaults: install-test
	$(BIN)/python benchmarks/network_defaults.py

bench-rollouts: install-test
	$(BIN)/python benchmarks/rollouts.py

# Size and coverage of every estimator under each inference on small trials (issue 14).
bench-small-trials: install-test
	$(BIN)/python benchmarks/small_trials.py --write

bench-exports: install-test
	$(BIN)/python benchmarks/exports.py

samples: install
	$(BIN)/matcher synth --schools 14 --mean-size 30 --seed 2014 --out data/samples/teachers.csv \
		--schools-out data/samples/schools.csv --observations data/samples/observations.csv \
		--observations data/samples/observations.xlsx
	$(BIN)/matcher synth --city --schools 190 --seed 15 --out data/samples/city_applicants.csv

clean:
	rm -rf out .pytest_cache .ruff_cache matcher.db matcher.db-wal matcher.db-shm
