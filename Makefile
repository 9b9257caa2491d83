# Two entry points for a fresh machine (see README):
#   make run    set up .venv and run the bot on the embedded defaults (SQLite in ./data)
#   make test   set up .venv and run the whole test suite
PY ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PY) not found)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $(STAMP)

.PHONY: setup run test bench
setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/python main.py run

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider
