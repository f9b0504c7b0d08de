# Two commands do all the set-up: `make lab` opens the lessons, `make test` runs every test.
# Both create .venv on first use (and refresh it when pyproject.toml changes).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
START_METHODS ?= fork spawn forkserver
# Tests run side by side in this many pytest-xdist workers: most of their time is waiting (kernels, sleeps),
# so more workers than cores pay off. JOBS=0 runs them one after another in one process.
JOBS   ?= 4
LAB_ARGS ?=
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg --nbval-cell-timeout 120
# Jupyter refuses to start as root without --allow-root, and root is the usual user in containers and CI.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)
ROOT_NOTE  := make lab: you are root (as in most containers), so JupyterLab gets --allow-root; it still listens on \
	127.0.0.1 only and asks for its token

.PHONY: lab test test-unit test-browser test-notebooks test-other-pythons lint bench clean site refresh \
	notebooks-fork notebooks-spawn notebooks-forkserver

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 11) else f"mplessons needs Python 3.11 or newer, but $(PYTHON) is {v.major}.{v.minor}: run make $(or $(MAKECMDGOALS),lab) PYTHON=python3.11 (or newer; README, Setup, says how to get one)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dask,docs]'
	@touch $@

lab: $(STAMP)  ## open the lessons in JupyterLab (127.0.0.1 only, token required)
	@$(if $(ALLOW_ROOT),echo "$(ROOT_NOTE)")
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=notebooks $(ALLOW_ROOT) $(LAB_ARGS) --ServerApp.contents_manager_class=jupytext.AsyncTextFileContentsManager

test: $(STAMP)  ## everything CI runs, in parts side by side; each part's output and times are printed
	@$(BIN)/python tools/run_parts.py --make "$(MAKE)" --other-pythons "test-notebooks START_METHODS=spawn" \
		lint test-unit $(addprefix notebooks-,$(START_METHODS))

lint: $(STAMP)
	$(BIN)/ruff check mplessons tests tools site notebooks

test-unit: $(STAMP)  ## pytest tests/ (browser tests included), JOBS tests at a time
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup --durations=15 tests

test-browser: $(STAMP)  ## only the JupyterLab-in-Chromium tests (test-unit runs them too); screenshots in test-results/
	$(BIN)/python -m pytest -m browser tests/browser

# Each run works in its own copy of notebooks/, so that runs side by side (start methods, Pythons) never share
# the modules that %%worker_module writes next to the lessons.
test-notebooks: $(STAMP)  ## every lesson under every start method, compared with its stored outputs
	@version=$$($(BIN)/python -c 'import platform; print(platform.python_version())'); \
	for method in $(START_METHODS); do \
		copy=test-results/notebooks-$$version-$$method; \
		rm -rf $$copy && mkdir -p $$copy && cp -R notebooks/. $$copy/ && \
		find $$copy \( -name '*.py' -o -name __pycache__ -o -name .ipynb_checkpoints \) -prune -exec rm -rf {} + ; \
		echo "== notebooks under start method $$method, Python $$version (in a copy: $$copy)"; \
		MPLESSONS_START_METHOD=$$method PYTHONPATH=tests $(BIN)/python -m pytest -c pyproject.toml -p nbval_graceful \
			$(NBVAL) $$copy || exit 1; \
	done

site: $(STAMP)  ## the course as a static website from the stored outputs (nothing runs); warnings are errors
	$(BIN)/python -m sphinx -E -W --keep-going -q -b html site site/_build/html
	$(BIN)/python -m sphinx -E -W --keep-going -q -b html site/zh site/_build/html/zh
	@echo "open site/_build/html/index.html (简体中文: site/_build/html/zh/index.html)"

refresh: $(STAMP)  ## run lessons and store their outputs: make refresh LESSON=notebooks/03_pool (default: every lesson)
	$(BIN)/python tools/refresh_notebooks.py $(LESSON)

notebooks-fork notebooks-spawn notebooks-forkserver: notebooks-%: $(STAMP)
	@$(MAKE) --no-print-directory test-notebooks START_METHODS=$*

test-other-pythons: $(STAMP)  ## the notebooks under spawn with the oldest and newest other Python found (pyenv, PATH)
	@$(BIN)/python tools/run_parts.py --make "$(MAKE)" --other-pythons "test-notebooks START_METHODS=spawn"

bench: $(STAMP)
	$(BIN)/python -m mplessons bench

clean:
	rm -rf $(VENV) .venv-* test-results .pytest_cache notebooks/*.py notebooks/zh/*.py notebooks/__pycache__ \
		site/_build site/lessons site/zh/lessons
