# charlib course: two commands do everything on a fresh machine.
#   make course   builds .venv if missing, installs, runs every notebook headless (PROFILE=full
#                 by default; `make course PROFILE=smoke` for a quick pass), outputs under outputs/
#   make test     builds .venv if missing, installs, runs ruff, pytest and nbval (smoke profile)
# Other targets: make lab (JupyterLab), make bench (benchmarks), make strip (clean notebook outputs).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PROFILE ?= $(or $(CHARLIB_PROFILE),full)

.PHONY: install course test lint pytest nbval lab bench strip clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

course: $(STAMP)
	CHARLIB_PROFILE=$(PROFILE) $(PY) tools/run_notebooks.py --out outputs/notebooks

test: lint pytest nbval

lint: $(STAMP)
	$(PY) -m ruff check charlib tests tools benchmarks notebooks

pytest: $(STAMP)
	$(PY) -m pytest tests -q

nbval: $(STAMP)
	CHARLIB_PROFILE=smoke MPLBACKEND=agg $(PY) -m pytest --nbval-lax --nbval-current-env \
		-p no:cacheprovider notebooks -q

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks

bench: $(STAMP)
	$(PY) benchmarks/sprites_speed.py

strip: $(STAMP)
	$(PY) tools/strip_outputs.py notebooks/*.ipynb

clean:
	rm -rf outputs .pytest_cache .ruff_cache
