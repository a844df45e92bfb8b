"""Where an artefact's bytes come from: an ``httpx.Client``, any opener, or a local file.

Every source is turned into one :class:`Source` (an iterator of chunks plus the total size
when known). Failures of the source, whether opening it or in the middle of reading it,
become :class:`~wasmtool.cache.errors.DownloadError`; failures writing into the cache are
the caller's and are never mistaken for a source failure.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from wasmtool.cache.errors import DownloadError
from wasmtool.cache.hashing import CHUNK_SIZE

if TYPE_CHECKING:  # httpx is imported when a URL is opened: a run served from the cache never needs it
    import httpx

__all__ = ["Opener", "Source", "file_url_to_path", "open_local", "open_url"]

#: Anything that opens a URL and yields its body as chunks of bytes. ``httpx.Client`` is
#: accepted directly; a test passes a function returning e.g. ``contextlib.nullcontext([b"..."])``.
#: If the context manager yields an ``httpx.Response`` its (decoded) bytes and Content-Length are used.
Opener = Callable[[str], AbstractContextManager[Iterable[bytes]]]

# Foreign errors a source may raise, translated into DownloadError (a URL source adds httpx's).
_FILE_ERRORS: tuple[type[BaseException], ...] = (OSError,)


@dataclass(frozen=True)
class Source:
    chunks: Iterator[bytes]
    total: int | None


def _content_length(headers: httpx.Headers) -> int | None:
    value = headers.get("content-length", "").strip()
    return int(value) if value.isdigit() else None


def _guarded(chunks: Iterable[bytes], fail: Callable[[BaseException], DownloadError],
             errors: tuple[type[BaseException], ...]) -> Iterator[bytes]:
    """Iterate ``chunks`` translating the source's own ``errors``; the consumer's errors pass through."""
    iterator = iter(chunks)
    while True:
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        except errors as exc:
            raise fail(exc) from exc
        if chunk:
            yield bytes(chunk)


def file_url_to_path(url: str) -> Path | None:
    """The local path of a ``file:`` URL (host empty or ``localhost``), else ``None``."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    from urllib.request import url2pathname  # urllib.request loads http.client and email

    return Path(url2pathname(parts.path))


@contextmanager
def open_local(path: Path, *, package: str, filename: str) -> Iterator[Source]:
    """A local file as a source (``add_file``, ``file://`` URLs, a copy under another name)."""

    def fail(exc: BaseException) -> DownloadError:
        return DownloadError(f"cannot read {path}: {exc}", package=package, filename=filename, path=path)

    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the with below, after the open is translated
    except OSError as exc:
        raise fail(exc) from exc
    with fh:
        try:
            total: int | None = os.fstat(fh.fileno()).st_size
        except OSError:
            total = None
        yield Source(_guarded(iter(lambda: fh.read(CHUNK_SIZE), b""), fail, _FILE_ERRORS), total)


@contextmanager
def open_url(url: str, opener: Opener | httpx.Client, *, package: str, filename: str) -> Iterator[Source]:
    """Open ``url`` with ``opener`` (``file:`` URLs are read directly)."""
    local = file_url_to_path(url)
    if local is not None:
        with open_local(local, package=package, filename=filename) as source:
            yield source
        return

    def fail(exc: BaseException) -> DownloadError:
        detail = str(exc) or type(exc).__name__
        return DownloadError(f"cannot download {url}: {detail}", package=package, filename=filename, path=url)

    import httpx

    errors: tuple[type[BaseException], ...] = (httpx.HTTPError, httpx.StreamError, OSError)
    with ExitStack() as stack:
        body: Iterable[bytes] | httpx.Response
        try:
            if isinstance(opener, httpx.Client):
                # identity: the hash is over the file as published, never a re-encoding of it
                # redirects followed (indexes hand files to CDNs; the hash guards the bytes)
                response = stack.enter_context(
                    opener.stream("GET", url, headers={"Accept-Encoding": "identity"}, follow_redirects=True)
                )
                response.raise_for_status()
                body = response
            else:
                body = stack.enter_context(opener(url))
                if isinstance(body, httpx.Response):
                    body.raise_for_status()
        except errors as exc:
            raise fail(exc) from exc
        if isinstance(body, httpx.Response):
            yield Source(_guarded(body.iter_bytes(), fail, errors), _content_length(body.headers))
        else:
            yield Source(_guarded(body, fail, errors), None)
