# The two commands of the README: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench clean system

# What the tests need from Debian: PostgreSQL's server (a throwaway cluster is started by the tests).
# Installed with apt-get only where missing (as root, or with sudo).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
system:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing Debian's postgresql (the server store the tests start)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## demo: set up, generate the SYNTHETIC demo scenario, ingest it into ./greyzone-demo.db, show it
demo: $(STAMP)
	$(BIN)/greyzone demo
	$(BIN)/greyzone hazard fit --db greyzone-demo.db --kind shelling --res 8
	$(BIN)/greyzone hazard forecast --db greyzone-demo.db --start 2024-11-28T23:00 --svg demo-scenario/hazard.svg \
		--geojson demo-scenario/hazard.geojson

## test: set up, then lint, type-check and run the whole test suite
test: system $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

## bench: the headline figures (see benchmarks/)
bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/crash.py
	$(BIN)/python benchmarks/control.py
	$(BIN)/python benchmarks/control_accuracy.py
	$(BIN)/python benchmarks/hazard.py
	$(BIN)/python benchmarks/hazard_skill.py --out demo-scenario

clean:
	rm -rf $(VENV) greyzone-demo.db* demo-scenario .pytest_cache .mypy_cache .ruff_cache
