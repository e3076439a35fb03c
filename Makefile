# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SOAP_ORDERS_DATABASE_URL ?= sqlite:///var/soap_orders.sqlite3
export SOAP_ORDERS_DATABASE_URL

.PHONY: run shell test lint bench mutation wsdl wheel lock clean

# Everything the project installs is pinned, with hashes, in requirements.lock (made by `make lock`
# with pip-tools from setup.cfg's requirements and extras and pyproject.toml's build requirements).
# The environment is rebuilt from nothing whenever the lock changes, so it holds exactly the lock:
# the build tools first, then every locked package hash-checked and without resolving anything,
# then the project itself without dependencies and without build isolation (so it builds with the
# locked setuptools and wheel, and nothing unlocked is fetched).
LOCK := requirements.lock
BUILD_TOOLS := setuptools|wheel

$(VENV)/.locked: $(LOCK)
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required (spyne 2.14 does not import on 3.12+)"; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	awk '/^[a-z0-9]/ { keep = ($$1 ~ /^($(BUILD_TOOLS))==/) } keep' $(LOCK) > $(VENV)/build-tools.txt
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(VENV)/build-tools.txt
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps --no-build-isolation -r $(LOCK)
	touch $@

$(VENV)/.installed: $(VENV)/.locked setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# `make lock` resolves setup.cfg's ranges afresh (the newest releases they allow, for Python 3.11 on
# Linux x86_64) and rewrites requirements.lock; `make lock LOCK_UPGRADE=` keeps the pins that still
# fit and only adds or drops what setup.cfg changed; `make lock LOCK_UPGRADE='--upgrade-package
# lxml'` moves one package. pip-tools runs from a venv of its own, .venv-lock.
LOCK_TOOLS := .venv-lock
PIP_TOOLS := pip-tools==7.7.0
LOCK_UPGRADE ?= --upgrade

lock:
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required"; exit 1; }
	test -x $(LOCK_TOOLS)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_TOOLS) && \
	  $(LOCK_TOOLS)/bin/python -m pip install --quiet '$(PIP_TOOLS)'; }
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_TOOLS)/bin/pip-compile --quiet $(LOCK_UPGRADE) \
	  --generate-hashes --allow-unsafe --strip-extras --extra test --extra lint \
	  --build-deps-for editable --no-emit-index-url --no-emit-find-links \
	  --output-file $(LOCK) pyproject.toml

# The key that encrypts digest-capable clients' secrets: generated once for this checkout unless
# SOAP_ORDERS_SECRET_KEY is set.
var/secret_key: | $(VENV)/.installed
	mkdir -p var
	umask 077 && $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(48))" > $@

# `make run PORT=8080` serves on 127.0.0.1:8080 and publishes that address in the WSDL (the CLI
# reads var/secret_key itself when SOAP_ORDERS_SECRET_KEY is not set).
RUN_ENV = $(if $(PORT),SOAP_ORDERS_BIND=127.0.0.1:$(PORT))

run: $(VENV)/.installed var/secret_key
	$(RUN_ENV) $(BIN)/soap-orders db upgrade
	$(RUN_ENV) $(BIN)/soap-orders demo-data --if-empty --orders 200 --seed 1
	@$(RUN_ENV) $(BIN)/soap-orders demo-client
	@echo "The soap-orders command is $(BIN)/soap-orders; 'make shell' (or '. $(BIN)/activate') puts it on the PATH."
	$(RUN_ENV) $(BIN)/soap-orders serve

# A shell with the checkout's soap-orders (and python, with zeep) first on the PATH, as after
# `. .venv/bin/activate`; leave it with `exit`.
shell: $(VENV)/.installed var/secret_key
	@echo "soap-orders and $(BIN)/python are on the PATH in this shell; 'exit' leaves it."
	@VIRTUAL_ENV="$(CURDIR)/$(VENV)" PATH="$(CURDIR)/$(BIN):$$PATH" $${SHELL:-/bin/sh}

test: $(VENV)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# ruff reads no setup.cfg, so its rule selection lives here: pyflakes, pycodestyle (line length is
# left to review), import order and bugbear. mypy takes its settings from setup.cfg.
RUFF_RULES = --target-version py311 --select E,F,W,I,B --ignore E501,B904

lint: $(VENV)/.installed
	$(BIN)/ruff check $(RUFF_RULES) soap_orders tests contrib
	$(BIN)/mypy

# Not part of `make test`. Needs wrk (installed from the Debian package when missing). PostgreSQL
# targets run when SOAP_ORDERS_BENCH_DATABASE_URL names a database the benchmark may fill.
bench: $(VENV)/.installed
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y wrk; \
	  elif command -v sudo >/dev/null; then sudo apt-get update && sudo apt-get install -y wrk; \
	  else echo "make bench needs wrk (apt-get install wrk)"; exit 1; fi; }
	$(BIN)/python -m tests.bench $(BENCH_ARGS)
	# Every writing call in process, on data sets of its own built afresh: CPU and statements per
	# request, the statements of one request, where the time goes (the single-write section; with
	# --quick, SQLite only, into the quick results file).
	$(BIN)/python -m tests.bench --profile-writes $(filter --quick,$(BENCH_ARGS)) $(WRITES_BENCH_ARGS)
	# The relay of proactive notifications: throughput to a local fake flow server, and the delay
	# from commit to delivery (p50, p99).
	$(BIN)/python -m tests.bench_relay $(RELAY_BENCH_ARGS)

# Mutation testing of the domain rules (configured in setup.cfg); slow, so not part of `make test`.
# MODULES="money events" limits a run to those modules of soap_orders/domain/. It lists the mutants
# that were not killed, then each module's count of mutants by outcome (docs/mutation.md).
MODULES ?=
mutation: $(VENV)/.installed
	$(BIN)/mutmut run --max-children 2 $(foreach module,$(MODULES),"soap_orders.domain.$(module)*")
	$(BIN)/mutmut results
	$(BIN)/mutmut results --all true | sed -n 's/^ *soap_orders\.domain\.\([a-z_]*\)\..*: \(.*\)$$/\1: \2/p' | sort | uniq -c

# What a server installs (docs/deploy.md): the wheel, built with the environment's own (locked)
# build tools, and beside it the parts of requirements.lock it needs (contrib/runtime_lock.py): the
# build tools (spyne is a source package) and the run-time requirements, with their hashes.
wheel: $(VENV)/.installed
	rm -rf dist build   # a build/ left by an earlier build would be packed into the wheel
	$(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir dist .
	$(BIN)/python contrib/runtime_lock.py --build requirements.lock pyproject.toml > dist/requirements-build.lock
	$(BIN)/python contrib/runtime_lock.py requirements.lock setup.cfg > dist/requirements-runtime.lock
	@ls dist

wsdl: $(VENV)/.installed
	$(BIN)/soap-orders wsdl --public-url http://127.0.0.1:8000/soap > wsdl/orders.wsdl
	$(BIN)/soap-orders openapi --public-url http://127.0.0.1:8000/soap > wsdl/openapi.json
	$(BIN)/python contrib/soapui_project.py

clean:
	rm -rf $(VENV) $(LOCK_TOOLS) var .pytest_cache mutants dist build
