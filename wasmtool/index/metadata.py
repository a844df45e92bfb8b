"""Core metadata (``METADATA`` / PEP 658 ``.metadata``) -> :class:`packaging.metadata.Metadata`.

:func:`parse_core_metadata` is pure. It parses leniently (``validate=False``, so fields a
newer metadata version added do not fail) and then eagerly validates the fields
resolution needs -- ``Name``, ``Version``, ``Requires-Dist``, ``Requires-Python`` -- so
that a bad document fails here with :class:`MetadataInvalidError` (WT114) instead of in a
caller. :func:`read_wheel_metadata` reads the bytes out of a wheel.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from packaging.metadata import InvalidMetadata, Metadata
from packaging.utils import canonicalize_name
from packaging.version import Version

from wasmtool.index.errors import MetadataInvalidError, MetadataMismatchError, MetadataUnavailableError
from wasmtool.index.models import IndexFile, parse_filename

__all__ = ["check_matches", "parse_core_metadata", "read_wheel_metadata"]


def parse_core_metadata(data: bytes, *, source: str, project: str | None = None) -> Metadata:
    """Parse a core-metadata document read from ``source`` (named in errors)."""
    try:
        meta = Metadata.from_email(data, validate=False)
        _ = (meta.name, meta.version, meta.requires_dist, meta.requires_python)
    except (InvalidMetadata, ExceptionGroup, ValueError, LookupError, TypeError) as exc:
        raise MetadataInvalidError(f"invalid core metadata: {exc}", file=source, package=project) from exc
    return meta


def check_matches(meta: Metadata, file: IndexFile, *, source: str) -> None:
    """The metadata must describe the file it was fetched for (name and version)."""
    parsed = parse_filename(file.filename)
    if parsed is None:
        return
    name, version, _tags = parsed
    if canonicalize_name(meta.name) != name:
        raise MetadataMismatchError(f"metadata is for project {meta.name!r}, the file is {file.filename}",
                                    file=source, package=str(name), field="Name")
    if Version(str(meta.version)) != version:
        raise MetadataMismatchError(f"metadata says version {meta.version}, the file is {file.filename}",
                                    file=source, package=str(name), field="Version")


def read_wheel_metadata(path: Path) -> Metadata:
    """``<name>-<version>.dist-info/METADATA`` of a wheel (the one matching the filename
    when a wheel carries several ``.dist-info`` folders)."""
    parsed = parse_filename(path.name)
    project = str(parsed[0]) if parsed else None
    try:
        with zipfile.ZipFile(path) as zf:
            names = sorted(n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA"))
            if not names:
                raise MetadataUnavailableError("no <name>-<version>.dist-info/METADATA in the wheel",
                                               file=str(path), package=project)
            chosen = names[0]
            if parsed is not None and len(names) > 1:
                for n in names:
                    dist = n.split("/", 1)[0].removesuffix(".dist-info")
                    if canonicalize_name(dist.rpartition("-")[0]) == parsed[0]:
                        chosen = n
                        break
            data = zf.read(chosen)
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise MetadataUnavailableError(f"cannot read the wheel: {exc}", file=str(path), package=project) from exc
    return parse_core_metadata(data, source=f"{path}!{chosen}", project=project)
