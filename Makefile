# Erji Twin — the two commands a newcomer needs:
#   make run    set everything up and start the product on its embedded defaults
#   make test   set everything up (dev tools included) and run the whole suite
# Everything else here is a building block of those two.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PY      := $(VENV)/bin/python
PYTHON  ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
DATA    ?= data
DEMO    := $(DATA)/demo
# Debian packages the build and the tests need: a C++ compiler builds `meshoptimizer`
# from source; Node.js runs the three.js GLB checks; chromium is the browser of the
# page tests (driven by Playwright; never `playwright install`); a CJK font so the
# browser draws the Chinese UI (and its screenshots) as text rather than boxes.
APT_PACKAGES := g++ nodejs npm chromium fonts-wqy-zenhei
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help run test system-deps node-deps bundle bench bench-deps lint clean

help:
	@echo "make run    - set up and run Erji Twin on its embedded defaults (demo data)"
	@echo "make test   - set up and run the whole test suite"
	@echo "make bench  - run the API, ingest, portfolio, map and sensor benchmarks (figures go to docs/performance.md)"
	@echo "make bundle - rebuild the viewer's three.js bundle from viewer/js (commit the result)"
	@echo "make lint   - ruff"

## Python environment: created if missing, reinstalled when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | system-deps
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "error: Python >= 3.11 is needed (found $$($(PY) --version))"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

## Debian packages, installed only when a command is missing.
system-deps:
	@missing=""; \
	command -v g++ >/dev/null || missing="$$missing g++"; \
	command -v node >/dev/null || missing="$$missing nodejs"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	test -n "$$(fc-list :lang=zh 2>/dev/null)" || missing="$$missing fonts-wqy-zenhei"; \
	if [ -n "$$missing" ]; then \
		if command -v apt-get >/dev/null; then \
			echo "installing Debian packages:$$missing"; \
			$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
		else echo "error: please install:$$missing"; exit 1; fi; \
	fi

## three.js and the glTF validator, exactly as locked in viewer/js/package-lock.json.
node-deps: viewer/js/node_modules/.package-lock.json
viewer/js/node_modules/.package-lock.json: viewer/js/package-lock.json | system-deps
	cd viewer/js && npm ci --no-audit --no-fund --loglevel=error

## The viewer's three.js bundle (committed, so `pip install` needs no npm); the test
## suite checks the committed file is exactly what these sources and the lock build.
bundle: node-deps
	cd viewer/js && node tools/build.mjs

## The product on its embedded defaults: SQLite and blobs in $(DATA), jobs in-process.
## Development mode allows the built-in secret key (the server log says so loudly);
## the demo portfolio (50 projects; about a minute) and the generated sample building are
## loaded once (a second `twin demo` adds nothing).
PORT ?= 8000
run: $(VENV)/.installed
	@mkdir -p $(DEMO)
	@test -f $(DEMO)/sample-building.ifc || $(PY) -m sample_models $(DEMO)/sample-building.ifc --storeys 6 --bays-x 5 --bays-y 3
	TWIN_DEVELOPMENT=1 TWIN_DATA_DIR=$(DATA) $(VENV)/bin/twin demo --sample $(DEMO)/sample-building.ifc --projects 50
	@echo "Erji Twin: http://127.0.0.1:$(PORT)/  (API docs at /docs)"
	@echo "  demo log-ins, password erji-demo-2026: admin, hq (HQ); east, south, north, southwest, central, northwest (regional managers);"
	@echo "  east-qs, south-qs, north-qs, southwest-qs, central-qs, northwest-qs (regional inspectors); bim, inspector, site (SH-PD-01);"
	@echo "  pm-<project code>, e.g. pm-hz-xs-02 (each project's manager)"
	TWIN_DEVELOPMENT=1 TWIN_DATA_DIR=$(DATA) $(VENV)/bin/twin serve --port $(PORT)

test: $(VENV)/.installed-dev node-deps
	$(PY) -m pytest

## wrk is the load generator of the API benchmark (C, so it leaves the cores to the server).
bench-deps: | system-deps
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends wrk; }

bench: $(VENV)/.installed bench-deps
	$(PY) benchmarks/api.py --markdown
	$(PY) benchmarks/ingest.py --markdown
	$(PY) benchmarks/ingest.py --generated 100000 --repeat 1 --markdown
	$(PY) benchmarks/portfolio.py --markdown
	$(PY) benchmarks/map.py --markdown
	$(PY) benchmarks/sensors.py --markdown

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) viewer/js/node_modules .pytest_cache .benchmarks-cache
