# The two commands of the README: `make demo` and `make test`. Everything else is set-up they run.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup kafka system-tools test unit lint demo clean

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

system-tools:  ## Debian packages the tests use for real: Prometheus and promtool
	@command -v promtool >/dev/null && command -v prometheus >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus; \
	  else \
	    echo "error: prometheus and promtool are needed: install the Debian package 'prometheus' (apt-get install prometheus)" >&2; exit 1; \
	  fi; }

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: setup  ## the fast path: no broker
	$(BIN)/python -m pytest -m "not kafka"

test: setup kafka system-tools lint  ## everything, against a real broker and a real Prometheus
	$(BIN)/python -m pytest

demo: setup kafka
	$(BIN)/ssi-stream demo

clean:
	-$(BIN)/ssi-stream kafka down
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
