# charlib course: two commands do everything on a fresh machine.
#   make course   builds .venv if missing, installs, runs every notebook headless in the learner
#                 profile (real results; `make course PROFILE=full` for the long runs,
#                 PROFILE=smoke for a quick pass), outputs under outputs/
#   make test     builds .venv if missing, installs, runs ruff, pytest and nbval (smoke profile)
# Other targets: make lab (JupyterLab), make bench (benchmarks), make strip (clean notebook outputs),
# make render-docs (measured numbers from benchmarks/results/*.json into README.md and docs/).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PROFILE ?= $(or $(CHARLIB_PROFILE),learner)

.PHONY: install course course-timings test browser lint pytest nbval lab bench strip render-docs clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

# the clock starts before the environment is built, so timings.json holds the whole command's time
course:
	@mkdir -p outputs/notebooks && date +%s > outputs/notebooks/.started
	@$(MAKE) --no-print-directory install
	CHARLIB_PROFILE=$(PROFILE) $(PY) tools/run_notebooks.py --out outputs/notebooks \
		--since $$(cat outputs/notebooks/.started) $(RECORD)

# a whole `make course` from an empty outputs/, recorded as the course's measured times
course-timings:
	rm -rf outputs
	$(MAKE) --no-print-directory course RECORD="--record benchmarks/results/course_timings.json"
	$(PY) tools/render_docs.py

test: browser lint pytest nbval

# Debian's Chromium for tests/test_jupyterlab.py: installed (as root, with apt-get) only when
# CHROMIUM is missing. Without it the JupyterLab test skips and says why; nothing else needs it.
# The test looks at $CHARLIB_CHROMIUM (default /usr/bin/chromium); `make pytest` passes CHROMIUM on.
CHROMIUM ?= $(or $(CHARLIB_CHROMIUM),/usr/bin/chromium)

browser:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "make browser: installing Debian's chromium for the JupyterLab test"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
		|| echo "make browser: could not install chromium; tests/test_jupyterlab.py will skip"; \
		[ -x "$(CHROMIUM)" ] || echo "make browser: apt-get installs /usr/bin/chromium, not $(CHROMIUM);" \
			"tests/test_jupyterlab.py will skip unless CHROMIUM points at a browser"; \
	else \
		echo "make browser: no $(CHROMIUM) and not root with apt-get; tests/test_jupyterlab.py will skip"; \
	fi

lint: $(STAMP)
	$(PY) -m ruff check charlib tests tools benchmarks notebooks

pytest: $(STAMP)
	CHARLIB_PROFILE=smoke CHARLIB_CHROMIUM="$(CHROMIUM)" $(PY) -m pytest tests -q

nbval: $(STAMP)
	CHARLIB_PROFILE=smoke MPLBACKEND=agg $(PY) -m pytest --nbval-lax --nbval-current-env \
		-p no:cacheprovider notebooks -q

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks

bench: $(STAMP)
	$(PY) benchmarks/sprites_speed.py
	$(VENV)/bin/charlib bench --quick --out outputs/bench

render-docs: $(STAMP)
	$(PY) tools/render_docs.py

strip: $(STAMP)
	$(PY) tools/strip_outputs.py notebooks/*.ipynb

clean:
	rm -rf outputs .pytest_cache .ruff_cache
