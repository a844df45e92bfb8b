"""A hermetic PEP 503/691 simple index on 127.0.0.1 over the pinned test artefacts.

Serves, for every file in ``tests/data/manifest.json`` present under ``tests/data/artefacts``:

- ``/simple/``                      project list (JSON or HTML by ``Accept``)
- ``/simple/<project>/``            PEP 691 JSON or PEP 503 HTML with ``#sha256=`` fragments,
                                    ``core-metadata`` / ``data-core-metadata`` (PEP 658/714)
- ``/files/<filename>``             the artefact bytes (``HEAD`` answered too: uv sends it)
- ``/files/<filename>.metadata``    the wheel's ``METADATA`` (PEP 658)

Source distributions (``.tar.gz``, ``.zip``) are served like wheels, without PEP 658 metadata.
:meth:`IndexServer.add_file` serves a file a test made (a tiny sdist) beside the pinned ones.
The advertised sha256 is always the pinned one. Tests can make the server misbehave:
``tamper`` serves other bytes for a file (the index still advertises the pinned hash),
``stall_after`` sends part of a body then waits (to kill a client mid-download),
``fail_first`` answers 503 a number of times before succeeding. URLs are absolute, built
from the Host header (micropip rejects relative ones).
Run standalone: ``python tests/support/index_server.py [PORT]``.
"""

from __future__ import annotations

import hashlib
import html
import json
import sys
import threading
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
ARTEFACTS = DATA / "artefacts"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"


@dataclass
class Behaviour:
    tamper: dict[str, bytes] = field(default_factory=dict)
    stall_after: dict[str, int] = field(default_factory=dict)
    fail_first: dict[str, int] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class ServedFile:
    project: str
    filename: str
    sha256: str
    path: Path
    metadata: bytes | None
    requires_python: str | None


def _wheel_metadata(path: Path) -> bytes | None:
    if not path.name.endswith(".whl"):
        return None
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.count("/") == 1 and name.endswith(".dist-info/METADATA"):
                return zf.read(name)
    return None


def _requires_python(meta: bytes | None) -> str | None:
    if meta is None:
        return None
    for line in meta.decode("utf-8", "replace").splitlines():
        if not line.strip():
            break
        if line.lower().startswith("requires-python:"):
            return line.split(":", 1)[1].strip()
    return None


def load_files(
    artefacts: Path = ARTEFACTS, manifest: Path = DATA / "manifest.json", only_sets: Iterable[str] | None = None
) -> dict[str, list[ServedFile]]:
    entries = json.loads(manifest.read_text())["files"]
    wanted = set(only_sets) if only_sets is not None else None
    projects: dict[str, list[ServedFile]] = {}
    for e in entries:
        if wanted is not None and not wanted.intersection(e["sets"]):
            continue
        path = artefacts / e["filename"]
        if not path.exists():
            raise FileNotFoundError(f"{path}: pinned artefact missing; run scripts/fetch_artefacts.py")
        meta = _wheel_metadata(path)
        projects.setdefault(e["project"], []).append(
            ServedFile(e["project"], e["filename"], e["sha256"], path, meta, _requires_python(meta))
        )
    for files in projects.values():
        files.sort(key=lambda f: f.filename)
    return projects


