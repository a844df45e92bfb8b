"""Pure parsers for PEP 691 JSON and PEP 503 HTML project pages -> :class:`ProjectPage`.

Both formats give identical file lists for the same project. Files whose only hash is
md5 are dropped (and listed in ``md5_only``); files whose names are not valid wheel or
sdist names are kept (selection ignores them later). Errors name the URL, the project and
the JSON key path or the HTML line.
"""

from __future__ import annotations

import html
import json
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

from wasmtool.index.errors import MalformedHTMLPageError, MalformedJSONPageError, UnsupportedAPIVersionError
from wasmtool.index.models import IndexFile, ProjectPage

_SECURE = ("sha256", "sha384", "sha512", "blake2b", "blake3")


def _hashes(raw: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v.lower() for k, v in sorted(raw.items())}


def _meta_value(value: Any) -> dict[str, str] | bool:
    if isinstance(value, dict):
        return _hashes({str(k): str(v) for k, v in value.items()})
    return bool(value)


def parse_json_page(data: bytes, *, url: str, project: str) -> ProjectPage:
    def bad(path: str, what: str) -> MalformedJSONPageError:
        return MalformedJSONPageError(what, file=url, package=project, field=path)

    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedJSONPageError(f"not valid JSON: {exc}", file=url, package=project) from exc
    if not isinstance(doc, dict):
        raise bad("$", "expected an object")
    meta = doc.get("meta")
    if not isinstance(meta, dict) or not isinstance(meta.get("api-version"), str):
        raise bad("meta.api-version", "missing or not a string")
    api = meta["api-version"]
    if api.split(".")[0] != "1":
        raise UnsupportedAPIVersionError(f"api-version {api} is not supported (1.x is)", file=url,
                                         package=project, field="meta.api-version")
    files_raw = doc.get("files")
    if not isinstance(files_raw, list):
        raise bad("files", "missing or not an array")
    files: list[IndexFile] = []
    md5_only: list[str] = []
    for i, f in enumerate(files_raw):
        path = f"files[{i}]"
        if not isinstance(f, dict):
            raise bad(path, "expected an object")
        name, href, hashes = f.get("filename"), f.get("url"), f.get("hashes")
        if not isinstance(name, str) or not name:
            raise bad(f"{path}.filename", "missing or not a string")
        if not isinstance(href, str):
            raise bad(f"{path}.url", "missing or not a string")
        if not isinstance(hashes, dict) or not all(isinstance(v, str) for v in hashes.values()):
            raise bad(f"{path}.hashes", "missing or not an object of strings")
        hs = _hashes(hashes)
        if not any(k in hs for k in _SECURE) and "md5" in hs:
            md5_only.append(name)
            continue
        yanked = f.get("yanked", False)
        if not isinstance(yanked, (bool, str)):
            raise bad(f"{path}.yanked", "expected a boolean or a string")
        rp = f.get("requires-python")
        if rp is not None and not isinstance(rp, str):
            raise bad(f"{path}.requires-python", "expected a string")
        size = f.get("size")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool)):
            raise bad(f"{path}.size", "expected an integer")
        core = f.get("core-metadata", f.get("data-dist-info-metadata", f.get("dist-info-metadata", False)))
        files.append(IndexFile(
            filename=name, url=urljoin(url, href).split("#", 1)[0], hashes=hs, requires_python=rp or None,
            yanked=bool(yanked), yanked_reason=yanked if isinstance(yanked, str) and yanked else None,
            core_metadata=_meta_value(core), size=size,
            upload_time=f.get("upload-time") if isinstance(f.get("upload-time"), str) else None,
            provenance=f.get("provenance") if isinstance(f.get("provenance"), str) else None,
        ))
    versions = doc.get("versions", [])
    return ProjectPage(name=str(doc.get("name", project)), url=url, files=tuple(files),
                       versions=tuple(str(v) for v in versions) if isinstance(versions, list) else (),
                       api_version=api, source="json", md5_only=tuple(md5_only))


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[dict[str, str | None], int]] = []
        self.meta_api: str | None = None
        self._current: dict[str, str | None] | None = None
        self._line = 0
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._current = dict(attrs)
            self._line = self.getpos()[0]
            self._text = []
        elif tag == "meta":
            d = dict(attrs)
            if d.get("name") == "pypi:repository-version":
                self.meta_api = d.get("content")

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._current is not None:
            self._current["#text"] = "".join(self._text).strip()
            self.anchors.append((self._current, self._line))
            self._current = None


def parse_html_page(text: str, *, url: str, project: str) -> ProjectPage:
    parser = _Anchors()
    try:
        parser.feed(text)
        parser.close()
    except Exception as exc:  # html.parser raises assorted errors on broken markup
        raise MalformedHTMLPageError(f"cannot parse HTML: {exc}", file=url, package=project) from exc
    api = parser.meta_api or "1.0"
    if api.split(".")[0] != "1":
        raise UnsupportedAPIVersionError(f"repository-version {api} is not supported", file=url, package=project,
                                         field="meta pypi:repository-version")
    files: list[IndexFile] = []
    md5_only: list[str] = []
    for attrs, line in parser.anchors:
        href = attrs.get("href")
        if not href:
            raise MalformedHTMLPageError("an <a> without href", file=url, package=project, field=f"line {line}")
        absolute = urljoin(url, href)
        base, _, frag = absolute.partition("#")
        name = base.rstrip("/").rsplit("/", 1)[-1] or str(attrs.get("#text") or "")
        hashes: dict[str, str] = {}
        if frag:
            algo, sep, digest = frag.partition("=")
            if not sep or not digest:
                raise MalformedHTMLPageError(f"bad hash fragment #{frag}", file=url, package=project,
                                             field=f"line {line}")
            hashes = {algo.lower(): digest.lower()}
        if hashes and not any(k in hashes for k in _SECURE) and "md5" in hashes:
            md5_only.append(name)
            continue
        yanked_attr = attrs.get("data-yanked")
        core_attr = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
        core: dict[str, str] | bool = False
        if core_attr is not None:
            algo, sep, digest = core_attr.partition("=")
            core = {algo.lower(): digest.lower()} if sep else core_attr.lower() != "false"
        rp = attrs.get("data-requires-python")
        files.append(IndexFile(
            filename=name, url=base, hashes=hashes, requires_python=html.unescape(rp) if rp else None,
            yanked=yanked_attr is not None, yanked_reason=yanked_attr or None, core_metadata=core,
            provenance=attrs.get("data-provenance"),
        ))
    return ProjectPage(name=project, url=url, files=tuple(files), api_version=api, source="html",
                       md5_only=tuple(md5_only))
