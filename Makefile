# Catalyst: two commands on a fresh machine with Python 3.11+ and make.
#   make demo   set up, start the simulated gateway, run a real trading cycle
#   make test   set up, then ruff, mypy, the layer contract and the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.catalyst-installed

.PHONY: setup clients demo test lint typecheck layers pytest lab bench soak clean-state

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Catalyst needs Python 3.11 or newer; found " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name catalyst --display-name "Catalyst (.venv)" >/dev/null
	@touch $(STAMP)

setup: $(STAMP)

# IB clients other than ib_async for the simulator's client tests (tests/integration/sim/other_ib_clients.py),
# each in its own directory: ib_insync's eventkit has the module name of ib_async's aeventkit, and the two
# ibapi releases are one package name. numpy and nest_asyncio come from .venv; tests skip a missing one.
CLIENTS       := $(VENV)/clients
CLIENTS_STAMP := $(CLIENTS)/.installed
$(CLIENTS_STAMP): $(STAMP) Makefile
	rm -rf $(CLIENTS)
	$(BIN)/python -m pip install --quiet --no-deps --target $(CLIENTS)/ibapi-9.81 ibapi==9.81.1.post1
	$(BIN)/python -m pip install --quiet --no-deps --target $(CLIENTS)/ibapi-10.50 ibapi-stable==10.50.2 protobuf==7.36.2
	$(BIN)/python -m pip install --quiet --no-deps --target $(CLIENTS)/ib_insync-0.9.86 ib_insync==0.9.86 eventkit==1.0.3
	@touch $(CLIENTS_STAMP)

clients: $(CLIENTS_STAMP)

demo: setup
	$(BIN)/catalyst demo

lint: setup
	$(BIN)/ruff check catalyst tests benchmarks strategies

typecheck: setup
	$(BIN)/mypy
	$(BIN)/mypy strategies

layers: setup
	$(BIN)/lint-imports

pytest: setup clients
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

test: lint typecheck layers pytest

# Kernels start in notebooks/: pin the project root (and its catalyst.toml) so they use this
# project's state/, ledger and settings, exactly as `catalyst cycle` does.
lab: setup
	CATALYST_PATHS__ROOT=$(CURDIR) $(if $(wildcard catalyst.toml),CATALYST_CONFIG=$(CURDIR)/catalyst.toml) \
		$(BIN)/jupyter lab --notebook-dir=notebooks

bench: setup
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m benchmarks.run_all

# The chaos soak, long: 30 rounds by default (ROUNDS=N, SEED=N to replay a printed seed).
soak: setup
	CATALYST_CHAOS_ROUNDS=$(or $(ROUNDS),30) $(if $(SEED),CATALYST_CHAOS_SEED=$(SEED)) \
		$(BIN)/python -m pytest -p no:cacheprovider -s -q tests/integration/chaos

clean-state:
	-$(BIN)/catalyst gateway stop
	rm -rf state/* && touch state/.gitkeep
