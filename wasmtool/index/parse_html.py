"""PEP 503 HTML project pages (with PEP 592, 629, 658/714, 740 attributes) -> :class:`ProjectPage`.

Grammar (what wasmtool reads; other tags and attributes are ignored)::

    page    = ... [<meta name="pypi:repository-version" content="1.<minor>">] [<base href=URL>]
              <a href=URL[#<algo>=<hex>]
                 [data-requires-python=SPEC]      (HTML-escaped: "&gt;=3.9")
                 [data-yanked[=REASON]]           (present = yanked; "" = no reason)
                 [data-core-metadata=("true" | <algo>=<hex>)]     (PEP 714)
                 [data-dist-info-metadata=...]    (PEP 658 legacy name; the new one wins)
                 [data-provenance=URL]>TEXT</a> ...

The filename is the last path segment of the link (percent-decoded), as pip does; the
anchor text is not used. Attribute values are unescaped once by :mod:`html.parser`.

Error and skip rules (documented contract, mirrored by the tests):

- errors (:class:`MalformedHTMLPageError`, WT105, naming the page URL, the project and
  ``line N``): an ``<a>`` without ``href`` or with an unsplittable URL; a hash fragment
  whose algorithm is a hash name but whose digest is missing or not hex of the right
  length (``#sha256``, ``#sha256=xyz``); a ``data-core-metadata`` /
  ``data-dist-info-metadata`` value that is neither ``true`` nor ``<algo>=<hex>``;
  markup :mod:`html.parser` gives up on.
- ignored: a fragment that is not ``<name>=<value>`` with a hash-algorithm name
  (``#egg=foo``, ``#readme``) -- the link then simply has no hash;
- skipped (listed in ``ProjectPage.skipped``): links whose last segment is not a wheel or
  sdist name of the project, and links with a scheme other than http(s)/file (or ``file:``
  links on a remote page).
- a major repository-version other than 1 is :class:`UnsupportedAPIVersionError` (WT107).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from packaging.utils import canonicalize_name

from wasmtool.index._common import (
    DIGEST_LENGTHS,
    digest_problem,
    fragment,
    resolve,
    skip_reason,
    sorted_hashes,
)
from wasmtool.index.errors import MalformedHTMLPageError, UnsupportedAPIVersionError
from wasmtool.index.models import IndexFile, ProjectPage, versions_of

_API_VERSION = re.compile(r"(\d+)\.(\d+)")
_HASH_NAMES = frozenset(DIGEST_LENGTHS)


@dataclass(frozen=True)
class _Anchor:
    attrs: dict[str, str | None]
    line: int
    tag_text: str


class _Collector(HTMLParser):
    """Collects raw anchors, ``<base href>`` and the repository-version meta tag; no logic."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[_Anchor] = []
        self.base: str | None = None
        self.api_version: tuple[str | None, int] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            # The first occurrence of a repeated attribute wins, as in browsers.
            first: dict[str, str | None] = {}
            for key, value in attrs:
                first.setdefault(key, value)
            self.anchors.append(_Anchor(first, self.getpos()[0], self.get_starttag_text() or "<a>"))
        elif tag == "base" and self.base is None:
            self.base = dict(attrs).get("href")
        elif tag == "meta" and self.api_version is None:
            d = dict(attrs)
            if d.get("name") == "pypi:repository-version":
                self.api_version = (d.get("content"), self.getpos()[0])

    handle_startendtag = handle_starttag


