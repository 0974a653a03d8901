# Two entry points: `make run` serves the blog, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app blog
HOST ?= 127.0.0.1
PORT ?= 5000

SECRET_KEY_FILE := instance/secret_key

.PHONY: run test lint db create-author bench bench-isso bench-instructions clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "python3 -m venv failed: install python3-venv"; exit 1; }
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# A random key kept in instance/ (git-ignored, 0600) so `make run` works without
# configuration; production sets BLOG_SECRET_KEY or keeps this file.
$(SECRET_KEY_FILE):
	mkdir -p instance
	umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_hex(32))' > $@

db: $(VENV)/.installed $(SECRET_KEY_FILE)
	$(FLASK) upgrade-db
	$(FLASK) seed

# The links the blog writes (feeds, pingback and webmention endpoints) follow
# the address it is served at, unless BLOG_SITE_URL says otherwise.
run: db
	BLOG_SITE_URL="$${BLOG_SITE_URL:-http://$(HOST):$(PORT)}" $(FLASK) run --host $(HOST) --port $(PORT)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: $(VENV)/.installed-test node_modules/.installed
	bash scripts/test-services.sh
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Load benchmark (not part of `make test`): gunicorn on 127.0.0.1 measured by wrk.
bench: $(VENV)/.installed
	bash scripts/test-services.sh
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Comment POSTs next to Isso 0.14 in the same run (#12); Isso is installed once
# into bench/.isso-venv (git-ignored).
bench-isso: $(VENV)/.installed
	bash scripts/test-services.sh
	$(BIN)/python bench/vs_isso.py $(BENCH_ISSO_ARGS)

# Instructions per comment POST, counted by valgrind (#12): a figure the
# machine's load does not move. BASELINE=<another checkout> prints the ratio.
bench-instructions: $(VENV)/.installed
	bash scripts/test-services.sh valgrind
	$(BIN)/python bench/instructions.py $(if $(BASELINE),--baseline $(BASELINE))

create-author: $(VENV)/.installed
	$(if $(USERNAME),,$(error usage: make create-author USERNAME=name))
	$(FLASK) create-author $(USERNAME)

clean:
	rm -rf $(VENV) node_modules *.egg-info bench/.isso-venv
