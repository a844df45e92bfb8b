"""Runs the Playwright specs (browser-tests/) in Debian's headless chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pyodide.conftest import playwright_npx
from tests.pyodide.test_install_bundle import build_app
from tests.support.session_cache import SharedIndex

ROOT = Path(__file__).resolve().parents[2]
#: The specs this test runs, and how many tests they hold (other specs have their own runner).
SPECS: dict[str, int] = {
    "browser-tests/bundle.spec.ts": 4,
    "browser-tests/tampered.spec.ts": 2,
    "browser-tests/app.spec.ts": 1,
    "browser-tests/bundle-deploy.spec.ts": 1,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_playwright_specs(test_wheels: Path, dist_lock: Path, tmp_path: Path, shared_cache: Path,
                          shared_index: SharedIndex) -> None:
    npx = playwright_npx()
    # the app bundle: what the real CLI writes for a project (lock + install --target=pyodide-314),
    # with the session's cache (the specs check the bundle in the browser, not the cache)
    app = build_app(tmp_path / "app-project", shared_cache, shared_index)
    env = {**os.environ,
           "WASMTOOL_BROWSER_APP_BUNDLE": str(app),
           "WASMTOOL_TEST_WHEELS": str(test_wheels),
           "WASMTOOL_BROWSER_FIXTURE": str(tmp_path / "fixture"),
           "WASMTOOL_BROWSER_PORT": str(free_port()),
           "WASMTOOL_PYTHON": sys.executable,
           "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"}
    proc = subprocess.run([str(npx), "--no-install", "playwright", "test", *SPECS, "--reporter=line",
                           "--output", str(tmp_path / "results")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=540,
                          stdin=subprocess.DEVNULL)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert f"{sum(SPECS.values())} passed" in out, out
    assert "failed" not in out, out
