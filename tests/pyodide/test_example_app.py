"""examples/browser-form end to end: a copy of the example is locked and installed for
pyodide-314 against the hermetic index (its page comes from ``[browser] app``), served on
127.0.0.1 by the real ``wasmtool serve`` (stopped with SIGINT), and
browser-tests/example-app.spec.ts drives it in Debian's headless chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import VENV_BIN, cli_env, run_cli
from tests.pyodide.conftest import playwright_npx
from tests.support.mochi_program import load
from tests.support.session_cache import SharedIndex

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "browser-form"
SPEC = "browser-tests/example-app.spec.ts"
CONFIG = "browser-tests/example-app.config.ts"
APP_FILES = ("app.mjs", "index.html", "style.css")
SERVING = re.compile(r"Serving (?P<folder>/.+) at (?P<url>http://127\.0\.0\.1:[0-9]+/)")
SERVE_STOP_TIMEOUT = 30


def copy_example(dest: Path) -> Path:
    """The example's own files (never its .mochi/ or lock) in ``dest``."""
    dest.mkdir(parents=True)
    for name in ("mochi.toml", "main.mochi"):
        shutil.copy(EXAMPLE / name, dest / name)
    shutil.copytree(EXAMPLE / "web", dest / "web")
    shutil.copytree(EXAMPLE / "py", dest / "py", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return dest


def install_example(project: Path, cache: Path, server: SharedIndex) -> Path:
    for step in (["lock"], ["install", "--target=pyodide-314"]):
        run_cli(["-C", str(project), *step], cache=cache, index_url=server.url, check=True)
    return project / ".mochi" / "pyodide-314"


def test_the_example_is_what_the_docs_say() -> None:
    text = (EXAMPLE / "mochi.toml").read_text()
    assert 'targets = ["pyodide-314"]' in text and 'app = "web"' in text
    assert sorted(p.name for p in (EXAMPLE / "web").iterdir()) == sorted(APP_FILES)
    page = (EXAMPLE / "web" / "app.mjs").read_text()
    assert 'from "./bindings.mjs"' in page and "bindAlias(bundle, \"checkout\")" in page
    # the form is validated by the app's own model: a path dependency on its Python folder
    assert 'checkout = { path = "py/checkout" }' in text
    assert (EXAMPLE / "py" / "checkout" / "checkout" / "py.typed").is_file()
    # Pyodide comes from the bundle (its runtime in bundle.json), never from a URL the page picks;
    # the packages come from the defaults (index-first), no setting needed
    assert "indexURL" not in page and "pyodideModule" not in page
    assert "pyodide-packages" not in text
    assert not (EXAMPLE / ".mochi").exists() and not (EXAMPLE / "mochi.lock").exists()


@pytest.mark.slow
def test_browser_form_example_in_chromium(tmp_path: Path, shared_cache: Path, shared_index: SharedIndex) -> None:
    # the session's cache: the bundle, the page and the browser's answers are the project's
    cache_dir, index_server = shared_cache, shared_index
    npx = playwright_npx()
    project = copy_example(tmp_path / "browser-form")
    bundle = install_example(project, cache_dir, index_server)

    # install placed the app's page and files into the bundle, byte for byte
    for name in APP_FILES:
        assert (bundle / name).read_bytes() == (EXAMPLE / "web" / name).read_bytes(), name
    for name in ("bundle.json", "loader.mjs", "bindings.mjs"):
        assert (bundle / name).is_file(), name

    # main.mochi's externs are the ones install generated for pyodide-314
    workspace = project / ".mochi" / "python_workspace-pyodide-314"
    declared = {}
    for shim in sorted(workspace.glob("python_wrap/*/*_shim.mochi")):
        declared.update(load(shim.read_text(), file=str(shim)).externs)
    program = load((project / "main.mochi").read_text(), file="main.mochi")
    assert len(program.externs) == 4
    for name, ext in program.externs.items():
        shim_ext = declared[name]
        assert (ext.module, ext.attr, ext.returns) == (shim_ext.module, shim_ext.attr, shim_ext.returns), name
        assert [t for _, t in ext.params] == [t for _, t in shim_ext.params], name

    # the page relies on the bundle's own Pyodide: bundle.json's runtime is ./pyodide/, all there
    manifest = json.loads((bundle / "bundle.json").read_text())
    assert manifest["runtime"]["index_url"] == "pyodide/"
    runtime_files = {f["file"] for f in manifest["runtime"]["files"]}
    assert {"pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip"} <= runtime_files
    for name in runtime_files:
        assert (bundle / "pyodide" / name).is_file(), name

    results = tmp_path / "results"
    server = subprocess.Popen([str(VENV_BIN / "wasmtool"), "-C", str(project), "serve", "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              stdin=subprocess.DEVNULL,
                              env={**cli_env(cache_dir, index_server.url), "PYTHONUNBUFFERED": "1"})
    try:
        assert server.stdout is not None
        line = server.stdout.readline().strip()   # printed once the port is bound
        match = SERVING.fullmatch(line)
        assert match is not None and Path(match["folder"]) == bundle.resolve(), line
        env = {**os.environ,
               "WASMTOOL_EXAMPLE_URL": match["url"],
               "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"}
        proc = subprocess.run([npx, "--no-install", "playwright", "test", "--config", CONFIG, SPEC,
                               "--reporter=line", "--output", str(results)],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=400,
                              stdin=subprocess.DEVNULL)
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
        try:
            serve_out, serve_err = server.communicate(timeout=SERVE_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            server.kill()
            serve_out, serve_err = server.communicate()
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out + serve_err
    assert "1 passed" in out, out
    assert "skipped" not in out and "failed" not in out, out
    # `wasmtool serve` stopped cleanly on SIGINT and answered no request with an error
    assert server.returncode == 0, serve_err
    assert serve_out == "" and serve_err.strip() == "stopped", (serve_out, serve_err)
    shots = sorted(results.glob("**/example-app.png"))
    assert len(shots) == 1, shots
    shot = shots[0].read_bytes()
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 10_000
