# pyrtap: set-up, build, demo, lint, tests and benchmarks.
#
#   make demo    set up if needed, then run $(DEMO_MODULE) with the venv python
#   make lint    set up if needed, then run ruff check and cython-lint (pyproject.toml)
#   make test    set up if needed, then run pytest -q $(PYTEST_ARGS)
#   make bench   set up if needed, then run every benchmarks/bench_*.py
#   make setup   only the set-up: system prerequisites, .venv, editable install
#   make clean   remove build products, .venv and stamps
#
# Set-up is idempotent. scripts/prereqs.sh runs every time (cheap checks; it
# installs Debian packages only when missing). The venv install is redone only
# when .stamp-install is older than one of $(INSTALL_DEPS) or the venv.

SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON      ?= python3
VENV        ?= .venv
VPY         := $(VENV)/bin/python
DEMO_MODULE ?= pyrtap.compare
DEMO_ARGS   ?=
PYTEST_ARGS ?=
STAMP       := .stamp-install

# Files whose change needs a re-build of the Cython core / re-install.
# (Pure-Python changes need nothing: the install is editable.)
INSTALL_DEPS := setup.py pyproject.toml \
	$(wildcard pyrtap/*.pyx pyrtap/*.pxd pyrtap/core/*.pxi pyrtap/includes/*)

export PYTHON VENV

.PHONY: help setup prereqs demo lint test bench clean

help:
	@echo "make demo           run the demo ($(DEMO_MODULE)); DEMO_ARGS=... passes arguments"
	@echo "make lint           ruff check (Python) and cython-lint (.pyx/.pxi/.pxd)"
	@echo "make test           run the tests (pytest -q); PYTEST_ARGS=... passes arguments"
	@echo "make bench          run benchmarks/bench_*.py"
	@echo "make setup          prerequisites + .venv + editable install only"
	@echo "make clean          remove build/, .venv, *.so, pyrtap/_core.c, pyrtap/_rawbench.c, stamps"

prereqs:
	@scripts/prereqs.sh

$(VENV)/pyvenv.cfg: | prereqs
	@echo "pyrtap: creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV)

# pyvenv.cfg is a real file written when the venv is created, so a re-created
# venv is newer than the stamp and triggers a re-install.
$(STAMP): $(INSTALL_DEPS) $(VENV)/pyvenv.cfg | prereqs
	@scripts/setup.sh
	@touch $@

setup: prereqs $(STAMP)

demo: setup
	$(VPY) -m $(DEMO_MODULE) $(DEMO_ARGS)

# The rules are in pyproject.toml ([tool.ruff], [tool.cython-lint]). cython-lint is given
# the package directory so that its `exclude` applies, and runs pycodestyle from PATH,
# hence the venv's bin first.
LINT_PY := $(wildcard pyrtap tests benchmarks examples scripts setup.py)

lint: setup
	$(VENV)/bin/ruff check $(LINT_PY)
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/cython-lint pyrtap

# pytest exits 5 when it collects no tests; that is a failure too (make turns
# any non-zero status into its own exit status 2).
test: setup
	@rc=0; $(VPY) -m pytest -q $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pyrtap: error: pytest collected no tests" >&2; fi; \
	exit $$rc

BENCHES := $(sort $(wildcard benchmarks/bench_*.py))

bench: setup
	@if [ -z "$(BENCHES)" ]; then echo "pyrtap: error: no benchmarks/bench_*.py found" >&2; exit 1; fi
	@set -e; for b in $(BENCHES); do echo "== $$b"; $(VPY) $$b; done

clean:
	rm -rf build $(VENV) *.egg-info .pytest_cache $(STAMP) .stamp-* pyrtap/_core.c pyrtap/_rawbench.c
	find pyrtap -name '*.so' -delete
	find . -name __pycache__ -type d -not -path './.git/*' -prune -exec rm -rf {} +
