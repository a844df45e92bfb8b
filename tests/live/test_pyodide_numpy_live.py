"""numpy for pyodide-314, live: locked from Pyodide's distribution lock, then run from the CDN.

`wasmtool lock --target=pyodide-314` on a project with ``numpy = "*"`` against the real
default index (no WASMTOOL_INDEX_URL) must pin numpy from ``node_modules/pyodide/
pyodide-lock.json`` (same version, file name and sha256, served by the Pyodide CDN). Then
Node loads Pyodide with the CDN as the package base (``packageBaseUrl``; ``packageCacheDir``
in the test's temporary folder, so node_modules is not written), loads numpy, checks the
downloaded wheel's sha256 against the lock (Pyodide does not in Node) and runs
``numpy.arange(3).sum()``.

Deselected by default; `bash scripts/test.sh -m live`. Without network access to the index
or the CDN, or without node and node_modules/pyodide, it fails with the reason (every step
has a timeout), it does not hang or skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import VENV_BIN
from tests.skip_policy import missing
from wasmtool.bundle.errors import PyodideNotInstalledError
from wasmtool.run.pyodide import pyodide_dir

pytestmark = pytest.mark.live

LOCK_TIMEOUT = 300.0
NODE_TIMEOUT = 180.0  # the script gives up by itself a little earlier

RUN_NUMPY = r"""
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import url from "node:url";

const [indexDir, baseUrl, cacheDir, fileName, sha256, timeoutMs] = process.argv.slice(2);
console.log = (...a) => console.error(...a);
const emit = (obj) => { process.stdout.write(JSON.stringify(obj) + "\n"); process.exit(obj.ok ? 0 : 1); };
process.on("unhandledRejection", (err) => emit({ ok: false, step: "unhandled", error: String(err?.message ?? err) }));
setTimeout(() => emit({ ok: false, step: "timeout",
  error: `nothing finished within ${timeoutMs} ms (is ${baseUrl} reachable?)` }), Number(timeoutMs));

let step = "loadPyodide";
try {
  const { loadPyodide } = await import(url.pathToFileURL(path.join(indexDir, "pyodide.mjs")).href);
  const py = await loadPyodide({ indexURL: indexDir, packageBaseUrl: baseUrl, packageCacheDir: cacheDir,
                                 stdout: (s) => console.error(s), stderr: (s) => console.error(s) });
  step = "loadPackage";
  const errors = [];
  const loaded = await py.loadPackage("numpy", { messageCallback: (m) => console.error(m),
                                                 errorCallback: (m) => errors.push(String(m)) });
  if (!loaded.some((p) => p.name === "numpy")) {
    emit({ ok: false, step, error: `numpy was not loaded from ${baseUrl}: ${errors.join("; ") || "no message"}` });
  }
  step = "sha256";
  const cached = path.join(cacheDir, fileName);
  const actual = fs.existsSync(cached)
    ? crypto.createHash("sha256").update(fs.readFileSync(cached)).digest("hex") : null;
  if (actual !== sha256) {
    emit({ ok: false, step, error: `${cached}: sha256 ${actual}, the lock says ${sha256}` });
  }
  step = "run";
  const value = py.runPython("import numpy\nint(numpy.arange(3).sum())");
  emit({ ok: true, value, version: py.runPython("numpy.__version__") });
} catch (err) {
  emit({ ok: false, step, error: String(err?.message ?? err) });
}
"""


def live_env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WASMTOOL_INDEX", "WASMTOOL_EXTRA"))}
    env["WASMTOOL_CACHE_DIR"] = str(cache)
    return env


def test_numpy_locks_from_the_distribution_lock_and_runs_from_the_cdn(tmp_path: Path) -> None:
    try:
        dist = pyodide_dir()
    except PyodideNotInstalledError as exc:
        problem = str(exc)
        dist = None
    if dist is None:
        missing(problem)  # outside the except: no chained traceback
    node = shutil.which("node")
    if node is None:
        missing("node is not on PATH (Node.js 20 or newer)")
    version = json.loads((dist / "package.json").read_text())["version"]
    expected = json.loads((dist / "pyodide-lock.json").read_text())["packages"]["numpy"]
    cdn = f"https://cdn.jsdelivr.net/pyodide/v{version}/full/"

    project = tmp_path / "np"
    project.mkdir()
    (project / "mochi.toml").write_text('name = "np"\n\n[python]\nrequires-python = ">=3.12"\n'
                                        'targets = ["pyodide-314"]\n\n[python-dependencies]\nnumpy = "*"\n')
    try:
        proc = subprocess.run([str(VENV_BIN / "wasmtool"), "-C", str(project), "--no-progress", "lock",
                               "--target=pyodide-314"], capture_output=True, text=True,
                              env=live_env(tmp_path / "cache"), timeout=LOCK_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"wasmtool lock did not finish within {LOCK_TIMEOUT:.0f} s (is the default index reachable?)")
    assert proc.returncode == 0, f"wasmtool lock failed against the default index:\n{proc.stderr}"

    lock = tomllib.loads((project / "mochi.lock").read_text())
    numpy: dict[str, Any] = next(p for p in lock["python-package"]
                                 if p["name"] == "numpy" and p["target"] == "pyodide-314")
    assert numpy["origin"] == "pyodide-lock"
    assert numpy["version"] == expected["version"]
    assert numpy["wheel-filename"] == expected["file_name"]
    assert numpy["wheel-sha256"] == expected["sha256"]
    assert numpy["wheel-url"] == cdn + expected["file_name"]

    script = tmp_path / "run_numpy.mjs"
    script.write_text(RUN_NUMPY)
    packages = tmp_path / "pyodide-packages"
    packages.mkdir()
    argv = [node, str(script), str(dist) + os.sep, cdn, str(packages) + os.sep, numpy["wheel-filename"],
            numpy["wheel-sha256"], str(int((NODE_TIMEOUT - 20) * 1000))]
    try:
        run = subprocess.run(argv, capture_output=True, text=True, timeout=NODE_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"Node did not finish loading numpy from {cdn} within {NODE_TIMEOUT:.0f} s")
    lines = [ln for ln in run.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        pytest.fail(f"no result from Node (status {run.returncode}):\n{run.stderr[-3000:]}")
    result = json.loads(lines[-1])
    if not result.get("ok"):
        pytest.fail(f"numpy {numpy['version']} from {cdn}: step {result.get('step')} failed: {result.get('error')}\n"
                    f"node stderr (tail):\n{run.stderr[-1500:]}")
    assert result["value"] == 3
    assert result["version"] == numpy["version"]
