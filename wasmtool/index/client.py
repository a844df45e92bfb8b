"""The simple-API client: one pooled ``httpx.Client``, content negotiation (PEP 691 JSON
preferred, PEP 503 HTML accepted), retries with exponential backoff on 5xx/429/timeouts
and connection errors (never on other 4xx), ``file://`` indexes, extra indexes merged
after the primary, and core metadata via PEP 658/714 with a wheel fallback."""

from __future__ import annotations

import hashlib
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlparse

import httpx
from packaging.metadata import Metadata
from packaging.utils import canonicalize_name

from wasmtool.index.config import IndexUrls
from wasmtool.index.errors import (
    IndexHTTPError,
    IndexNetworkError,
    MetadataMismatchError,
    MetadataUnavailableError,
    ProjectNotFoundError,
    UnsupportedContentTypeError,
)
from wasmtool.index.models import IndexFile, ProjectPage
from wasmtool.index.parse import parse_html_page, parse_json_page

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPES = ("application/vnd.pypi.simple.v1+html", "text/html")
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.5, text/html;q=0.1"
_RETRY_STATUS = {429, 500, 502, 503, 504}


class IndexClient:
    def __init__(self, index_urls: IndexUrls | Sequence[str], *, transport: httpx.BaseTransport | None = None,
                 timeout: float = 30.0, retries: int = 3, backoff: float = 0.2,
                 user_agent: str = "wasmtool") -> None:
        urls = index_urls.all if isinstance(index_urls, IndexUrls) else tuple(index_urls)
        self.index_urls = tuple(u if u.endswith("/") else u + "/" for u in urls)
        self.retries = retries
        self.backoff = backoff
        self._http = httpx.Client(transport=transport, timeout=timeout, follow_redirects=True,
                                  headers={"User-Agent": user_agent},
                                  limits=httpx.Limits(max_connections=8, max_keepalive_connections=8))
        self._pages: dict[str, ProjectPage] = {}

    def __enter__(self) -> IndexClient:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- HTTP with retries ---------------------------------------------------------

    def _get(self, url: str, *, accept: str | None = None, project: str | None = None) -> httpx.Response:
        headers = {"Accept": accept} if accept else {}
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            try:
                resp = self._http.get(url, headers=headers)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                last = exc
            else:
                if resp.status_code not in _RETRY_STATUS:
                    return resp
                last = IndexHTTPError(f"HTTP {resp.status_code}", file=url, package=project)
            if attempt < self.retries:
                time.sleep(self.backoff * (2**attempt))
        if isinstance(last, IndexHTTPError):
            raise IndexHTTPError(f"{last.message} after {self.retries + 1} attempts", file=url, package=project)
        raise IndexNetworkError(f"{type(last).__name__}: {last} (after {self.retries + 1} attempts)", file=url,
                                package=project) from last

    # -- project pages ---------------------------------------------------------------

    def get_project(self, name: str) -> ProjectPage:
        norm = str(canonicalize_name(name))
        if norm in self._pages:
            return self._pages[norm]
        pages: list[ProjectPage] = []
        for base in self.index_urls:
            page = self._fetch_page(base, norm)
            if page is not None:
                pages.append(page)
        if not pages:
            raise ProjectNotFoundError(f"not found on {', '.join(self.index_urls)}", package=norm)
        merged = pages[0]
        if len(pages) > 1:
            seen = {f.filename for f in merged.files}
            extra = [f for p in pages[1:] for f in p.files if f.filename not in seen]
            merged = ProjectPage(merged.name, merged.url, merged.files + tuple(extra), merged.versions,
                                 merged.api_version, merged.source, merged.md5_only)
        self._pages[norm] = merged
        return merged

    def _fetch_page(self, base: str, norm: str) -> ProjectPage | None:
        url = f"{base}{norm}/"
        if url.startswith("file:"):
            return self._file_page(url, norm)
        resp = self._get(url, accept=ACCEPT, project=norm)
        if resp.status_code == 404:
            return None
        if resp.status_code >= 400:
            raise IndexHTTPError(f"HTTP {resp.status_code}", file=url, package=norm)
        ctype = resp.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        final = str(resp.url)
        if ctype == JSON_TYPE:
            return parse_json_page(resp.content, url=final, project=norm)
        if ctype in HTML_TYPES:
            return parse_html_page(resp.text, url=final, project=norm)
        raise UnsupportedContentTypeError(f"unexpected content type {ctype!r}", file=url, package=norm)

    def _file_page(self, url: str, norm: str) -> ProjectPage | None:
        """``file://`` indexes: ``<dir>/<project>/index.html`` (PEP 503 layout), else the
        wheels and sdists of ``<dir>/<project>/`` as a listing (hashes computed)."""
        folder = Path(unquote(urlparse(url).path))
        index_html = folder / "index.html"
        if index_html.is_file():
            return parse_html_page(index_html.read_text(encoding="utf-8"), url=index_html.as_uri(), project=norm)
        if not folder.is_dir():
            return None
        links = []
        for f in sorted(folder.iterdir()):
            if f.suffix in (".whl", ".gz", ".zip"):
                digest = hashlib.sha256(f.read_bytes()).hexdigest()
                links.append(f'<a href="{f.name}#sha256={digest}">{f.name}</a>')
        return parse_html_page("\n".join(links), url=url, project=norm)

    @staticmethod
    def select_files(page: ProjectPage, *, allow_yanked_pins: set[str]) -> list[IndexFile]:
        """Selectable files: yanked ones only when that exact filename is pinned."""
        return [f for f in page.files if not f.yanked or f.filename in allow_yanked_pins]

    # -- metadata ----------------------------------------------------------------------

    def get_metadata(self, file: IndexFile, fallback: Callable[[], Path] | None = None) -> Metadata:
        if file.core_metadata:
            resp = self._get(file.metadata_url, project=file.filename)
            if resp.status_code == 200:
                expected = file.core_metadata.get("sha256") if isinstance(file.core_metadata, dict) else None
                if expected and hashlib.sha256(resp.content).hexdigest() != expected:
                    raise MetadataMismatchError("sha256 of the .metadata file differs from the index",
                                                file=file.metadata_url)
                return Metadata.from_email(resp.content, validate=False)
        if fallback is None:
            raise MetadataUnavailableError("no PEP 658 metadata and no wheel to read it from", file=file.url)
        return read_wheel_metadata(fallback())

    @contextmanager
    def open_stream(self, url: str) -> Iterator[httpx.Response]:
        with self._http.stream("GET", url, headers={"Accept-Encoding": "identity"}) as resp:
            if resp.status_code >= 400:
                raise IndexHTTPError(f"HTTP {resp.status_code}", file=url)
            yield resp


def read_wheel_metadata(path: Path) -> Metadata:
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
        if not names:
            raise MetadataUnavailableError("no .dist-info/METADATA in the wheel", file=str(path))
        return Metadata.from_email(zf.read(sorted(names)[0]), validate=False)
