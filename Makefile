# Autoencoders, hands-on: the two set-up commands are `make course` and `make test`.
# Each uses the active virtual environment, or creates .venv/ when none is active, and installs
# the pinned versions from constraints.txt into it.

PYTHON ?= python3
ifdef VIRTUAL_ENV
  VENV := $(VIRTUAL_ENV)
else ifdef CONDA_PREFIX
  VENV := $(CONDA_PREFIX)
else
  VENV := .venv
endif
PY := $(VENV)/bin/python
STAMP := $(VENV)/.autoenc-installed

.PHONY: course quick test lab lock notebooks verify-data clean help
help:
	@echo "make course  run every notebook headless (full mode), write build/report.md"
	@echo "make test    unit tests + every notebook in quick mode (nbval)"
	@echo "make lab     open JupyterLab on the notebooks"
	@echo "make quick   the course in quick mode (AUTOENC_QUICK=1)"
	@echo "make notebooks  re-run in full mode and save the outputs into notebooks/"

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

notebooks: $(STAMP)
	$(PY) -m autoenc_helpers.course --save

test: $(STAMP)
	$(PY) -m pytest

lab: $(STAMP)
	$(PY) -m jupyter lab notebooks/

verify-data: $(STAMP)
	$(PY) -m autoenc_helpers.data verify

# Re-pin every dependency to what is installed now (after a deliberate upgrade).
lock: | $(PY)
	$(PY) -m pip install --quiet --upgrade -e ".[dev]"
	$(PY) -m pip freeze --exclude-editable | grep -v '^autoenc-helpers' > constraints.txt

clean:
	rm -rf build .pytest_cache
