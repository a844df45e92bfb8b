"""Fixtures of the artefact-cache tests: a loopback HTTP server, artefact bytes, tree snapshots."""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from wasmtool.cache import ArtifactCache, hash_bytes

REPO = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("_child_fetch.py")
CHUNK = 16 * 1024


@dataclass(frozen=True)
class Artefact:
    package: str
    filename: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hash_bytes(self.data)[0]

    @property
    def blake3(self) -> str:
        return hash_bytes(self.data)[1]


def make_artefact(package: str, seed: int, size: int = 200_000) -> Artefact:
    """Deterministic pseudo-random bytes standing in for a wheel."""
    data = random.Random(seed).randbytes(size)
    return Artefact(package=package, filename=f"{package}-1.{seed}-py3-none-any.whl", data=data)


class ArtefactServer:
    """Serves ``files`` at ``/<filename>`` on 127.0.0.1 and counts the GETs per file.

    ``stall_after[name] = n`` sends the full Content-Length header and ``n`` body bytes, then
    waits until :meth:`release` (and closes without the rest). ``chunk_delay`` slows every
    body down so concurrent clients overlap.
    """

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.stall_after: dict[str, int] = {}
        self.chunk_delay = 0.0
        self.gets: Counter[str] = Counter()
        self.stalled = threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                name = self.path.lstrip("/")
                if name.startswith("r/"):  # /r/<name> redirects to /<name>
                    self.send_response(302)
                    self.send_header("Location", "/" + name[2:])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with server._lock:
                    server.gets[name] += 1
                    body = server.files.get(name)
                    stall = server.stall_after.get(name)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                limit = len(body) if stall is None else stall
                try:
                    for start in range(0, limit, CHUNK):
                        self.wfile.write(body[start : min(start + CHUNK, limit)])
                        self.wfile.flush()
                        if server.chunk_delay:
                            time.sleep(server.chunk_delay)
                    if stall is not None:
                        server.stalled.set()
                        server._release.wait(timeout=30)
                except OSError:
                    pass  # the client went away (killed on purpose)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    def add(self, artefact: Artefact, data: bytes | None = None) -> str:
        self.files[artefact.filename] = artefact.data if data is None else data
        return self.url(artefact.filename)

    def url(self, filename: str) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/{filename}"

    def release(self) -> None:
        self._release.set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def server() -> Iterator[ArtefactServer]:
    srv = ArtefactServer()
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def cache(tmp_path: Path) -> ArtifactCache:
    return ArtifactCache(tmp_path / "cache")


@pytest.fixture
def demo() -> Artefact:
    return make_artefact("demo", 1)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> bytes)."""
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return env


def child_command(root: Path, jobs_file: Path, *extra: str) -> list[str]:
    return [sys.executable, str(CHILD), str(root), str(jobs_file), *extra]


def wait_for(predicate: object, *, timeout: float = 10.0, what: str = "condition") -> None:
    """Poll ``predicate()`` until true; fail the test (never sleep a fixed time) if it never is."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)
