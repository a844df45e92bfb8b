#!/usr/bin/env bash
# Node side of the dev setup: Pyodide + Playwright from the committed package-lock.json, and
# Debian's chromium for the browser tests. Idempotent: a second run only checks.
# Never downloads Playwright's own browsers (no `npx playwright install`).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup-node: node and npm are required (Node.js 20 or newer)" >&2
  exit 1
fi

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
stamp=node_modules/.wasmtool-setup-stamp
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ ! -f node_modules/pyodide/pyodide.mjs ]; then
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    npm install --no-audit --no-fund --loglevel=error
  fi
  touch "$stamp"
fi
node -e 'const v = require("./node_modules/pyodide/package.json").version;
         if (!v.startsWith("314.")) { console.error(`setup-node: pyodide ${v}, expected 314.x`); process.exit(1); }'

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup-node: installing Debian chromium" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  if [ ! -x /usr/bin/chromium ]; then
    echo "setup-node: /usr/bin/chromium is missing (install Debian's chromium package as root); the browser tests need it" >&2
    exit 1
  fi
fi
echo "setup-node: pyodide $(node -p 'require("./node_modules/pyodide/package.json").version'), chromium: $([ -x /usr/bin/chromium ] && echo yes || echo no)" >&2
