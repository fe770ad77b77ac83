# The README's two commands: `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK := $(PY) scripts/devstack.py

.PHONY: run test bench obligations lint lock setup clean-data

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.runtime-installed
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

setup: $(VENV)/.dev-installed

## Run the platform: web server, Celery worker and Celery beat (Ctrl-C stops all).
run: $(VENV)/.runtime-installed
	$(STACK) run

## Run the whole test suite (ARGS="-k audit" to narrow it).
test: $(VENV)/.dev-installed
	$(STACK) exec $(PY) -m pytest $(ARGS)

## Run the benchmarks under bench/; figures go to bench/results/*.json.
bench: $(VENV)/.dev-installed
	$(STACK) exec $(PY) -m bench

## Which promises of docs/obligations.md are proved by passing tests.
obligations: $(VENV)/.dev-installed
	-$(STACK) exec $(PY) -m pytest -q $(ARGS)
	$(PY) scripts/obligations.py

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .

## Re-pin requirements*.txt from requirements*.in.
lock: | $(VENV)/bin/python
	$(PY) scripts/lock.py

## Forget the local database, broker queues and uploads (dev secrets are kept).
clean-data:
	rm -rf .data/pg .data/broker .data/media .data/recordings .data/celerybeat-schedule*
