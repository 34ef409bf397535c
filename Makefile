# The two commands of the README: `make demo` and `make test`. Everything else is set-up they run.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup kafka test unit lint demo clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found: install Python 3.11+" >&2; exit 1; }
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "error: Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,rocksdb]'
	rm -f $(VENV)/.installed-*
	touch $@

kafka: setup  ## install Kafka with mvn into the cache (once)
	$(BIN)/ssi-stream kafka install

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: setup  ## the fast path: no broker
	$(BIN)/python -m pytest -m "not kafka"

test: setup kafka lint  ## everything, against a real broker
	$(BIN)/python -m pytest

demo: setup kafka
	$(BIN)/ssi-stream demo

clean:
	-$(BIN)/ssi-stream kafka down
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
