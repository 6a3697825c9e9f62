# Maillage: two commands do all set-up on a fresh Debian machine with Python 3.11.
#   make demo   the main job on the embedded default (Haute-Loire and Puy-de-Dôme)
#   make test   the whole suite (ruff, mypy, pytest against a real PostGIS + Chromium)
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test db stop venv lint bench clean-var

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	@$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

db: venv
	@bash scripts/db.sh

demo: db
	@$(BIN)/maillage demo
	@echo "== Application web : http://127.0.0.1:5000 (Ctrl+C pour arrêter ; comptes ci-dessus)"
	@$(BIN)/maillage serve --host 127.0.0.1 --port 5000

test: db
	@bash scripts/system-deps.sh
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: venv
	@MAILLAGE_EXTRA_DATABASES=maillage_bench bash scripts/db.sh
	@$(BIN)/python -m pip install -q -e '.[test,bench]'
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

stop:
	@bash scripts/db.sh stop
