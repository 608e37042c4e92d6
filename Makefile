# The two promises: `make run` serves a populated site on http://127.0.0.1:5000, offline;
# `make test` sets everything up and runs the whole suite. Everything else is a step of those.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app sitedir
HOST ?= 127.0.0.1
PORT ?= 5000
STAMP := $(VENV)/.installed

.PHONY: run test test-fast setup db content index serve lint browser postgres bench bench-http clean

run: setup db content index serve

test: setup browser postgres lint
	$(BIN)/python -m pytest

# The everyday loop while you work (not a replacement for `make test`): no browser, no
# PostgreSQL, quick Hypothesis profile, stop at the first failure.
test-fast: setup
	HYPOTHESIS_PROFILE=quick $(BIN)/python -m pytest -q -x -m "not browser and not postgres"

setup: $(STAMP)

# -qq: errors only. A machine-wide pip configuration can name index folders that do not exist,
# and pip then warns once per package: hundreds of lines that a newcomer reads as failure.
$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -qq --upgrade pip
	$(BIN)/pip install -qq -e '.[test]'
	touch $(STAMP)

db: setup
	$(FLASK) db upgrade

content: db
	$(FLASK) content load

index: content
	$(FLASK) index rebuild

serve:
	$(BIN)/python -m sitedir.serve --host $(HOST) --port $(PORT)

lint: setup
	$(BIN)/flake8 sitedir tests bench scripts deploy wsgi.py

# Browser tests drive Debian's Chromium (no browser download); install it when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-liberation >/dev/null; }

# The PostgreSQL test starts a throwaway server from Debian's binaries; install them when missing.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "Installing Debian's postgresql for the PostgreSQL test"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; }

bench: setup
	$(BIN)/python bench/search_bench.py

# Requests per second of the main pages on gunicorn (2 workers) against their render floors.
bench-http: setup
	$(BIN)/python bench/http_bench.py --sizes 0 20000 --waitress

clean:
	rm -rf $(VENV) build *.egg-info search_index/* instance
