# Set-up is part of every target: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
# Playwright (test extra) drives Debian's Chromium; it never downloads a browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: demo test ui bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

demo: $(BIN)/.installed
	$(BIN)/irt-pipeline demo

test: $(BIN)/.installed
	$(BIN)/python -m pytest irt_pipeline_tests

ui: $(BIN)/.installed
	$(BIN)/python -c "from irt_pipeline.instance import ensure_dagster_home; ensure_dagster_home(pools=True)"
	$(BIN)/dagster dev -w workspace.yaml

clean:
	rm -rf $(VENV) .dagster_home irt_data
