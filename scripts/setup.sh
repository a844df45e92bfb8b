#!/usr/bin/env bash
# Set up a fresh machine for wasmtool development: Python venv with wasmtool and its
# test tools, Node packages (Pyodide, Playwright) and Debian Chromium, and the pinned
# test artefacts. Idempotent: a second run only checks what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

pick_python() {
  if [ -n "${WASMTOOL_SETUP_PYTHON:-}" ]; then echo "$WASMTOOL_SETUP_PYTHON"; return; fi
  for cand in python3.12 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
      echo "$cand"; return
    fi
  done
  echo "no CPython >= 3.11 found" >&2; exit 1
}

PY=$(pick_python)
want=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ -x .venv/bin/python ]; then
  have=$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo none)
  if [ "$have" != "$want" ]; then echo "setup: recreating .venv ($have -> $want)"; rm -rf .venv; fi
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
fi
stamp=.venv/.wasmtool-setup-stamp
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q -e '.[dev,wasi]' 2>&1 | grep -v -e "is ignored" -e "^ *$" || true
  .venv/bin/python -c "import wasmtool, uv, wasmtime, componentize_py" 
  touch "$stamp"
fi

if [ -f scripts/setup-node.sh ]; then bash scripts/setup-node.sh; fi

.venv/bin/python scripts/fetch_artefacts.py
echo "setup: done (python $want, $(.venv/bin/wasmtool --version))"
