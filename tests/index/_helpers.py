"""Test helpers for the index client: tiny wheels, page renderers, a loopback PEP 691 index."""

from __future__ import annotations

import hashlib
import html
import json
import threading
import time
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name, parse_wheel_filename

from wasmtool.index.models import IndexFile

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
DATA = Path(__file__).resolve().parent / "data"
H = "a" * 64
URL = "https://example.invalid/simple/demo/"


def metadata_bytes(name: str, version: str, *, requires: tuple[str, ...] = ()) -> bytes:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", "Requires-Python: >=3.9",
             *(f"Requires-Dist: {r}" for r in requires)]
    return ("\n".join(lines) + "\n\n").encode()


def make_wheel(folder: Path, filename: str, *, requires: tuple[str, ...] = (), meta: bytes | None = None) -> Path:
    """A minimal wheel whose ``.dist-info/METADATA`` matches its filename."""
    name, version, _build, _tags = parse_wheel_filename(filename)
    dist = f"{filename.split('-')[0]}-{version}.dist-info"
    path = folder / filename
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{name.replace('-', '_')}/__init__.py", "")
        zf.writestr(f"{dist}/METADATA", meta if meta is not None else metadata_bytes(name, str(version),
                                                                                     requires=requires))
        zf.writestr(f"{dist}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        zf.writestr(f"{dist}/RECORD", "")
    return path


def json_page(files: list[dict[str, object]], *, api: str = "1.1", name: str = "demo") -> bytes:
    return json.dumps({"meta": {"api-version": api}, "name": name, "files": files}).encode()


def json_response_headers() -> dict[str, str]:
    return {"content-type": JSON_TYPE}


def render_json(files: list[IndexFile], *, name: str) -> bytes:
    """An IndexFile list as a PEP 691 page (used by the JSON == HTML property)."""
    out: list[dict[str, object]] = []
    for f in files:
        item: dict[str, object] = {"filename": f.filename, "url": f.url, "hashes": f.hashes}
        if f.requires_python is not None:
            item["requires-python"] = f.requires_python
        if f.yanked:
            item["yanked"] = f.yanked_reason if f.yanked_reason else True
        if f.core_metadata:
            item["core-metadata"] = f.core_metadata
        if f.provenance is not None:
            item["provenance"] = f.provenance
        out.append(item)
    return json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": out}).encode()


def render_html(files: list[IndexFile]) -> str:
    """An IndexFile list as a PEP 503 page; at most one hash per link (HTML carries one)."""
    lines = ["<!DOCTYPE html><html><body>"]
    for f in files:
        href = f.url + "".join(f"#{k}={v}" for k, v in list(f.hashes.items())[:1])
        attrs = f'href="{html.escape(href)}"'
        if f.requires_python is not None:
            attrs += f' data-requires-python="{html.escape(f.requires_python)}"'
        if f.yanked:
            attrs += f' data-yanked="{html.escape(f.yanked_reason or "")}"'
        if isinstance(f.core_metadata, dict):
            k, v = next(iter(f.core_metadata.items()))
            attrs += f' data-core-metadata="{k}={v}"'
        elif f.core_metadata:
            attrs += ' data-core-metadata="true"'
        if f.provenance is not None:
            attrs += f' data-provenance="{html.escape(f.provenance)}"'
        lines.append(f"<a {attrs}>{html.escape(f.filename)}</a><br/>")
    lines.append("</body></html>")
    return "\n".join(lines)


@dataclass
class LoopbackIndex:
    """A PEP 691/503 index over ``folder`` (``<folder>/*.whl``) on 127.0.0.1, in a thread.

    ``/simple/<name>/`` -> JSON when Accept asks for it, else HTML; ``/files/<fn>`` and
    ``/files/<fn>.metadata``. URLs are absolute (from the Host header). ``fail_first``
    answers 503 to the first N requests of a path; ``stall`` paths sleep before answering.
    """

    folder: Path
    fail_first: dict[str, int] = field(default_factory=dict)
    stall: dict[str, float] = field(default_factory=dict)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, accept)
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/simple/"

    def files_of(self, project: str) -> list[Path]:
        return sorted(p for p in self.folder.glob("*.whl")
                      if canonicalize_name(parse_wheel_filename(p.name)[0]) == canonicalize_name(project))

    def __enter__(self) -> LoopbackIndex:
        index = self

        class Handler(BaseHTTPRequestHandler):
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
                path = self.path.split("?", 1)[0]
                accept = self.headers.get("Accept", "")
                with index.lock:
                    index.requests.append((self.command, path, accept))
                    left = index.fail_first.get(path, 0)
                    if left:
                        index.fail_first[path] = left - 1
                if left:
                    return self._send(503, b"try later", "text/plain", head)
                if path in index.stall:
                    time.sleep(index.stall[path])
                base = f"http://{self.headers['Host']}"
                if path.startswith("/simple/") and path.endswith("/") and path.count("/") == 3:
                    project = path.split("/")[2]
                    if project != canonicalize_name(project):
                        return self._send(301, b"", "text/plain", head)
                    files = index.files_of(project)
                    if not files:
                        return self._send(404, b"not found", "text/plain", head)
                    entries = [_entry(p, base) for p in files]
                    if JSON_TYPE in accept:
                        doc = {"meta": {"api-version": "1.1"}, "name": project, "files": entries,
                               "versions": sorted({e["filename"].split("-")[1] for e in entries})}
                        return self._send(200, json.dumps(doc).encode(), JSON_TYPE, head)
                    links = "".join(
                        f'<a href="{e["url"]}#sha256={e["hashes"]["sha256"]}" data-requires-python="&gt;=3.9" '
                        f'data-core-metadata="sha256={e["core-metadata"]["sha256"]}">{e["filename"]}</a>\n'
                        for e in entries)
                    return self._send(200, f"<html><body>{links}</body></html>".encode(), "text/html", head)
                if path.startswith("/files/"):
                    target = index.folder / path.removeprefix("/files/")
                    if target.name.endswith(".metadata"):
                        wheel = target.with_name(target.name.removesuffix(".metadata"))
                        if wheel.is_file():
                            return self._send(200, _wheel_metadata(wheel), "application/octet-stream", head)
                    elif target.is_file():
                        return self._send(200, target.read_bytes(), "application/octet-stream", head)
                return self._send(404, b"not found", "text/plain", head)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for _m, p, _a in self.requests if p == path)


def _wheel_metadata(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return zf.read(name)


def _entry(p: Path, base: str) -> dict[str, Any]:
    return {"filename": p.name, "url": f"{base}/files/{p.name}", "requires-python": ">=3.9",
            "hashes": {"sha256": hashlib.sha256(p.read_bytes()).hexdigest()},
            "core-metadata": {"sha256": hashlib.sha256(_wheel_metadata(p)).hexdigest()}}

