"""The simple-API client: one pooled :class:`httpx.Client` for every request.

- ``GET <index>/<normalised-name>/`` with ``Accept: application/vnd.pypi.simple.v1+json,
  application/vnd.pypi.simple.v1+html;q=0.5, text/html;q=0.1``; the response's
  ``Content-Type`` picks the parser (PEP 691 JSON, or PEP 503 HTML for either HTML type).
- Retries: 5xx, 429, timeouts, connection and protocol errors are retried ``retries``
  times, sleeping ``backoff * 2**n`` seconds (0.2, 0.4, 0.8 by default; no jitter, no
  ``Retry-After``); other 4xx are final. 404/410 mean "not on this index".
- Several indexes: every index is asked; files are merged primary first, a filename
  already listed by an earlier index is not taken again. Not found on any index =
  :class:`ProjectNotFoundError` naming the indexes tried. Any other failure of any index
  is raised (a resolution must not silently depend on which index happened to answer).
- ``file://`` indexes: see :mod:`wasmtool.index._local` for the supported layouts.
- Core metadata: PEP 658/714 ``<file-url>.metadata`` when the page offers it (hash
  checked, name/version checked), else a caller-supplied wheel (``fallback``).
- :meth:`IndexClient.open_stream` lets the artefact cache stream downloads through the
  same pooled client.
- PEP 740: :meth:`IndexClient.get_provenance` fetches a file's provenance object (same
  retries; 404/410 = the file has none).

The client is safe to share between threads (httpx's client is; the page memo is locked).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import httpx
from packaging.metadata import Metadata
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from wasmtool import __version__
from wasmtool.index._local import LocalIndex
from wasmtool.index.config import IndexUrls
from wasmtool.index.errors import (
    IndexHTTPError,
    IndexNetworkError,
    IndexTimeoutError,
    MetadataMismatchError,
    MetadataUnavailableError,
    ProjectNotFoundError,
    UnsupportedContentTypeError,
)
from wasmtool.index.metadata import check_matches, parse_core_metadata, read_wheel_metadata
from wasmtool.index.models import IndexFile, ProjectPage
from wasmtool.index.parse_html import parse_html_page
from wasmtool.index.parse_json import parse_json_page
from wasmtool.index.selection import select_files as _select_files

__all__ = ["ACCEPT", "IndexClient", "read_wheel_metadata"]

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPES = ("application/vnd.pypi.simple.v1+html", "text/html")
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.5, text/html;q=0.1"
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
NOT_FOUND_STATUS = frozenset({404, 410})
_VERIFIABLE = frozenset({"md5", "sha1", "sha224", "sha256", "sha384", "sha512", "blake2b", "blake2s", "sha3_256",
                         "sha3_512"})


class IndexClient:
    """Context manager owning one pooled HTTP client for the given indexes."""

    def __init__(
        self,
        index_urls: IndexUrls | Sequence[str] | str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.2,
        user_agent: str = f"wasmtool/{__version__}",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if isinstance(index_urls, IndexUrls):
            urls: tuple[str, ...] = index_urls.all
        elif isinstance(index_urls, str):
            urls = (index_urls,)
        else:
            urls = tuple(index_urls)
        if not urls:
            raise ValueError("IndexClient needs at least one index URL")
        self.index_urls = tuple(u if u.endswith("/") else u + "/" for u in urls)
        self.retries = max(0, retries)
        self.backoff = backoff
        self._sleep = sleep
        self._http = httpx.Client(
            transport=transport, timeout=httpx.Timeout(timeout), follow_redirects=True,
            headers={"User-Agent": user_agent},
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8))
        self._local = LocalIndex()
        self._pages: dict[str, ProjectPage] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> IndexClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- one request, with retries -----------------------------------------------------

    def _request(self, url: str, *, headers: dict[str, str], project: str | None,
                 stream: bool = False) -> httpx.Response:
        """GET ``url``; retried per the module docstring. The last response is returned
        whatever its status (callers decide); exhausted transport errors are raised typed.
        With ``stream=True`` the body is not read (the caller closes the response)."""
        if url.startswith("file:"):
            resp = self._local.get(url, project=project)
            if not stream:
                resp.read()
            return resp
        last_exc: Exception | None = None
        attempts = self.retries + 1
        for attempt in range(attempts):
            if attempt:
                self._sleep(self.backoff * 2 ** (attempt - 1))
            try:
                request = self._http.build_request("GET", url, headers=headers)
                resp = self._http.send(request, stream=stream)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                last_exc = exc
                continue
            except (httpx.HTTPError, httpx.InvalidURL) as exc:  # bad URL, unsupported scheme, redirect loop
                raise IndexNetworkError(f"{type(exc).__name__}: {exc}", file=url, package=project) from exc
            if resp.status_code in RETRY_STATUS and attempt < attempts - 1:
                resp.close()
                continue
            return resp
        what = f"{type(last_exc).__name__}: {last_exc} (after {attempts} attempts)"
        if isinstance(last_exc, httpx.TimeoutException):
            raise IndexTimeoutError(what, file=url, package=project) from last_exc
        raise IndexNetworkError(what, file=url, package=project) from last_exc

    def _status_error(self, resp: httpx.Response, url: str, project: str | None) -> IndexHTTPError:
        after = f" after {self.retries + 1} attempts" if resp.status_code in RETRY_STATUS else ""
        return IndexHTTPError(f"HTTP {resp.status_code} {resp.reason_phrase}{after}".rstrip(),
                              status=resp.status_code, file=url, package=project)

    # -- project pages ---------------------------------------------------------------

    def get_project(self, name: str) -> ProjectPage:
        """The project's page, merged over every configured index (memoised per client)."""
        norm = str(canonicalize_name(name))
        with self._lock:
            cached = self._pages.get(norm)
        if cached is not None:
            return cached
        pages = [p for p in (self._fetch_page(base, norm) for base in self.index_urls) if p is not None]
        if not pages:
            raise ProjectNotFoundError(
                f"project {norm!r} not found on {', '.join(self.index_urls)}", indexes=self.index_urls,
                package=norm, file=self.index_urls[0],
                hint="check the name, or add the index that hosts it ([python].index-url / extra indexes)")
        page = _merge(pages)
        with self._lock:
            self._pages.setdefault(norm, page)
        return page

    def _fetch_page(self, base: str, norm: str) -> ProjectPage | None:
        url = f"{base}{norm}/"
        resp = self._request(url, headers={"Accept": ACCEPT}, project=norm)
        if resp.status_code in NOT_FOUND_STATUS:
            return None
        if resp.status_code >= 400:
            raise self._status_error(resp, url, norm)
        final = url if url.startswith("file:") else str(resp.url)
        raw_type = resp.headers.get("content-type", "")
        ctype = raw_type.split(";", 1)[0].strip().lower()
        if ctype == JSON_TYPE:
            return parse_json_page(resp.content, url=final, project=norm)
        if ctype in HTML_TYPES:
            return parse_html_page(resp.text, url=final, project=norm)
        raise UnsupportedContentTypeError(
            f"content type {raw_type or '(none)'!r} is neither {JSON_TYPE} nor HTML", file=final, package=norm,
            field="Content-Type")

    @staticmethod
    def select_files(page: ProjectPage, *, allow_yanked_pins: Collection[str] = frozenset()) -> list[IndexFile]:
        """See :func:`wasmtool.index.selection.select_files`."""
        return _select_files(page, allow_yanked_pins=allow_yanked_pins)

    # -- metadata ----------------------------------------------------------------------

    def get_metadata(self, file: IndexFile, fallback: Callable[[], Path] | None = None) -> Metadata:
        """Core metadata of ``file``.

        PEP 658/714 ``<url>.metadata`` when the page offers it: every hash the page gives
        for it that hashlib can compute must match (else :class:`MetadataMismatchError`),
        and the name/version must be the file's. A 404 there falls back like a page that
        offers none. The fallback is ``fallback()`` -- a path to the downloaded wheel --
        read with :func:`read_wheel_metadata`; without one, :class:`MetadataUnavailableError`.
        """
        project = file.project
        missing = "the index offers no PEP 658 metadata for it"
        if file.core_metadata:
            url = file.metadata_url
            resp = self._request(url, headers={"Accept-Encoding": "identity"}, project=project)
            if resp.status_code in NOT_FOUND_STATUS:
                missing = f"{url} answered {resp.status_code}"
            elif resp.status_code >= 400:
                raise self._status_error(resp, url, project)
            else:
                data = resp.content
                if isinstance(file.core_metadata, dict):
                    _verify(data, file.core_metadata, url=url, project=project)
                meta = parse_core_metadata(data, source=url, project=project)
                check_matches(meta, file, source=url)
                return meta
        if fallback is None:
            raise MetadataUnavailableError(f"{file.filename}: {missing}, and no wheel was given to read it from",
                                           file=file.url, package=project)
        if not file.is_wheel:
            raise MetadataUnavailableError(f"{file.filename}: {missing}; an sdist's metadata needs a build",
                                           file=file.url, package=project)
        path = fallback()
        meta = read_wheel_metadata(path)
        check_matches(meta, file, source=str(path))
        return meta

    # -- provenance (PEP 740) ------------------------------------------------------------

    def get_provenance(self, file: IndexFile) -> bytes | None:
        """The body at ``file.provenance``; ``None`` when the page gives no provenance URL or
        it answers 404/410. Other statuses (after retries) raise :class:`IndexHTTPError`,
        exhausted timeouts :class:`IndexTimeoutError`, other transport errors
        :class:`IndexNetworkError`; the caller parses the body."""
        if not file.provenance:
            return None
        url, project = file.provenance, file.project
        resp = self._request(url, headers={"Accept": "application/json"}, project=project)
        if resp.status_code in NOT_FOUND_STATUS:
            return None
        if resp.status_code >= 400:
            raise self._status_error(resp, url, project)
        return resp.content

    # -- downloads ---------------------------------------------------------------------

    @contextmanager
    def open_stream(self, url: str, *, project: str | None = None) -> Iterator[httpx.Response]:
        """A streaming GET of ``url`` through the pooled client (``file:`` URLs read locally).

        Connection errors, timeouts, 5xx and 429 before the body starts are retried;
        other HTTP errors raise :class:`IndexHTTPError`. Transport errors while the caller
        reads the body are raised as :class:`IndexNetworkError` / :class:`IndexTimeoutError`
        (not retried: the caller decides what to do with a partial body).
        """
        resp = self._request(url, headers={"Accept-Encoding": "identity"}, project=project, stream=True)
        try:
            if resp.status_code >= 400:
                raise self._status_error(resp, url, project)
            try:
                yield resp
            except httpx.TimeoutException as exc:
                raise IndexTimeoutError(f"{type(exc).__name__} while reading the body: {exc}", file=url,
                                        package=project) from exc
            except httpx.HTTPError as exc:
                raise IndexNetworkError(f"{type(exc).__name__} while reading the body: {exc}", file=url,
                                        package=project) from exc
        finally:
            resp.close()


