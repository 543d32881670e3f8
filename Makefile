# Set-up is part of every target: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
# Playwright (test extra) drives Debian's Chromium; it never downloads a browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: demo test ui bench clean browser services pscl

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

demo: $(BIN)/.installed
	$(BIN)/irt-pipeline demo

test: $(BIN)/.installed browser services
	$(BIN)/python -m pytest -n 2 --dist loadgroup irt_pipeline_tests

# The UI browser test drives Debian's Chromium; install it when missing (needs root
# and apt; elsewhere the browser tests skip, except under CI where they fail).
browser:
	@[ -x /usr/bin/chromium ] || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium not installed: the browser tests will skip"

# The multi-machine tests run a real PostgreSQL and RabbitMQ from Debian's packages;
# install them when missing (root and apt; elsewhere those tests skip, except under CI).
services:
	@{ ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; } || \
		{ command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql rabbitmq-server >/dev/null; } || \
		echo "postgresql or rabbitmq-server not installed: the multi-machine tests will skip"

$(VENV)/.bench: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	touch $@

# bench/run.py's `pscl` row is R's pscl::ideal, the baseline analysts use instead of
# this pipeline: Debian's r-cran-pscl (brings R), installed when missing (root and apt;
# elsewhere that row reports the missing Rscript).
pscl:
	@Rscript -e 'library(pscl)' >/dev/null 2>&1 || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq r-cran-pscl >/dev/null; } || \
		echo "r-cran-pscl not installed: bench/run.py's pscl row will fail"

bench: $(VENV)/.bench pscl
	$(BIN)/python bench/run.py $(BENCH_ARGS)

ui: $(BIN)/.installed
	$(BIN)/python -c "from irt_pipeline.instance import ensure_dagster_home; ensure_dagster_home(pools=True)"
	$(BIN)/dagster dev -w workspace.yaml

clean:
	rm -rf $(VENV) .dagster_home irt_data
