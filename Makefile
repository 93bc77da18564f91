# orgdesign: two commands to start (make demo, make test); see README.md.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# Tests run in parallel, one process per CPU (pytest-xdist; each has its own database).
# TEST_WORKERS=0 runs them in this process, e.g. to use a debugger.
TEST_WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal -m "not bench" --durations=25

.PHONY: install demo test test-full bench lint format clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "orgdesign needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable '.[dev]'
	@touch $(STAMP)

# The port the demo serves on: make demo PORT=8001
PORT ?= 8000

demo: install
	@$(BIN)/python -c 'import socket, sys; port = int(sys.argv[1]); busy = socket.socket().connect_ex(("127.0.0.1", port)) == 0; busy and sys.exit(f"Port {port} is in use on 127.0.0.1 (another server is running there). Stop it, or serve the demo on another port: make demo PORT={port + 1}")' '$(PORT)'
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_framework
	$(BIN)/python manage.py seed_demo --org synapse --skip-if-present
	@echo
	@echo "  orgdesign demo: http://127.0.0.1:$(PORT)/"
	@echo "  Log in as admin, director, manager or hr with password orgdesign-demo"
	@echo "  (admin sees everything, director and manager their own part, hr reads all;"
	@echo "  README.md says which part each one owns)."
	@echo
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install
	$(PYTEST) $(PYTEST_ARGS)

test-full: install
	ORGDESIGN_TEST_SCALE=full $(PYTEST) $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m pytest tests/benchmarks -m bench -s -q -p no:cacheprovider $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python scripts/import_graph.py

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache db.sqlite3