def _verify(data: bytes, expected: dict[str, str], *, url: str, project: str | None) -> None:
    for algo, want in expected.items():
        if algo not in _VERIFIABLE:
            continue  # e.g. blake3: recorded, not verifiable with hashlib
        got = hashlib.new(algo, data).hexdigest()
        if got != want:
            raise MetadataMismatchError(f"{algo} of the .metadata file is {got}, the index says {want}",
                                        file=url, package=project, field=f"core-metadata.{algo}")


def _version_key(v: str) -> tuple[int, Version | str]:
    try:
        return (0, Version(v))
    except InvalidVersion:
        return (1, v)


def _merge(pages: list[ProjectPage]) -> ProjectPage:
    """Primary first; a filename an earlier index listed is not taken again."""
    first = pages[0]
    if len(pages) == 1:
        return first
    seen: set[str] = set()
    files: list[IndexFile] = []
    md5_only: list[IndexFile] = []
    for page in pages:
        for f in (*page.files, *page.md5_only):
            if f.filename in seen:
                continue
            seen.add(f.filename)
            (md5_only if f.md5_only else files).append(f)
    versions = sorted({v for p in pages for v in p.versions}, key=_version_key)
    return ProjectPage(
        name=first.name, url=first.url, files=tuple(files), versions=tuple(versions),
        api_version=first.api_version, source=first.source, md5_only=tuple(md5_only),
        skipped=tuple(s for p in pages for s in p.skipped))
