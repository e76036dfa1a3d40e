# Wijkkracht: two commands for a fresh machine.
#   make run   set up, migrate, load the demo data and serve http://127.0.0.1:5000
#   make test  set up, start PostgreSQL and Redis when needed, run ruff and the whole suite
#              on PostgreSQL and again on SQLite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 5000
export FLASK_APP := portal:create_app
export PORTAL_BASE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: run test install translations lint services chromium clean bench-mail bench bench-plans

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d portal/translations -D messages >/dev/null

# The portal with demo data. SQLite in instance/; a worker runs next to it when Redis answers,
# otherwise notifications are delivered in-process after each commit and a relay loop retries
# failed mail and sends reminders and digests.
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --with-applications
	@if $(BIN)/python -c "import redis,sys; redis.Redis(socket_connect_timeout=1).ping()" 2>/dev/null; then \
	  echo "Redis answers: starting a worker next to the portal."; \
	  export PORTAL_REDIS_URL=$${PORTAL_REDIS_URL:-redis://127.0.0.1:6379/0}; \
	  $(BIN)/python worker.py & worker=$$!; \
	  trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
	  $(BIN)/flask run --host 127.0.0.1 --port $(PORT); \
	else \
	  echo "No Redis: notifications are delivered in-process; reminders and digests every 15 minutes."; \
	  $(BIN)/flask relay-outbox --every 60 & relay=$$!; \
	  trap "kill $$relay 2>/dev/null" EXIT INT TERM; \
	  $(BIN)/flask run --host 127.0.0.1 --port $(PORT); \
	fi

services:
	@bash scripts/test-services.sh

chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check portal tests worker.py

test: install services chromium lint
	@echo "== the suite on PostgreSQL =="
	PORTAL_TEST_DATABASE=postgresql $(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)
	@echo "== the suite on SQLite =="
	PORTAL_TEST_DATABASE=sqlite $(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)

# Receipt latency with one worker: 200 submissions, p95 to the SMTP server must be <= 2 s.
# Uses its own database (wijkkracht_bench_mail) and Redis database 5; writes bench/results/.
bench-mail: install services
	$(BIN)/python scripts/bench_receipts.py

# Page speed at city scale: the main pages under gunicorn (2 workers, production settings), driven
# by wrk at 4 connections and at saturation, against /healthz as the ceiling. Database:
# BENCH_DATABASE_URL (default scale_full, see `flask seed-scale`); BENCH_SECONDS per run (10).
# Writes bench/results/pages.md and pages.json; installs Debian's wrk when it is missing.
# BENCH_PAGE_CACHE=off: the same without the page caches, into pages-uncached.md and .json.
bench: install services
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/run.py

# The query plans of the same pages on the same database: EXPLAIN ANALYZE of every statement, and
# any large table read whole. Writes bench/results/plans.md and plans.json.
bench-plans: install services
	$(BIN)/python bench/plans.py

clean:
	rm -rf $(VENV) instance/wijkkracht.sqlite instance/mail
