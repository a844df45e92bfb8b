"""PEP 691 JSON project pages (api-version 1.x, with PEP 700 and PEP 740 fields) -> :class:`ProjectPage`.

Grammar (keys wasmtool reads; unknown keys are ignored, ``?`` = optional)::

    page  = { "meta": { "api-version": "1.<minor>" }, "name": str, "files": [file, ...],
              "versions"?: [str, ...] }
    file  = { "filename": str, "url": str, "hashes": { algo: hex, ... },
              "requires-python"?: str | null, "yanked"?: bool | str,
              "core-metadata"?: bool | { algo: hex }      (PEP 714)
              "dist-info-metadata"?: same                  (PEP 658, legacy key)
              "data-dist-info-metadata"?: same             (key once emitted by a large index)
              "size"?: int >= 0, "upload-time"?: str, "provenance"?: str | null }

Errors (:class:`MalformedJSONPageError`, WT104) name the page URL, the project and the JSON
path (``files[2].hashes.sha256``); a major api-version other than 1 is
:class:`UnsupportedAPIVersionError` (WT107). Files whose names are not wheels/sdists of
the project are skipped, md5-only files are set aside (see :mod:`wasmtool.index.models`).
"""

from __future__ import annotations

import json
import re
from typing import NoReturn

from packaging.utils import canonicalize_name

from wasmtool.index._common import digest_problem, resolve, skip_reason, sorted_hashes
from wasmtool.index.errors import MalformedJSONPageError, UnsupportedAPIVersionError
from wasmtool.index.models import IndexFile, ProjectPage, versions_of

_API_VERSION = re.compile(r"(\d+)\.(\d+)")
_CORE_METADATA_KEYS = ("core-metadata", "dist-info-metadata", "data-dist-info-metadata")


class _Reader:
    """Typed accessors that raise with the JSON path of the offending value."""

    def __init__(self, url: str, project: str) -> None:
        self.url = url
        self.project = project

    def fail(self, path: str, message: str) -> NoReturn:
        raise MalformedJSONPageError(message, file=self.url, package=self.project, field=path)

    def obj(self, value: object, path: str) -> dict[str, object]:
        if not isinstance(value, dict):
            self.fail(path, f"expected an object, got {_kind(value)}")
        return value

    def string(self, value: object, path: str, *, nullable: bool = False) -> str | None:
        if value is None and nullable:
            return None
        if not isinstance(value, str):
            self.fail(path, f"expected a string{' or null' if nullable else ''}, got {_kind(value)}")
        return value

    def hashes(self, value: object, path: str) -> dict[str, str]:
        raw = self.obj(value, path)
        out: dict[str, str] = {}
        for algo, digest in raw.items():
            if not isinstance(digest, str):
                self.fail(f"{path}.{algo}", f"expected a hex string, got {_kind(digest)}")
            key, hexdigest = algo.lower(), digest.lower()
            problem = digest_problem(key, hexdigest)
            if problem:
                self.fail(f"{path}.{algo}", problem)
            out[key] = hexdigest
        return sorted_hashes(out)


