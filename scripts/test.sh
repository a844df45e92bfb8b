#!/usr/bin/env bash
# The whole test suite: setup (idempotent), lint, types, then pytest (which also drives
# Node/Pyodide, Playwright+Chromium and wasmtime tests). Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== ruff"; .venv/bin/ruff check wasmtool tests scripts bench runtime
echo "== mypy --strict"; .venv/bin/python -m mypy
echo "== pytest"; .venv/bin/python -m pytest -q "$@"