class IndexServer:
    def __init__(self, projects: dict[str, list[ServedFile]], port: int = 0) -> None:
        self.projects = projects
        self.behaviour = Behaviour()
        self.by_name = {f.filename: f for files in projects.values() for f in files}
        handler = type("Handler", (_Handler,), {"server_ref": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/simple/"

    def start(self) -> IndexServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> IndexServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_file(self, path: Path, project: str | None = None) -> ServedFile:
        """Serve ``path`` (made by the test) under its own name, with its own sha256. The
        shared project table is copied, never changed: other tests' servers do not see it."""
        from packaging.utils import parse_sdist_filename, parse_wheel_filename

        name = project or str(parse_wheel_filename(path.name)[0] if path.name.endswith(".whl")
                              else parse_sdist_filename(path.name)[0])
        norm = str(canonicalize_name(name))
        meta = _wheel_metadata(path)
        served = ServedFile(norm, path.name, hashlib.sha256(path.read_bytes()).hexdigest(), path, meta,
                            _requires_python(meta))
        files = [f for f in self.projects.get(norm, []) if f.filename != path.name] + [served]
        self.projects = {**self.projects, norm: sorted(files, key=lambda f: f.filename)}
        self.by_name = {**self.by_name, path.name: served}
        return served

    def downloads(self, filename: str) -> int:
        with self.behaviour.lock:
            return sum(1 for m, p in self.behaviour.requests if m == "GET" and p == f"/files/{filename}")


class _Handler(BaseHTTPRequestHandler):
    server_ref: IndexServer
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: with Nagle on, every keep-alive request waits
    # ~40 ms for a delayed ACK (measured by bench/pyodide.py)
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _send(self, status: int, body: bytes, ctype: str, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _serve(self, head: bool) -> None:
        srv = self.server_ref
        path = self.path.split("?", 1)[0]
        with srv.behaviour.lock:
            srv.behaviour.requests.append(("HEAD" if head else "GET", path))
            remaining = srv.behaviour.fail_first.get(path, 0)
            if remaining:
                srv.behaviour.fail_first[path] = remaining - 1
        if remaining:
            self._send(503, b"try again", "text/plain", head)
            return
        host = self.headers.get("Host", f"127.0.0.1:{srv.httpd.server_address[1]}")
        base = f"http://{host}"
        want_json = JSON_TYPE in (self.headers.get("Accept") or "")
        if path in ("/simple", "/simple/"):
            names = sorted(srv.projects)
            if want_json:
                body = json.dumps({"meta": {"api-version": "1.1"},
                                   "projects": [{"name": n} for n in names]}).encode()
                self._send(200, body, JSON_TYPE, head)
            else:
                links = "".join(f'<a href="/simple/{n}/">{n}</a>\n' for n in names)
                self._send(200, f"<!DOCTYPE html><html><body>\n{links}</body></html>".encode(), HTML_TYPE, head)
            return
        if path.startswith("/simple/"):
            name = path[len("/simple/"):].strip("/")
            norm = str(canonicalize_name(name))
            if norm != name:
                self.send_response(301)
                self.send_header("Location", f"/simple/{norm}/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            files = srv.projects.get(norm)
            if files is None:
                self._send(404, b"not found", "text/plain", head)
                return
            body, ctype = self._project_page(norm, files, base, want_json)
            self._send(200, body, ctype, head)
            return
        if path.startswith("/files/"):
            fname = path[len("/files/"):]
            if fname.endswith(".metadata") and fname[: -len(".metadata")] in srv.by_name:
                meta = srv.by_name[fname[: -len(".metadata")]].metadata
                if meta is None:
                    self._send(404, b"no metadata", "text/plain", head)
                else:
                    self._send(200, meta, "application/octet-stream", head)
                return
            f = srv.by_name.get(fname)
            if f is None:
                self._send(404, b"not found", "text/plain", head)
                return
            body = srv.behaviour.tamper.get(fname) or f.path.read_bytes()
            stall = srv.behaviour.stall_after.get(fname)
            if stall is None or head:
                self._send(200, body, "application/octet-stream", head)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:stall])
            self.wfile.flush()
            time.sleep(60)  # the client is killed meanwhile
            return
        self._send(404, b"not found", "text/plain", head)

    def _project_page(
        self, name: str, files: list[ServedFile], base: str, want_json: bool
    ) -> tuple[bytes, str]:
        if want_json:
            out = []
            for f in files:
                item: dict[str, Any] = {"filename": f.filename, "url": f"{base}/files/{f.filename}",
                                        "hashes": {"sha256": f.sha256}}
                if f.requires_python:
                    item["requires-python"] = f.requires_python
                if f.metadata is not None:
                    item["core-metadata"] = {"sha256": hashlib.sha256(f.metadata).hexdigest()}
                out.append(item)
            body = json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": out}).encode()
            return body, JSON_TYPE
        links = []
        for f in files:
            attrs = f'href="{base}/files/{f.filename}#sha256={f.sha256}"'
            if f.requires_python:
                attrs += f' data-requires-python="{html.escape(f.requires_python)}"'
            if f.metadata is not None:
                attrs += f' data-core-metadata="sha256={hashlib.sha256(f.metadata).hexdigest()}"'
            links.append(f"<a {attrs}>{f.filename}</a><br/>")
        page = "<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n"
        return page.encode(), HTML_TYPE


def main() -> int:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8766
    server = IndexServer(load_files(), port=port)
    print(server.url, flush=True)
    server.httpd.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
