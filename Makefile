# Two commands on a fresh machine with Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test ui benchmark nightly-benchmark clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# The project's instance settings (run queue, pool limit) go into DAGSTER_HOME, unless it has its own.
INSTANCE = mkdir -p "$$DAGSTER_HOME" && { [ -f "$$DAGSTER_HOME/dagster.yaml" ] || cp dagster.yaml "$$DAGSTER_HOME/dagster.yaml"; }

demo: $(STAMP)
	DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/data/dagster_home} sh -c '$(INSTANCE) && $(BIN)/nps-pipeline demo'

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

ui: $(STAMP)
	NPS_WEIGHTING_FILE="$${NPS_WEIGHTING_FILE-$(CURDIR)/data/seeds/demo_population_shares.csv}" \
	NPS_BENCHMARK_INDUSTRY="$${NPS_BENCHMARK_INDUSTRY-Software & SaaS}" \
	DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/data/dagster_home} sh -c '$(INSTANCE) && $(BIN)/dagster dev -w workspace.yaml'

benchmark: $(STAMP)
	$(BIN)/python benchmarks/run_benchmark.py $(ARGS)

nightly-benchmark: $(STAMP)
	$(BIN)/python benchmarks/nightly_cost.py $(ARGS)

clean:
	rm -rf data/landing/demo data/warehouse data/dagster_home data/cache
