"""What a simple-API project page says, independent of its format (PEP 691 JSON or PEP 503 HTML).

Both parsers build these frozen models; nothing here does IO. ``size`` and
``upload_time`` exist only in JSON pages (PEP 700), so they do not take part in equality:
the JSON and the HTML page of one project compare equal file by file (acceptance 11).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

PageSource = Literal["json", "html"]


def parse_filename(filename: str) -> tuple[NormalizedName, Version, frozenset[Tag]] | None:
    """``(project, version, tags)`` of a wheel or sdist filename; ``None`` if it is neither.

    Sdists are ``.tar.gz`` or ``.zip`` (what :func:`packaging.utils.parse_sdist_filename`
    accepts); legacy ``.egg``/``.exe``/``.tar.bz2`` files are not artefacts wasmtool uses.
    """
    if "/" in filename or "\\" in filename or filename.startswith("."):
        return None
    try:
        if filename.endswith(".whl"):
            name, version, _build, tags = parse_wheel_filename(filename)
            return name, version, tags
        name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return canonicalize_name(name), version, frozenset()


@dataclass(frozen=True)
class IndexFile:
    """One downloadable file of a project page.

    ``url`` is absolute (resolved against the page URL) and has no fragment. ``hashes``
    maps lowercase algorithm names to lowercase hex digests, keys sorted.
    ``core_metadata`` is the PEP 658/714 value: a hash mapping, ``True`` (offered without
    hash) or ``False`` (not offered).
    """

    filename: str
    url: str
    hashes: dict[str, str] = field(default_factory=dict, hash=False)
    requires_python: str | None = None
    yanked: bool = False
    yanked_reason: str | None = None
    core_metadata: dict[str, str] | bool = field(default=False, hash=False)
    size: int | None = field(default=None, compare=False)
    upload_time: str | None = field(default=None, compare=False)
    provenance: str | None = None

    @property
    def sha256(self) -> str:
        """The sha256 hex digest, ``""`` when the index offers none (never selected then)."""
        return self.hashes.get("sha256", "")

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")

    @property
    def metadata_url(self) -> str:
        """PEP 658: the core metadata lives at the file URL plus ``.metadata``."""
        return self.url + ".metadata"

    @property
    def project(self) -> str | None:
        parsed = parse_filename(self.filename)
        return None if parsed is None else str(parsed[0])

    @property
    def version(self) -> str | None:
        parsed = parse_filename(self.filename)
        return None if parsed is None else str(parsed[1])

    @property
    def wheel_tags(self) -> frozenset[Tag]:
        """The wheel's expanded tag set (empty for sdists)."""
        parsed = parse_filename(self.filename)
        return frozenset() if parsed is None else parsed[2]

    @property
    def md5_only(self) -> bool:
        return bool(self.hashes) and set(self.hashes) <= {"md5"}


@dataclass(frozen=True)
class ProjectPage:
    """A parsed project page.

    ``files`` holds the usable files in page order. Files are left out (never fatal) when
    their name is not a wheel/sdist name of this project (``skipped`` says why) or when md5
    is their only hash (``md5_only``, kept so that callers can explain the refusal).
    ``versions`` is the PEP 700 list when the JSON page has one, else the versions of
    ``files`` in ascending order.
    """

    name: str
    url: str
    files: tuple[IndexFile, ...]
    versions: tuple[str, ...] = ()
    api_version: str = "1.0"
    source: PageSource = "json"
    md5_only: tuple[IndexFile, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()  # (filename or href, reason)

    def file(self, filename: str) -> IndexFile | None:
        """The usable file called ``filename`` (``None`` also for md5-only files)."""
        return next((f for f in self.files if f.filename == filename), None)

    def md5_only_file(self, filename: str) -> IndexFile | None:
        return next((f for f in self.md5_only if f.filename == filename), None)


def versions_of(files: tuple[IndexFile, ...]) -> tuple[str, ...]:
    """Distinct versions of ``files``, ascending by PEP 440 order."""
    found: dict[Version, str] = {}
    for f in files:
        parsed = parse_filename(f.filename)
        if parsed is not None:
            found.setdefault(parsed[1], str(parsed[1]))
    return tuple(found[v] for v in sorted(found))
