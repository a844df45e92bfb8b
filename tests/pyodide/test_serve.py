"""`wasmtool serve`: a real subprocess serving an installed bundle folder on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pyodide.wheelmaker import make_wheel
from wasmtool.bundle.pyodide import build_bundle, sha256_file
from wasmtool.bundle.runtime import bundled_runtime
from wasmtool.bundle.serve import find_bundle, mime_type
from wasmtool.errors import WasmtoolError

SERVE_TIMEOUT = 30


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, dist_lock: Path) -> Path:
    """A project folder whose .mochi holds one installed bundle (with its Pyodide runtime)."""
    root = tmp_path_factory.mktemp("serve-project")
    wheel = make_wheel(root / "made", "wt-ok", "1.0", {"wt_ok/__init__.py": "def f():\n    return 1\n"})
    build_bundle(root / ".mochi" / "pyodide-314", dist_lock_path=dist_lock, wheels=[wheel.bundle_wheel()],
                 entry_module="wt_ok", runtime=bundled_runtime(dist_lock.parent))
    return root


def start_serve(root: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", "from wasmtool.cli.main import entry; entry()",
                             "-C", str(root), "serve", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})


@pytest.fixture
def served(project: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = start_serve(project, "--port", "0")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        yield proc, line
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(SERVE_TIMEOUT)


def get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=SERVE_TIMEOUT) as resp:
        return resp.status, resp.headers["Content-Type"], resp.read()


def test_serve_answers_with_explicit_types_and_stops_on_sigint(served: tuple[subprocess.Popen[str], str],
                                                                project: Path) -> None:
    proc, line = served
    bundle = (project / ".mochi" / "pyodide-314").resolve()
    prefix = f"Serving {bundle} at http://127.0.0.1:"
    assert line.startswith(prefix) and line.endswith("/"), line
    port = int(line[len(prefix):-1])
    base = f"http://127.0.0.1:{port}/"

    status, ctype, body = get(base + "index.html")
    assert (status, ctype) == (200, "text/html; charset=utf-8")
    assert body == (bundle / "index.html").read_bytes()
    status, ctype, body = get(base + "pyodide/pyodide.asm.wasm")
    assert (status, ctype) == (200, "application/wasm")
    assert body[:4] == b"\0asm" and len(body) == (bundle / "pyodide" / "pyodide.asm.wasm").stat().st_size
    status, ctype, body = get(base + "loader.mjs")
    assert (status, ctype) == (200, "text/javascript; charset=utf-8")
    assert body == (bundle / "loader.mjs").read_bytes()
    with pytest.raises(urllib.error.HTTPError) as missing:
        get(base + "nope.txt")
    assert missing.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as listing:
        get(base + "wheels/")          # folders are not listed
    assert listing.value.code == 404

    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=SERVE_TIMEOUT)
    assert proc.returncode == 0, err
    assert out == ""                  # one line only, read above
    assert "Traceback" not in err and "KeyboardInterrupt" not in err


def test_serve_stops_on_sigterm(served: tuple[subprocess.Popen[str], str]) -> None:
    proc, line = served
    assert line.startswith("Serving ")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=SERVE_TIMEOUT)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_serve_without_a_bundle_says_to_install(tmp_path: Path) -> None:
    proc = start_serve(tmp_path, "--target", "pyodide-314")
    out, err = proc.communicate(timeout=SERVE_TIMEOUT)
    assert proc.returncode == 1
    assert out == ""
    assert "WT865" in err and f"wasmtool -C {tmp_path} install --target=pyodide-314" in err
    assert "Traceback" not in err


def test_serve_reports_a_taken_port(project: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = start_serve(project, "--port", str(port))
        out, err = proc.communicate(timeout=SERVE_TIMEOUT)
    assert proc.returncode == 1
    assert out == ""
    assert "WT866" in err and str(port) in err and "--port" in err
    assert "Traceback" not in err


def test_find_bundle_picks_the_one_installed(tmp_path: Path) -> None:
    mochi = tmp_path / ".mochi"
    with pytest.raises(WasmtoolError) as none:
        find_bundle(mochi, None, install_hint="wasmtool install --target=T")
    assert none.value.code == "WT865"
    one = mochi / "a"
    one.mkdir(parents=True)
    (one / "bundle.json").write_text("{}")
    (mochi / "build").mkdir()      # not a bundle: ignored
    assert find_bundle(mochi, None, install_hint="x") == one
    two = mochi / "b"
    two.mkdir()
    (two / "bundle.json").write_text("{}")
    with pytest.raises(WasmtoolError, match=r"several bundles are installed \(a, b\)"):
        find_bundle(mochi, None, install_hint="x")
    assert find_bundle(mochi, "b", install_hint="x") == two


@pytest.mark.parametrize(("path", "expected"), [
    ("pyodide.asm.wasm", "application/wasm"),
    ("a/b/loader.mjs", "text/javascript; charset=utf-8"),
    ("x.JS", "text/javascript; charset=utf-8"),
    ("bundle.json", "application/json"),
    ("wheels/a-1-py3-none-any.whl", "application/octet-stream"),
    ("python_stdlib.zip", "application/zip"),
    ("README", "application/octet-stream"),
    (".hidden", "application/octet-stream"),
])
def test_mime_types_are_explicit(path: str, expected: str) -> None:
    assert mime_type(path) == expected


def test_serve_does_not_follow_links_out_of_the_folder(tmp_path: Path, project: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    site = tmp_path / "site"
    site.mkdir()
    (site / "bundle.json").write_text("{}")
    (site / "leak.txt").symlink_to(secret)
    proc = subprocess.Popen([sys.executable, "-c",
                             "import sys; from pathlib import Path; from wasmtool.bundle.serve import *; "
                             "s = open_server(Path(sys.argv[1]), 0); "
                             "serve_until_stopped(s, lambda: print(s.server_address[1], flush=True))", str(site)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=project.parent)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().strip())
        with pytest.raises(urllib.error.HTTPError) as leak:
            get(f"http://127.0.0.1:{port}/leak.txt")
        assert leak.value.code == 404
        assert sha256_file(secret)  # still there, never served
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=SERVE_TIMEOUT)
    assert proc.returncode == 0
