"""What a simple-API project page says, independent of its format (JSON or HTML)."""

from __future__ import annotations

from dataclasses import dataclass, field

from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)


@dataclass(frozen=True)
class IndexFile:
    filename: str
    url: str
    hashes: dict[str, str] = field(default_factory=dict, hash=False)
    requires_python: str | None = None
    yanked: bool = False
    yanked_reason: str | None = None
    core_metadata: dict[str, str] | bool = field(default=False, hash=False)
    size: int | None = None
    upload_time: str | None = None
    provenance: str | None = None

    @property
    def sha256(self) -> str:
        return self.hashes.get("sha256", "")

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")

    @property
    def metadata_url(self) -> str:
        return self.url.split("#", 1)[0] + ".metadata"

    @property
    def version(self) -> str | None:
        try:
            if self.is_wheel:
                return str(parse_wheel_filename(self.filename)[1])
            return str(parse_sdist_filename(self.filename)[1])
        except (InvalidWheelFilename, InvalidSdistFilename):
            return None

    @property
    def wheel_tags(self) -> frozenset[Tag]:
        if not self.is_wheel:
            return frozenset()
        try:
            return frozenset(parse_wheel_filename(self.filename)[3])
        except InvalidWheelFilename:
            return frozenset()


@dataclass(frozen=True)
class ProjectPage:
    name: str
    url: str
    files: tuple[IndexFile, ...]
    versions: tuple[str, ...] = ()
    api_version: str = "1.0"
    source: str = "json"
    md5_only: tuple[str, ...] = ()      # files dropped because md5 was their only hash

    def file(self, filename: str) -> IndexFile | None:
        return next((f for f in self.files if f.filename == filename), None)
