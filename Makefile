# The two commands of the README, plus helpers. Only Python >= 3.11 is needed up front.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PORT   ?= 8080

.PHONY: run test test-prerequisites install install-test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

## run: install, migrate, and run every service in one process on http://localhost:$(PORT)
run: install
	$(BIN)/icp migrate
	$(BIN)/icp up --port $(PORT)

## test: install with test extras and run every test against the local PostgreSQL and RabbitMQ
test: test-prerequisites install-test
	$(BIN)/python -m pytest tests -q

## test-prerequisites: the tools the tests call (LibreOffice, kubectl, Chromium, CJK fonts, rabbitmqctl),
## checked first; prints the one apt-get command that installs what is missing
test-prerequisites:
	@sh tests/check_prerequisites.sh

lint: install-test
	$(BIN)/ruff check .

bench: install-test
	$(BIN)/python bench/bus.py

clean:
	rm -rf $(VENV) .icp .pytest_cache
