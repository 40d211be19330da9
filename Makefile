# Fiber CMS — the two commands: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# The first interpreter found that is Python 3.12 or newer (pyenv follows .python-version).
PYTHON ?= $(shell for p in python3 python3.13 python3.12; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)
HOST ?= 127.0.0.1:8000

.PHONY: run serve test lint format check-python migrate demo worker beat bench clean audit deploy-check

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

## make audit: Lighthouse (npm, tools/lighthouse) against the app served as in production
## (gunicorn, DEBUG off, WhiteNoise) on 127.0.0.1:$(AUDIT_PORT); scores into docs/benchmarks.md.
## Uses Debian's Chromium; never downloads a browser. AUDIT_RUNS=3 runs per page; SQLite unless
## AUDIT_DATABASE_URL (never DATABASE_URL: the demo logins are loaded).
LIGHTHOUSE := tools/lighthouse
AUDIT_PORT ?= 8765
$(LIGHTHOUSE)/node_modules/.package-lock.json: $(LIGHTHOUSE)/package-lock.json
	cd $(LIGHTHOUSE) && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund

audit: $(VENV)/.runtime $(LIGHTHOUSE)/node_modules/.package-lock.json
	CHROME_PATH=/usr/bin/chromium AUDIT_PORT=$(AUDIT_PORT) $(PY) $(LIGHTHOUSE)/audit.py

## make deploy-check: pre-flight of a deployment with its environment file (docs/deployment.md):
## check --deploy --fail-level WARNING, no unapplied migration, and HEALTHZ_URL if given.
FIBERCMS_ENV_FILE ?= /etc/fibercms/fibercms.env
deploy-check:
	FIBERCMS_ENV_FILE=$(FIBERCMS_ENV_FILE) VENV=$(VENV) deploy/manage.sh check --deploy --fail-level WARNING
	FIBERCMS_ENV_FILE=$(FIBERCMS_ENV_FILE) VENV=$(VENV) deploy/manage.sh migrate --check
	@if [ -n "$(HEALTHZ_URL)" ]; then curl -fsS "$(HEALTHZ_URL)" && echo " $(HEALTHZ_URL)"; fi
## make bench: the benchmark suite (GUIDE §5) into docs/benchmarks.md, on PostgreSQL:
## BENCH_DATABASE_URL (else DATABASE_URL) holds the data set of BENCH_CLIENTS generated clients
## (made on first use; 100,000 take about an hour); query counts also on <database>100.
## BENCH_ONLY=pages,queries (dataset, queries, pages, invoices, import) runs a subset;
## BENCH_REPEATS, BENCH_SECONDS, BENCH_USERS tune the load runs. Never part of make test.
BENCH_CLIENTS ?= 100000
BENCH_SMALL_CLIENTS ?= 100
BENCH_REPEATS ?= 3
BENCH_SECONDS ?= 10
BENCH_USERS ?= 8
bench: $(VENV)/.dev
	$(PY) manage.py bench_suite --clients $(BENCH_CLIENTS) --small-clients $(BENCH_SMALL_CLIENTS) \
		--repeats $(BENCH_REPEATS) --seconds $(BENCH_SECONDS) --users $(BENCH_USERS) \
		$(if $(BENCH_ONLY),--only $(BENCH_ONLY)) --write docs/benchmarks.md

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
