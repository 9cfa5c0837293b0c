# Two commands on a fresh machine with Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test ui benchmark nightly-benchmark bi bi-setup clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# The BI starter: Apache Superset in its own virtualenv (its pins clash with the pipeline's), and
# Chromium with its driver for the headless check (Debian packages, installed when missing).
BI_VENV := .venv-bi
BI_STAMP := $(BI_VENV)/.installed
BI_ENV = SUPERSET_CONFIG_PATH=$(CURDIR)/bi/superset/superset_config.py FLASK_APP=superset

$(BI_STAMP): bi/superset/requirements.txt
	$(PYTHON) -m venv $(BI_VENV)
	$(BI_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BI_VENV)/bin/python -m pip install --quiet -r bi/superset/requirements.txt
	touch $(BI_STAMP)

bi-setup: $(BI_STAMP)
	@command -v chromedriver >/dev/null || { command -v apt-get >/dev/null && (apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null)); } || echo "no chromedriver: the dashboard's browser test will be skipped"

# The dashboard over the demo's warehouse (or NPS_WAREHOUSE_DIR's), served on NPS_BI_PORT (8088).
bi: $(BI_STAMP)
	$(BI_ENV) $(BI_VENV)/bin/python bi/superset/build_dashboard.py --duckdb "$${NPS_WAREHOUSE_DIR:-data/warehouse}/nps.duckdb"
	$(BI_ENV) $(BI_VENV)/bin/superset run -h 127.0.0.1 -p $${NPS_BI_PORT:-8088} --with-threads

# The project's instance settings (run queue, pool limit) go into DAGSTER_HOME, unless it has its own.
INSTANCE = mkdir -p "$$DAGSTER_HOME" && { [ -f "$$DAGSTER_HOME/dagster.yaml" ] || cp deploy/dagster.yaml "$$DAGSTER_HOME/dagster.yaml"; }

demo: $(STAMP)
	DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/data/dagster_home} sh -c '$(INSTANCE) && $(BIN)/nps-pipeline demo'

test: $(STAMP) bi-setup
	$(BIN)/python -m pytest -n 2 -q

# The UI on http://127.0.0.1:$(PORT) (`make ui PORT=3001`). One planned event per asset for a range
# run, not one per asset and day (see README: the trade-off).
PORT ?= 3000
ui: $(STAMP)
	DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS=$${DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS-1} \
	NPS_WEIGHTING_FILE="$${NPS_WEIGHTING_FILE-$(CURDIR)/data/seeds/demo_population_shares.csv}" \
	NPS_BENCHMARK_INDUSTRY="$${NPS_BENCHMARK_INDUSTRY-Software & SaaS}" \
	DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/data/dagster_home} sh -c '$(INSTANCE) && $(BIN)/dg dev -p $(PORT)'

benchmark: $(STAMP)
	$(BIN)/python benchmarks/run_benchmark.py $(ARGS)

nightly-benchmark: $(STAMP)
	$(BIN)/python benchmarks/nightly_cost.py $(ARGS)

clean:
	rm -rf data/landing/demo data/warehouse data/dagster_home data/cache
