#!/usr/bin/env bash
# Create .venv (if missing), install the build deps and pyrtap in editable mode
# with its test, bench and lint extras (pytest; matplotlib; ruff and cython-lint for
# `make lint`), then check that the Cython core imports.
#
# Normally run by `make setup` (via the .stamp-install rule, which decides when
# a re-install is needed) after scripts/prereqs.sh. Safe to run by hand from
# anywhere; it always (re)installs.
#
# Environment: PYTHON (default python3), VENV (default .venv).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
VPY=$VENV/bin/python

die()  { echo "pyrtap: error: $*" >&2; exit 1; }
info() { echo "pyrtap: $*" >&2; }

if [[ ! -f $VENV/pyvenv.cfg ]]; then
    info "creating $VENV with $PYTHON"
    "$PYTHON" -m venv "$VENV" || die "'$PYTHON -m venv $VENV' failed"
fi
"$VPY" -c 'import sys' 2>/dev/null \
    || die "$VPY does not run (broken virtualenv?); run 'make clean' and retry"

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

# Build requirements from pyproject.toml's [build-system]; they are needed in
# the venv because the package is installed with --no-build-isolation.
info "installing build dependencies (setuptools wheel Cython numpy)"
"$VPY" -m pip install -q 'setuptools>=68' wheel 'Cython>=3.0' 'numpy>=1.26' \
    || die "pip could not install the build dependencies"

# Force a fresh cythonize + compile: Cython's own dependency tracking does not
# see changes to pyrtap/includes/*.h, and we only get here when a source changed.
rm -f pyrtap/_core.c

info "building and installing pyrtap (pip install -e '.[test,bench,lint]')"
"$VPY" -m pip install -q --no-build-isolation -e '.[test,bench,lint]' \
    || die "pip install -e '.[test,bench,lint]' failed (see the compiler/pip output above)"

"$VPY" -c 'import pyrtap._core' \
    || die "the package installed but 'import pyrtap._core' fails (see above)"
info "pyrtap._core built and importable"