def _kind(value: object) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def parse_json_page(data: bytes, *, url: str, project: str) -> ProjectPage:
    """Parse a PEP 691 ``application/vnd.pypi.simple.v1+json`` page served at ``url``."""
    r = _Reader(url, project)
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedJSONPageError(f"not valid JSON: {exc}", file=url, package=project, field="$") from exc
    top = r.obj(doc, "$")

    meta = r.obj(top.get("meta"), "meta")
    api = r.string(meta.get("api-version"), "meta.api-version") or ""
    m = _API_VERSION.fullmatch(api)
    if m is None:
        r.fail("meta.api-version", f"{api!r} is not <major>.<minor>")
    if m.group(1) != "1":
        raise UnsupportedAPIVersionError(
            f"api-version {api} is not supported (wasmtool reads 1.x)", file=url, package=project,
            field="meta.api-version")

    name = top.get("name")
    if name is not None:  # required by PEP 691, tolerated when absent
        name = r.string(name, "name")
        if name is not None and canonicalize_name(name) != canonicalize_name(project):
            r.fail("name", f"page is for project {name!r}, not {project!r}")

    raw_files = top.get("files")
    if not isinstance(raw_files, list):
        r.fail("files", f"expected an array, got {_kind(raw_files)}")

    files: list[IndexFile] = []
    md5_only: list[IndexFile] = []
    skipped: list[tuple[str, str]] = []
    for i, raw in enumerate(raw_files):
        f = _file(r, raw, f"files[{i}]")
        reason = skip_reason(f.filename, f.url, page_url=url, project=project)
        if reason is not None:
            skipped.append((f.filename, reason))
        elif f.md5_only:
            md5_only.append(f)
        else:
            files.append(f)

    versions: tuple[str, ...]
    if "versions" in top:
        raw_versions = top["versions"]
        if not isinstance(raw_versions, list):
            r.fail("versions", f"expected an array, got {_kind(raw_versions)}")
        versions = tuple(r.string(v, f"versions[{j}]") or "" for j, v in enumerate(raw_versions))
    else:
        versions = versions_of(tuple(files))

    return ProjectPage(
        name=str(canonicalize_name(project)), url=url, files=tuple(files), versions=versions, api_version=api,
        source="json", md5_only=tuple(md5_only), skipped=tuple(skipped))


def _file(r: _Reader, raw: object, path: str) -> IndexFile:
    f = r.obj(raw, path)
    filename = r.string(f.get("filename"), f"{path}.filename") or ""
    if not filename:
        r.fail(f"{path}.filename", "empty filename")
    href = r.string(f.get("url"), f"{path}.url") or ""
    try:
        absolute = resolve(r.url, href)
    except ValueError as exc:
        raise MalformedJSONPageError(f"bad URL {href!r}: {exc}", file=r.url, package=r.project,
                                     field=f"{path}.url") from exc
    hashes = r.hashes(f.get("hashes"), f"{path}.hashes")

    requires_python = r.string(f.get("requires-python"), f"{path}.requires-python", nullable=True)

    yanked_raw = f.get("yanked", False)
    if not isinstance(yanked_raw, (bool, str)):
        r.fail(f"{path}.yanked", f"expected a boolean or a string, got {_kind(yanked_raw)}")
    yanked = yanked_raw is not False  # PEP 691: a string (even empty) means yanked with that reason
    reason = yanked_raw if isinstance(yanked_raw, str) and yanked_raw else None

    core: dict[str, str] | bool = False
    for key in _CORE_METADATA_KEYS:  # PEP 714: the new key wins over the legacy ones
        if key in f:
            value = f[key]
            if isinstance(value, bool):
                core = value
            elif isinstance(value, dict):
                core = r.hashes(value, f"{path}.{key}") or True  # {} = offered, no hash given
            else:
                r.fail(f"{path}.{key}", f"expected a boolean or an object of hashes, got {_kind(value)}")
            break

    size = f.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        r.fail(f"{path}.size", f"expected a non-negative integer, got {_kind(size)}")
    upload_time = r.string(f.get("upload-time"), f"{path}.upload-time", nullable=True)
    provenance = r.string(f.get("provenance"), f"{path}.provenance", nullable=True)
    if provenance:
        try:
            provenance = resolve(r.url, provenance)
        except ValueError as exc:
            raise MalformedJSONPageError(f"bad URL {provenance!r}: {exc}", file=r.url, package=r.project,
                                         field=f"{path}.provenance") from exc

    return IndexFile(
        filename=filename, url=absolute, hashes=hashes, requires_python=requires_python or None, yanked=yanked,
        yanked_reason=reason, core_metadata=core, size=size, upload_time=upload_time, provenance=provenance or None)
