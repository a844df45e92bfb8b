"""``file://`` indexes, answered as if they were HTTP so the client has one code path.

Supported layouts for an index URL ``file:///srv/idx/`` and project ``<name>`` (PEP 503
normalised):

1. ``/srv/idx/<name>/index.html`` -- a static PEP 503 page (what ``dumb-pypi`` /
   ``simple503`` / ``pip download`` + a generator produce); served as ``text/html``,
   its relative links resolve against ``file:///srv/idx/<name>/``.
2. ``/srv/idx/<name>/`` without ``index.html`` -- every wheel/sdist of ``<name>`` in that
   folder is listed.
3. ``/srv/idx/`` as a flat wheelhouse (``pip download -d``, ``--find-links`` style) -- the
   wheels/sdists in it whose names normalise to ``<name>``.

Listings (2, 3) are generated as PEP 691 JSON: sha256 computed from the bytes (memoised
by path, size and mtime), ``size``, and ``core-metadata`` when a ``<file>.metadata``
sidecar exists. No file, no folder, or no matching artefact = 404. Any other URL is read
as a file (artefacts, ``.metadata`` sidecars), streamed in chunks. Only local files:
a ``file://host/...`` URL with a host other than ``localhost`` is an error.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import httpx
from packaging.utils import canonicalize_name

from wasmtool.index.errors import LocalIndexError
from wasmtool.index.models import parse_filename

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
_CHUNK = 1 << 16


class _FileStream(httpx.SyncByteStream):
    def __init__(self, path: Path) -> None:
        self._path = path
        self._fh = path.open("rb")

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self._fh.read(_CHUNK):
            yield chunk

    def close(self) -> None:
        self._fh.close()


def path_of(url: str) -> Path:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise LocalIndexError(f"file URL with a remote host {parts.netloc!r} is not supported", file=url)
    return Path(url2pathname(unquote(parts.path)))


class LocalIndex:
    """Answers GETs for ``file:`` URLs with :class:`httpx.Response` objects (no network)."""

    def __init__(self) -> None:
        self._digests: dict[tuple[str, int, int], str] = {}
        self._lock = threading.Lock()

    def get(self, url: str, *, project: str | None = None) -> httpx.Response:
        request = httpx.Request("GET", url)
        path = path_of(url)
        try:
            if url.endswith("/"):
                return self._page(request, path, url)
            if path.is_file():
                return httpx.Response(200, stream=_FileStream(path), request=request,
                                      headers={"content-length": str(path.stat().st_size)})
        except OSError as exc:
            raise LocalIndexError(f"cannot read {path}: {exc}", file=url, package=project) from exc
        return httpx.Response(404, request=request)

    def _page(self, request: httpx.Request, folder: Path, url: str) -> httpx.Response:
        index_html = folder / "index.html"
        if index_html.is_file():
            return httpx.Response(200, content=index_html.read_bytes(), request=request,
                                  headers={"content-type": "text/html; charset=utf-8"})
        name = canonicalize_name(folder.name)
        if folder.is_dir():
            candidates = sorted(folder.iterdir())
        elif folder.parent.is_dir():
            candidates = sorted(folder.parent.iterdir())
        else:
            return httpx.Response(404, request=request)
        files = []
        for p in candidates:
            parsed = parse_filename(p.name)
            if parsed is None or parsed[0] != name or not p.is_file():
                continue
            entry: dict[str, object] = {"filename": p.name, "url": p.resolve().as_uri(),
                                        "hashes": {"sha256": self._sha256(p)}, "size": p.stat().st_size}
            sidecar = p.with_name(p.name + ".metadata")
            if sidecar.is_file():
                entry["core-metadata"] = {"sha256": hashlib.sha256(sidecar.read_bytes()).hexdigest()}
            files.append(entry)
        if not files:
            return httpx.Response(404, request=request)
        doc = {"meta": {"api-version": "1.1"}, "name": str(name), "files": files}
        return httpx.Response(200, content=json.dumps(doc).encode(), request=request,
                              headers={"content-type": JSON_TYPE})

    def _sha256(self, path: Path) -> str:
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
        with self._lock:
            if key in self._digests:
                return self._digests[key]
        h = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
        digest = h.hexdigest()
        with self._lock:
            self._digests[key] = digest
        return digest
