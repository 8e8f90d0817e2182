# Two commands a maintainer needs on a fresh machine with Python 3.10+:
#   make demo   the main job end to end on the embedded dataset
#   make test   the whole test suite
# Each creates .venv on first use and reuses it afterwards.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# nbgrader runs alembic and jupyter through PATH.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: install demo test test-large release leak-check bundle clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m scripts.demo

# One pytest worker per core; tests/conftest.py keeps the modules with costly shared fixtures whole.
test: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist load

# The tests marked large (grading full-size CIFAR-10), which make test leaves out; CI runs both.
test-large: $(STAMP)
	$(BIN)/python -m pytest -m large --timeout 3000

# Regenerates the student release and the example class from solutions/.
release: $(STAMP)
	$(BIN)/python -m scripts.release
	$(BIN)/python -m scripts.make_examples

leak-check: $(STAMP)
	$(BIN)/python -m scripts.leak_check

# The zip to hand out: release notebooks, utils/ and install files, checked for leaks.
bundle: $(STAMP)
	$(BIN)/python -m scripts.bundle

clean:
	rm -rf $(VENV) build dist out *.egg-info .pytest_cache
