# Two commands do all the set-up: `make lab` opens the lessons, `make test` runs every test.
# Both create .venv on first use (and refresh it when pyproject.toml changes).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
START_METHODS ?= fork spawn forkserver
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg --nbval-cell-timeout 120

.PHONY: lab test test-unit test-browser test-notebooks lint bench clean site refresh

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "mplessons needs Python 3.10 or newer; run: make PYTHON=python3.12 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dask,docs]'
	@touch $@

lab: $(STAMP)  ## open the lessons in JupyterLab (127.0.0.1 only, token required)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=notebooks --ServerApp.contents_manager_class=jupytext.AsyncTextFileContentsManager

test: $(STAMP) lint test-unit test-notebooks  ## everything CI runs

lint: $(STAMP)
	$(BIN)/ruff check mplessons tests tools site

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests

test-browser: $(STAMP)  ## only the JupyterLab-in-Chromium tests (test-unit runs them too); screenshots in test-results/
	$(BIN)/python -m pytest -m browser tests/browser

test-notebooks: $(STAMP)  ## every lesson under every start method, compared with its stored outputs
	@for method in $(START_METHODS); do \
		echo "== notebooks under start method: $$method"; \
		MPLESSONS_START_METHOD=$$method PYTHONPATH=tests $(BIN)/python -m pytest -p nbval_graceful $(NBVAL) notebooks \
			|| exit 1; \
	done

site: $(STAMP)  ## the course as a static website from the stored outputs (nothing runs); warnings are errors
	$(BIN)/python -m sphinx -E -W --keep-going -q -b html site site/_build/html
	$(BIN)/python -m sphinx -E -W --keep-going -q -b html site/zh site/_build/html/zh
	@echo "open site/_build/html/index.html (简体中文: site/_build/html/zh/index.html)"

refresh: $(STAMP)  ## run lessons and store their outputs: make refresh LESSON=notebooks/03_pool (default: every lesson)
	$(BIN)/python tools/refresh_notebooks.py $(LESSON)

bench: $(STAMP)
	$(BIN)/python -m mplessons bench

clean:
	rm -rf $(VENV) test-results .pytest_cache notebooks/*.py notebooks/__pycache__ site/_build site/lessons site/zh/lessons
