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
# quiet on success; on failure the tool's own output and a line naming the step
run_quiet() {
  local what=$1; shift
  local log; log=$(mktemp)
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"
    echo "setup: $what failed (exit status above)" >&2
    exit 1
  fi
  rm -f "$log"
}

# the tests' second CPython (a project venv on another interpreter than wasmtool's):
# Debian's python3.11 with its venv module (tests/conftest.py OTHER_PYTHON; check_env.py checks it)
OTHER_PY=/usr/bin/python3.11
other_python_ok() {
  [ -x "$OTHER_PY" ] || return 1
  if command -v dpkg-query >/dev/null 2>&1; then
    dpkg-query -W -f='${Status}' python3.11-venv 2>/dev/null | grep -q "ok installed" || return 1
  fi
}
if ! other_python_ok && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing Debian python3.11 and python3.11-venv (the tests' second interpreter)" >&2
  run_quiet "apt-get update" apt-get update -qq
  run_quiet "apt-get install python3.11 python3.11-venv" \
    env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11 python3.11-venv
fi
if ! other_python_ok; then
  echo "setup: $OTHER_PY (Debian packages python3.11 and python3.11-venv) is missing; install them as root" \
       "(re-run this script as root does); the tests that run a project on a second CPython need it" >&2
  exit 1
fi

# the OCI registry the remote-cache tests start (CNCF Distribution, `docker-registry serve`) and
# skopeo, which reads what wasmtool pushed as a Wasm artifact (tests/support/oci_registry.py)
oci_tools_ok() { command -v docker-registry >/dev/null 2>&1 && command -v skopeo >/dev/null 2>&1; }
if ! oci_tools_ok && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing Debian docker-registry and skopeo (the remote-cache tests' OCI registry)" >&2
  run_quiet "apt-get update" apt-get update -qq
  run_quiet "apt-get install docker-registry skopeo" \
    env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry skopeo
fi
# a C compiler: the wheel-audit tests build small extensions that break the rules on purpose
# (tests/support/audit_builders.py)
if ! command -v gcc >/dev/null 2>&1 && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing Debian gcc (the wheel-audit tests compile small extensions)" >&2
  run_quiet "apt-get update" apt-get update -qq
  run_quiet "apt-get install gcc" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev
fi
if ! command -v gcc >/dev/null 2>&1; then
  echo "setup: gcc (Debian package gcc) is missing; install it as root (re-run this script as root does);" \
       "the wheel-audit tests compile small extensions with it" >&2
  exit 1
fi
if ! oci_tools_ok; then
  echo "setup: docker-registry or skopeo (Debian packages docker-registry and skopeo) is missing; install them" \
       "as root (re-run this script as root does); the remote-cache and push/pull tests need them" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  run_quiet "creating .venv" "$PY" -m venv .venv
  run_quiet "upgrading pip" .venv/bin/python -m pip install -q --upgrade pip
fi
stamp=.venv/.wasmtool-setup-stamp
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ scripts/check_env.py -nt "$stamp" ]; then
  rm -f "$stamp"
  run_quiet "pip install -e '.[dev,wasi]'" .venv/bin/python -m pip install -q -e '.[dev,wasi]'
fi
# every requirement and every module the tests import, checked on every run (names what is missing)
if ! .venv/bin/python scripts/check_env.py; then
  rm -f "$stamp"
  echo "setup: the Python environment is incomplete (see above); re-run scripts/setup.sh after fixing it" >&2
  exit 1
fi
touch "$stamp"

if [ -f scripts/setup-node.sh ]; then bash scripts/setup-node.sh; fi

.venv/bin/python scripts/fetch_artefacts.py
echo "setup: done (python $want, $(.venv/bin/wasmtool --version))"
