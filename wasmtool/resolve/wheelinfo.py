"""What a wheel file says about itself: metadata, import names, tags (IO at the edge:
``read_wheel_info`` opens the zip; the rest is pure)."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import parse_wheel_filename

from wasmtool.resolve.errors import WheelMetadataError
from wasmtool.wheelfiles import import_names_from as import_names_from  # re-exported: defined here before

if TYPE_CHECKING:  # imported by read_wheel_info: a cached summary needs no METADATA parser (nor email)
    from packaging.metadata import Metadata


@dataclass(frozen=True)
class WheelInfo:
    metadata: Metadata
    import_names: tuple[str, ...]
    has_extension: bool
    has_py_typed: tuple[str, ...]          # import packages with a py.typed marker
    files: tuple[str, ...]


def read_wheel_info(path: Path) -> WheelInfo:
    from packaging.metadata import Metadata

    try:
        with zipfile.ZipFile(path) as zf:
            files = zf.namelist()
            dist_info = sorted({f.split("/", 1)[0] for f in files
                                if f.split("/", 1)[0].endswith(".dist-info") and f.count("/") == 1})
            if not dist_info:
                raise WheelMetadataError("no .dist-info folder", file=str(path))
            info_dir = dist_info[0]
            raw = zf.read(f"{info_dir}/METADATA")
            top = f"{info_dir}/top_level.txt"
            top_level = zf.read(top).decode("utf-8") if top in files else None
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise WheelMetadataError(f"cannot read wheel: {exc}", file=str(path)) from exc
    try:
        metadata = Metadata.from_email(raw, validate=False)
    except Exception as exc:  # packaging raises an ExceptionGroup of InvalidMetadata
        raise WheelMetadataError(f"invalid METADATA: {exc}", file=str(path)) from exc
    names = import_names_from(files, top_level)
    has_ext = any(f.endswith((".so", ".pyd", ".dylib")) for f in files)
    typed = tuple(sorted({f.split("/", 1)[0] for f in files if f.endswith("/py.typed") and f.count("/") == 1}))
    return WheelInfo(metadata, names, has_ext, typed, tuple(files))


@dataclass(frozen=True)
class WheelSummary:
    """What the lock needs from a wheel; small enough to keep beside the cached artefact."""

    import_names: tuple[str, ...]
    requires_dist: tuple[str, ...]
    requires_python: str
    has_extension: bool

    @classmethod
    def of(cls, info: WheelInfo) -> WheelSummary:
        return cls(info.import_names, tuple(str(r) for r in info.metadata.requires_dist or ()),
                   str(info.metadata.requires_python or ""), info.has_extension)

    def to_json(self) -> str:
        return json.dumps({"import_names": list(self.import_names), "requires_dist": list(self.requires_dist),
                           "requires_python": self.requires_python, "has_extension": self.has_extension},
                          sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> WheelSummary:
        d = json.loads(text)
        return cls(tuple(d["import_names"]), tuple(d["requires_dist"]), d["requires_python"], d["has_extension"])


def wheel_summary(path: Path, sha256: str, summaries_dir: Path) -> WheelSummary:
    """The wheel's summary, read once per artefact and then kept as ``<sha256>.json``
    (the artefact is content-addressed, so its summary never changes)."""
    from wasmtool.fsutil import atomic_write_text

    cached = summaries_dir / f"{sha256}.json"
    try:
        return WheelSummary.from_json(cached.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError):
        pass
    summary = WheelSummary.of(read_wheel_info(path))
    atomic_write_text(cached, summary.to_json())
    return summary


def platform_tag(filename: str) -> str:
    """Canonical ``interp-abi-platform`` triple of a wheel filename (first of each set)."""
    _, _, _, tags = parse_wheel_filename(filename)
    parts = filename[:-4].split("-")
    if len(parts) >= 5:
        return "-".join(parts[-3:])
    tag = sorted(tags, key=str)[0]
    return str(tag)
