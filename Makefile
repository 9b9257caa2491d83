# Two entry points for a fresh machine (see README):
#   make run    set up .venv and run the bot on the embedded defaults (SQLite in ./data);
#               without BOT_TOKEN it starts the sandbox (every role in a web page, no Telegram)
#   make test   set up .venv and run the whole test suite
#   make sandbox  the sandbox even when BOT_TOKEN is set
PY ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PY) not found)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $(STAMP)

.PHONY: setup run sandbox test bench
setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/python main.py run

sandbox: $(STAMP)
	$(VENV)/bin/python main.py sandbox

# The order is shuffled every run (pytest-randomly; the header names the seed): repeat an order
# with `make test PYTEST_ARGS=--randomly-seed=N`. Tests run in one process per core, at most four
# (pytest-xdist; PYTEST_ARGS=-n0 runs them in this one process).
test: $(STAMP)
	$(VENV)/bin/python -m pytest -p no:cacheprovider -rfE -n auto --maxprocesses 4 $(PYTEST_ARGS)
