# The two commands of the README: `make demo` and `make test`. Everything else is set-up they run.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup kafka system-tools test unit faults lint demo clean

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

# Debian's prometheus package starts its service and enables it at boot (update-rc.d links, a systemd
# wants link). While it installs, a policy-rc.d that refuses every start is in place (unless the system
# has its own, as Docker images do); after, both enablements are undone with `systemctl disable` (which
# works without a running systemd and syncs the SysV links) and `update-rc.d disable` (systems without
# systemctl, where the wants link is inert). A later upgrade keeps them disabled. Only root installs it.
POLICY_RC_D := /usr/sbin/policy-rc.d

system-tools:  ## Debian packages the tests use for real: Prometheus and promtool (service disabled)
	@command -v promtool >/dev/null && command -v prometheus >/dev/null || { \
	  if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
	    echo "error: prometheus and promtool are needed: install the Debian package 'prometheus' (as root: make system-tools)" >&2; exit 1; \
	  fi; \
	  if [ ! -e $(POLICY_RC_D) ]; then \
	    trap 'rm -f $(POLICY_RC_D)' EXIT; printf '#!/bin/sh\nexit 101\n' > $(POLICY_RC_D); chmod 755 $(POLICY_RC_D); \
	  fi; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus || exit 1; \
	  { if command -v systemctl >/dev/null; then systemctl disable prometheus.service; fi \
	    && update-rc.d prometheus disable; } >/dev/null 2>&1 \
	    || echo "warning: the prometheus service may start at boot: systemctl disable prometheus; update-rc.d prometheus disable" >&2; \
	  echo "installed the Debian package prometheus (prometheus, promtool) system-wide; its service is disabled"; \
	}

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Tests run on pytest-xdist workers, each test module whole on one worker, the slow ones first (pyproject's
# addopts, tests/support/suite.py). `make test` runs more workers than cores: the integration tests mostly
# wait on Kafka and worker processes. TEST_WORKERS=0 runs everything in one process.
UNIT_WORKERS ?= 2
TEST_WORKERS ?= 4

unit: setup  ## the fast path: no broker, and not the tests marked slow (make test runs them)
	$(BIN)/python -m pytest -n $(UNIT_WORKERS) -m "not kafka and not slow"

test: setup kafka system-tools lint  ## everything, against a real broker and a real Prometheus
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --durations=15

faults: setup kafka  ## the fault suite: every fault scenario on the real broker, each compared with replay
	$(BIN)/python -m pytest -m faults

demo: setup kafka
	$(BIN)/ssi-stream demo

clean:
	-$(BIN)/ssi-stream kafka down
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