def parse_html_page(text: str, *, url: str, project: str) -> ProjectPage:
    """Parse a PEP 503 HTML page (``text/html`` or ``application/vnd.pypi.simple.v1+html``) served at ``url``."""
    collector = _Collector()
    try:
        collector.feed(text)
        collector.close()
    except Exception as exc:  # html.parser raises assorted AssertionError/ValueError on broken markup
        raise MalformedHTMLPageError(f"cannot parse HTML: {exc}", file=url, package=project) from exc

    api = "1.0"
    if collector.api_version is not None:
        content, line = collector.api_version
        m = _API_VERSION.fullmatch(content or "")
        if m is None:
            raise MalformedHTMLPageError(f"pypi:repository-version {content!r} is not <major>.<minor>",
                                         file=url, package=project, field=f"line {line}")
        if m.group(1) != "1":
            raise UnsupportedAPIVersionError(f"repository-version {content} is not supported (wasmtool reads 1.x)",
                                             file=url, package=project, field=f"line {line}")
        api = content or api

    base = url
    if collector.base:
        try:
            base = resolve(url, collector.base)
        except ValueError as exc:
            raise MalformedHTMLPageError(f"bad <base href={collector.base!r}>: {exc}", file=url,
                                         package=project) from exc

    files: list[IndexFile] = []
    md5_only: list[IndexFile] = []
    skipped: list[tuple[str, str]] = []
    for anchor in collector.anchors:
        f = _file(anchor, base=base, url=url, project=project)
        reason = skip_reason(f.filename, f.url, page_url=url, project=project)
        if reason is not None:
            skipped.append((f.filename or anchor.attrs.get("href") or "", reason))
        elif f.md5_only:
            md5_only.append(f)
        else:
            files.append(f)
    return ProjectPage(
        name=str(canonicalize_name(project)), url=url, files=tuple(files), versions=versions_of(tuple(files)),
        api_version=api, source="html", md5_only=tuple(md5_only), skipped=tuple(skipped))


def _file(anchor: _Anchor, *, base: str, url: str, project: str) -> IndexFile:
    def fail(message: str) -> MalformedHTMLPageError:
        snippet = anchor.tag_text if len(anchor.tag_text) <= 160 else anchor.tag_text[:157] + "..."
        return MalformedHTMLPageError(f"{message} in {snippet}", file=url, package=project,
                                      field=f"line {anchor.line}")

    attrs = anchor.attrs
    href = attrs.get("href")
    if not href or not href.strip():
        raise fail("link without href")
    try:
        absolute = resolve(base, href)
        frag = fragment(href)
    except ValueError as exc:
        raise fail(f"bad URL {href!r}: {exc}") from exc
    filename = unquote(urlsplit(absolute).path.rsplit("/", 1)[-1])

    hashes: dict[str, str] = {}
    algo, sep, digest = frag.partition("=")
    if algo.lower() in _HASH_NAMES:
        problem = digest_problem(algo.lower(), digest.lower()) if sep and digest else f"#{algo} has no digest"
        if problem:
            raise fail(f"bad hash fragment: {problem}")
        hashes = {algo.lower(): digest.lower()}

    core: dict[str, str] | bool = False
    for key in ("data-core-metadata", "data-dist-info-metadata"):  # PEP 714: the new name wins
        if key in attrs:
            value = (attrs[key] or "").strip()
            if value.lower() == "true":
                core = True
            else:
                m_algo, m_sep, m_digest = value.partition("=")
                problem = (digest_problem(m_algo.lower(), m_digest.lower()) if m_sep and m_digest
                           else f"{value!r} is neither 'true' nor <algo>=<hex>")
                if problem:
                    raise fail(f"bad {key}: {problem}")
                core = sorted_hashes({m_algo.lower(): m_digest.lower()})
            break

    yanked = "data-yanked" in attrs
    reason = attrs.get("data-yanked") or None
    requires_python = attrs.get("data-requires-python") or None
    provenance = attrs.get("data-provenance") or None
    if provenance:
        try:
            provenance = resolve(base, provenance)
        except ValueError as exc:
            raise fail(f"bad data-provenance URL: {exc}") from exc
    return IndexFile(filename=filename, url=absolute, hashes=hashes, requires_python=requires_python, yanked=yanked,
                     yanked_reason=reason, core_metadata=core, provenance=provenance)
