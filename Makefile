# Fiber CMS — the two commands: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# The first interpreter found that is Python 3.12 or newer (pyenv follows .python-version).
PYTHON ?= $(shell for p in python3 python3.13 python3.12; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)
HOST ?= 127.0.0.1:8000

.PHONY: run serve test lint format check-python migrate demo worker beat bench clean

check-python:
	@if [ -z "$(PYTHON)" ]; then \
		echo "Fiber CMS needs Python 3.12 or newer (Django 6). Install it (e.g. 'pyenv install 3.12')"; \
		echo "or run: make PYTHON=/path/to/python3.12 run"; exit 1; fi

$(VENV)/.runtime: requirements.txt | check-python
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PIP) install --quiet -r requirements-dev.txt
	@touch $@

migrate: $(VENV)/.runtime
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo

## make run: set everything up and serve on SQLite with eager background tasks.
run: demo
	$(PY) manage.py runserver $(HOST)

## make test: set up the same way and run every test (DATABASE_URL picks the database).
test: $(VENV)/.dev
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

format: $(VENV)/.dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## A real Celery worker and beat (set CELERY_BROKER_URL=redis://127.0.0.1:6379/0 first).
worker: $(VENV)/.runtime
	$(VENV)/bin/celery -A cms_project worker --loglevel=INFO

beat: $(VENV)/.runtime
	$(VENV)/bin/celery -A cms_project beat --loglevel=INFO

## make bench: benchmarks into docs/benchmarks.md (use PostgreSQL: DATABASE_URL=postgres://…).
bench: $(VENV)/.runtime
	$(PY) manage.py migrate --noinput
	$(PY) manage.py bench_invoices --clients $(or $(BENCH_CLIENTS),100000) --write docs/benchmarks.md

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
