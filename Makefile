# charlib course: two commands do everything on a fresh machine.
#   make course   builds .venv if missing, installs, runs every notebook headless in the learner
#                 profile (real results; `make course PROFILE=full` for the long runs,
#                 PROFILE=smoke for a quick pass), outputs under outputs/
#   make test     builds .venv if missing, installs, runs ruff, pytest and nbval (smoke profile)
# Other targets: make lab (JupyterLab), make bench (benchmarks), make strip (clean notebook outputs),
#   make student (the notebooks without solutions, for a class),
#   make render-docs (measured numbers from benchmarks/results/*.json into README.md and docs/),
#   make lock (refresh the version lock), make gpu-env (a separate GPU environment, see docs/gpu.md).
# Installs take their exact versions from $(LOCK); `make install LOCK=` installs the ranges alone.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
LOCK ?= requirements/lock-py311-cpu.txt
CONSTRAINTS := $(if $(LOCK),-c $(LOCK))
PROFILE ?= $(or $(CHARLIB_PROFILE),learner)

.PHONY: install course course-timings test browser lint pytest nbval lab bench strip render-docs student clean \
	lock gpu-env

# a GPU environment (made by make gpu-env) is never given the CPU install: the two TensorFlow
# wheels write the same files
$(STAMP): pyproject.toml $(LOCK)
	@if [ -f $(VENV)/.gpu-env ]; then echo "$(VENV) is a GPU environment: update it with" \
		"make gpu-env GPU_VENV=$(VENV) (see docs/gpu.md)"; exit 1; fi
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(CONSTRAINTS) -e ".[dev]"
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

# two pytest-xdist workers: while one traces a training step (one core, in Python) the other runs;
# PYTEST_WORKERS=0 runs the tests in one process
PYTEST_WORKERS ?= 2

pytest: $(STAMP)
	CHARLIB_PROFILE=smoke CHARLIB_CHROMIUM="$(CHROMIUM)" $(PY) -m pytest tests -q -n $(PYTEST_WORKERS)

# the notebooks on the same workers, each notebook whole on one of them (--dist loadfile), each
# worker with its own outputs folder (notebooks/conftest.py)
nbval: $(STAMP)
	CHARLIB_PROFILE=smoke MPLBACKEND=agg $(PY) -m pytest --nbval-lax --nbval-current-env \
		-p no:cacheprovider notebooks -q -n $(PYTEST_WORKERS) --dist loadfile

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks

bench: $(STAMP)
	$(PY) benchmarks/sprites_speed.py
	$(VENV)/bin/charlib bench --quick --out outputs/bench

# a classroom copy of the notebooks without their solutions: make student [STUDENT_DIR=DIR] [OVERWRITE=1]
STUDENT_DIR ?= outputs/student
student: $(STAMP)
	$(PY) tools/make_student.py $(STUDENT_DIR) $(if $(OVERWRITE),--overwrite)

render-docs: $(STAMP)
	$(PY) tools/render_docs.py

strip: $(STAMP)
	$(PY) tools/strip_outputs.py notebooks/*.ipynb

clean:
	rm -rf outputs .pytest_cache .ruff_cache

# Refresh the lock: a fresh environment installs pyproject.toml's ranges with no constraints (so
# it gets the newest versions they allow), and tools/lock.py writes what it installed to $(LOCK).
# Then run make test, and commit the lock if it passes.
LOCK_VENV ?= $(or $(TMPDIR),/tmp)/charlib-lock-venv

lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install --quiet -e ".[dev]"
	$(LOCK_VENV)/bin/python tools/lock.py --out $(or $(LOCK),requirements/lock-py311-cpu.txt)
	rm -rf $(LOCK_VENV)

# A separate GPU environment (docs/gpu.md): tensorflow[and-cuda] and the course's other packages
# from requirements/gpu.txt, at the lock's versions, then charlib itself without its dependencies,
# so pip never installs tensorflow-cpu there. It ends with charlib's GPU check.
GPU_VENV ?= .venv-gpu
GPU_STAMP := $(GPU_VENV)/.installed-stamp

$(GPU_STAMP): pyproject.toml requirements/gpu.txt $(LOCK)
	@test -x $(GPU_VENV)/bin/python || $(PYTHON) -m venv $(GPU_VENV)
	@touch $(GPU_VENV)/.gpu-env
	$(GPU_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(GPU_VENV)/bin/python -m pip install --quiet $(CONSTRAINTS) -r requirements/gpu.txt
	$(GPU_VENV)/bin/python -m pip install --quiet --no-deps -e .
	@if $(GPU_VENV)/bin/python -m pip show --quiet tensorflow-cpu 2>/dev/null; then \
		echo "make gpu-env: tensorflow-cpu is installed in $(GPU_VENV); remove the folder and run" \
			"make gpu-env again"; exit 1; fi
	$(GPU_VENV)/bin/python -m pip check
	@touch $(GPU_STAMP)

gpu-env: $(GPU_STAMP)
	-$(GPU_VENV)/bin/charlib info --gpu
