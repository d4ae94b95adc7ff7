# Autoencoders, hands-on: the two set-up commands are `make course` and `make test`.
# Each uses the active virtual environment or conda environment (never conda's *base*), or
# creates .venv/ when none is active, and installs the pinned versions of constraints.txt into it.

PYTHON ?= python3
# conda's base environment (or any conda root install) is never written to: Anaconda activates
# it automatically, and ~130 pinned packages would land in it. Base is recognised by its name,
# by being the conda root (CONDA_EXE's or _CONDA_ROOT's prefix) or by holding condabin/.
CONDA_ROOTS := $(abspath $(_CONDA_ROOT) $(if $(CONDA_EXE),$(dir $(CONDA_EXE))..))
CONDA_IS_BASE := $(strip $(filter base,$(CONDA_DEFAULT_ENV)) \
  $(filter $(CONDA_ROOTS),$(abspath $(CONDA_PREFIX))) \
  $(if $(CONDA_PREFIX),$(wildcard $(CONDA_PREFIX)/condabin)))
ifdef VIRTUAL_ENV
  VENV := $(VIRTUAL_ENV)
  VENV_WHY := the active virtual environment
else ifneq ($(CONDA_PREFIX),)
  ifeq ($(CONDA_IS_BASE),)
    VENV := $(CONDA_PREFIX)
    VENV_WHY := the active conda environment $(CONDA_DEFAULT_ENV)
  else
    VENV := .venv
    VENV_WHY := not conda's base environment, which stays untouched
  endif
else
  VENV := .venv
  VENV_WHY := no virtual or conda environment is active
endif
PY := $(VENV)/bin/python
STAMP := $(VENV)/.autoenc-installed
# JupyterLab refuses to start as root (a common classroom container) unless told to.
LAB_ROOT_FLAG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

ifneq ($(filter-out help clean,$(or $(MAKECMDGOALS),help)),)
  $(info make: Python environment $(VENV) ($(VENV_WHY)))
endif

.PHONY: course quick seeds test lab book book-check lock notebooks readme verify-data clean help
help:
	@echo "make course     run every notebook headless (full mode), write build/report.md and"
	@echo "                check each headline metric against notebooks/expected_metrics.toml"
	@echo "make test       unit tests + every notebook in quick mode (nbval)"
	@echo "make lab        open JupyterLab on the notebooks"
	@echo "make book       (optional) build the course website into build/book/ from the committed"
	@echo "                notebooks and README, without running them; a warning fails it"
	@echo "make book-check (optional) open every page of build/book/ in headless Chromium and"
	@echo "                fail on a console error (needs chromium; run make book first)"
	@echo "make quick      the course in quick mode (AUTOENC_QUICK=1); metrics not checked"
	@echo "make seeds      the course in full mode with two other seeds (SEEDS=\"101 202\"):"
	@echo "                do the lessons' claims hold beyond the committed run? build/seed-N/"
	@echo "make notebooks  re-run in full mode, save the outputs into notebooks/, update README"
	@echo "make readme     copy time and memory of build/report.json into README's course map"
	@echo "make verify-data  check every data file's SHA-256 (exit 1 if missing or corrupt)"
	@echo "make lock       re-pin constraints.txt to what is installed (after an upgrade)"
	@echo "make clean      remove build/"
	@echo "make help       this list"
	@echo "Environment: $(VENV) ($(VENV_WHY)); Python for a new .venv: PYTHON=$(PYTHON)"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $@

course: $(STAMP)
	$(PY) -m autoenc_helpers.course

quick: $(STAMP)
	$(PY) -m autoenc_helpers.course --quick

# Every claim and band checked on runs other than the committed one (each notebook's
# ah.setup seed replaced through AUTOENC_SEED); each seed's report in build/seed-N/.
SEEDS ?= 101 202
seeds: $(STAMP)
	@status=0; for seed in $(SEEDS); do \
	  $(PY) -m autoenc_helpers.course --seed $$seed || status=$$?; done; exit $$status

notebooks: $(STAMP)
	$(PY) -m autoenc_helpers.course --save
	$(PY) -m autoenc_helpers.course --update-readme

readme: $(STAMP)
	$(PY) -m autoenc_helpers.course --update-readme

test: $(STAMP)
	$(PY) -m pytest

lab: $(STAMP)
	$(PY) -m jupyter lab $(LAB_ROOT_FLAG) notebooks/

# The course website (optional): Sphinx + MyST-NB, the notebooks' committed outputs, no Node.js.
book: $(STAMP)
	$(PY) book/build.py --out build/book

book-check: $(STAMP)
	$(PY) book/browser_check.py build/book

verify-data: $(STAMP)
	$(PY) -m autoenc_helpers.data verify

# Re-pin every dependency to what is installed now (after a deliberate upgrade).
lock: | $(PY)
	$(PY) -m pip install --quiet --upgrade -e ".[dev]"
	$(PY) -m pip freeze --all --exclude-editable | grep -v -i -E '^(autoenc-helpers|pip)==' > constraints.txt

clean:
	rm -rf build .pytest_cache
