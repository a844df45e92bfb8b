#!/usr/bin/env bash
# The whole test suite: setup (idempotent), lint, types, then pytest (which also drives
# Node/Pyodide, Playwright+Chromium and wasmtime tests). Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== ruff"; .venv/bin/ruff check wasmtool tests scripts bench runtime
echo "== mypy --strict"; .venv/bin/python -m mypy
# two workers (this machine has 2 cores); a file's tests stay on one worker, so module fixtures
# are built once; the corpus pipeline shares its results across workers (tests/conftest.py);
# files go out in collection order, where conftest puts the long ones first
echo "== pytest"; .venv/bin/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder "$@"
