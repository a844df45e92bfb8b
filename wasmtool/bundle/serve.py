"""Serve an installed bundle folder on 127.0.0.1 (``wasmtool serve``).

A static file server from the standard library (:class:`http.server.ThreadingHTTPServer`)
with an explicit MIME map (:data:`MIME_TYPES`): a browser refuses a module script served as
anything but JavaScript, and ``WebAssembly.instantiateStreaming`` needs ``application/wasm``,
whatever the machine's ``mimetypes`` database says. Only the loopback address is bound;
folders are not listed; a path that leaves the folder (``..``, a link) is not served.

:func:`find_bundle` picks the folder (pure but for reading the project's ``.mochi``),
:func:`open_server` binds it, :func:`serve_until_stopped` runs it until SIGINT or SIGTERM.
"""

from __future__ import annotations

import functools
import http.server
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from wasmtool.bundle.errors import BundleNotInstalledError, ServeError

__all__ = ["HOST", "MIME_TYPES", "BundleRequestHandler", "find_bundle", "mime_type", "open_server",
           "serve_until_stopped", "serving_line"]

HOST = "127.0.0.1"
MANIFEST = "bundle.json"

#: Content types by file suffix (lower case); anything else is ``application/octet-stream``.
MIME_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".wasm": "application/wasm",
    ".json": "application/json",
    ".map": "application/json",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".ts": "text/plain; charset=utf-8",
    ".mts": "text/plain; charset=utf-8",
    ".whl": "application/octet-stream",
    ".zip": "application/zip",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
}
DEFAULT_TYPE = "application/octet-stream"


def mime_type(path: str) -> str:
    """The ``Content-Type`` served for ``path`` (by its suffix, :data:`MIME_TYPES`)."""
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return MIME_TYPES.get(name[dot:].lower(), DEFAULT_TYPE) if dot > 0 else DEFAULT_TYPE


def serving_line(folder: Path, port: int) -> str:
    """The one line ``wasmtool serve`` prints once it listens."""
    return f"Serving {folder} at http://{HOST}:{port}/"


def find_bundle(mochi_dir: Path, target: str | None, *, install_hint: str) -> Path:
    """The installed bundle folder: ``<mochi_dir>/<target>/`` when ``target`` is given, else the
    one folder of ``mochi_dir`` that holds a ``bundle.json``. ``install_hint`` is the command
    that installs one (said when there is none)."""
    if target is not None:
        folder = mochi_dir / target
        if not (folder / MANIFEST).is_file():
            raise BundleNotInstalledError(f"no bundle is installed for {target} (no {MANIFEST} in it)",
                                          file=str(folder), hint=f"run `{install_hint}` first")
        return folder
    found = sorted(p.parent for p in mochi_dir.glob(f"*/{MANIFEST}")) if mochi_dir.is_dir() else []
    if not found:
        raise BundleNotInstalledError(f"no installed bundle under {mochi_dir}", file=str(mochi_dir),
                                      hint=f"run `{install_hint}` first")
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise BundleNotInstalledError(f"several bundles are installed ({names}): say which with --target",
                                      file=str(mochi_dir), field="--target")
    return found[0]


class BundleRequestHandler(http.server.SimpleHTTPRequestHandler):
    """GET/HEAD of the files under ``directory``, typed by :func:`mime_type`, never cached."""

    server_version = "wasmtool-serve"
    log_all = False

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        return mime_type(os.fspath(path))

    def translate_path(self, path: str) -> str:
        """As the base class, but a path whose real location is outside the folder maps to
        nowhere (a 404), so a link in the folder cannot serve the rest of the disk."""
        local = super().translate_path(path)
        root = Path(self.directory).resolve()
        try:
            Path(local).resolve().relative_to(root)
        except ValueError:
            return os.path.join(os.devnull, "outside")   # cannot exist: answered 404
        return local

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        self.send_error(404, "Not Found")
        return None

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.log_all or (str(code).isdigit() and int(code) >= 400):
            super().log_request(code, size)

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write(f"serve: {format % args}\n")


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a browser that closes its connection early is not worth a traceback
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError):
            return
        sys.stderr.write(f"serve: error answering {client_address[0]}: {exc!r}\n")


def open_server(folder: Path, port: int = 0, *, log_all: bool = False) -> http.server.ThreadingHTTPServer:
    """A server for ``folder`` bound to 127.0.0.1:``port`` (0: a free port), not yet serving."""
    if not 0 <= port <= 65535:
        raise ServeError(f"port {port} is not between 0 and 65535", field="--port")
    handler = functools.partial(BundleRequestHandler, directory=str(folder))
    BundleRequestHandler.log_all = log_all
    try:
        return _Server((HOST, port), handler)
    except OSError as exc:
        raise ServeError(f"cannot listen on {HOST}:{port}: {exc.strerror or exc}", field="--port",
                         hint="choose another --port, or 0 for a free one") from exc


class _Stop(Exception):
    """Raised in the main thread by the SIGTERM handler to leave ``serve_forever``."""


@contextmanager
def _sigterm_stops() -> Iterator[None]:
    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stop(signum)

    previous: Callable[[int, FrameType | None], Any] | int | None = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def serve_until_stopped(server: http.server.ThreadingHTTPServer, ready: Callable[[], None] | None = None) -> None:
    """Serve until SIGINT (Ctrl-C) or SIGTERM; returns normally either way, server closed.
    ``ready`` runs once both signals stop the server (say that it listens there)."""
    try:
        with _sigterm_stops():
            if ready is not None:
                ready()
            server.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        server.server_close()
