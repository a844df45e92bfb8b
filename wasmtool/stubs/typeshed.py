"""The typeshed tier: a pinned typeshed snapshot, installed as a package (``typeshed_client``).

Two layouts are understood, both as found on disk:

* a typeshed checkout: ``<root>/stdlib/VERSIONS`` and ``<root>/stubs/<dist>/METADATA.toml``
  with the stubs beside it (``stubs/<dist>/<import>/...pyi`` or ``stubs/<dist>/<import>.pyi``;
  ``@tests`` is ignored);
* a stdlib-only folder with ``VERSIONS`` at its top, which is what ``typeshed_client``
  bundles (``typeshed_client/typeshed/``).

Third-party stubs are matched by distribution name (PEP 503 normalised), stdlib stubs by
import name and the target Python version (``VERSIONS``). Only :func:`bundled_typeshed_root`
and :class:`TypeshedDir` touch the file system; :func:`parse_versions` and
:func:`version_allows` are pure.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from packaging.utils import canonicalize_name

__all__ = [
    "TypeshedDir",
    "TypeshedHit",
    "TypeshedSource",
    "bundled_typeshed",
    "bundled_typeshed_root",
    "parse_versions",
    "version_allows",
]

PyVersion = tuple[int, int]
VersionRange = tuple[PyVersion, PyVersion | None]


@dataclass(frozen=True)
class TypeshedHit:
    """Stubs typeshed holds for one import package: ``files`` maps paths rooted at the import
    package (``toml/decoder.pyi``) to bytes; ``partial`` is METADATA.toml's ``partial_stub``."""

    source: str
    files: Mapping[str, bytes] = field(hash=False)
    partial: bool = False


class TypeshedSource(Protocol):
    """Anything that can answer "which typeshed stubs exist for this import package"."""

    def lookup(self, dist: str, import_name: str, python_version: PyVersion) -> TypeshedHit | None:
        """Stubs for ``import_name`` of distribution ``dist``, or ``None``."""
        ...


def _parse_pyver(text: str) -> PyVersion:
    major, _, minor = text.strip().partition(".")
    return int(major), int(minor or 0)


def parse_versions(text: str) -> dict[str, VersionRange]:
    """Parse typeshed's ``stdlib/VERSIONS``: ``module: 3.0-`` / ``module: 3.0-3.12`` lines."""
    out: dict[str, VersionRange] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or ":" not in line:
            continue
        module, _, span = line.partition(":")
        low, _, high = span.strip().partition("-")
        try:
            out[module.strip()] = (_parse_pyver(low), _parse_pyver(high) if high.strip() else None)
        except ValueError:
            continue
    return out


def version_allows(versions: Mapping[str, VersionRange], module: str, python_version: PyVersion) -> bool:
    """Whether ``module`` exists for ``python_version`` (the nearest listed parent decides)."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        span = versions.get(".".join(parts[:n]))
        if span is not None:
            low, high = span
            return low <= python_version and (high is None or python_version <= high)
    return False


def _module_of(rel: str) -> str:
    stem = rel[:-4] if rel.endswith(".pyi") else rel
    parts = stem.split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _collect(base: Path, import_name: str) -> dict[str, bytes]:
    """``<import>.pyi`` or every ``.pyi`` under ``<import>/``, keyed by posix path from ``base``."""
    files: dict[str, bytes] = {}
    single = base / f"{import_name}.pyi"
    if single.is_file():
        files[single.name] = single.read_bytes()
    folder = base / import_name
    if folder.is_dir():
        for path in sorted(folder.rglob("*.pyi")):
            rel = path.relative_to(base).as_posix()
            if path.is_file() and not any(p.startswith("@") for p in rel.split("/")):
                files[rel] = path.read_bytes()
    return files


class TypeshedDir:
    """A typeshed snapshot on disk (either layout above); ``label`` names it in provenance."""

    def __init__(self, root: Path, *, label: str | None = None) -> None:
        root = Path(root)
        self.root = root
        if (root / "stdlib" / "VERSIONS").is_file():
            self.stdlib: Path | None = root / "stdlib"
        elif (root / "VERSIONS").is_file():
            self.stdlib = root
        else:
            self.stdlib = None
        stubs = root / "stubs"
        self.stubs: Path | None = stubs if stubs.is_dir() and self.stdlib != root else None
        self.label = label or f"typeshed {root.name}"
        self._versions: dict[str, VersionRange] | None = None

    def __repr__(self) -> str:
        return f"TypeshedDir({str(self.root)!r}, label={self.label!r})"

    def versions(self) -> dict[str, VersionRange]:
        """The stdlib ``VERSIONS`` table (empty without a stdlib folder)."""
        if self._versions is None:
            text = (self.stdlib / "VERSIONS").read_text(encoding="utf-8") if self.stdlib else ""
            self._versions = parse_versions(text)
        return self._versions

    def third_party_dir(self, dist: str) -> Path | None:
        """``stubs/<dist>`` for ``dist`` (names compared PEP 503 normalised)."""
        if self.stubs is None:
            return None
        want = canonicalize_name(dist)
        for entry in sorted(self.stubs.iterdir()):
            if entry.is_dir() and canonicalize_name(entry.name) == want:
                return entry
        return None

    def lookup(self, dist: str, import_name: str, python_version: PyVersion) -> TypeshedHit | None:
        """Third-party stubs of ``dist`` providing ``import_name``, else stdlib stubs."""
        folder = self.third_party_dir(dist)
        if folder is not None:
            files = _collect(folder, import_name)
            if files:
                partial = False
                meta = folder / "METADATA.toml"
                version = ""
                if meta.is_file():
                    try:
                        data = tomllib.loads(meta.read_text(encoding="utf-8"))
                    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
                        data = {}
                    partial = bool(data.get("partial_stub", False))
                    version = str(data.get("version", ""))
                suffix = f" {version}" if version else ""
                return TypeshedHit(f"{self.label} stubs/{folder.name}{suffix}", files, partial)
        if self.stdlib is not None and version_allows(self.versions(), import_name, python_version):
            versions = self.versions()
            files = {rel: data for rel, data in _collect(self.stdlib, import_name).items()
                     if version_allows(versions, _module_of(rel), python_version)}
            if files:
                return TypeshedHit(f"{self.label} stdlib", files, False)
        return None


def bundled_typeshed_root() -> Path | None:
    """The typeshed snapshot bundled with an installed ``typeshed_client`` (found without
    importing it), or ``None`` when that package is not installed."""
    spec = importlib.util.find_spec("typeshed_client")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        root = Path(location) / "typeshed"
        if (root / "VERSIONS").is_file() or (root / "stdlib" / "VERSIONS").is_file():
            return root
    return None


def bundled_typeshed() -> TypeshedDir | None:
    """:class:`TypeshedDir` over :func:`bundled_typeshed_root`, labelled with the package version."""
    root = bundled_typeshed_root()
    if root is None:
        return None
    try:
        version = importlib.metadata.version("typeshed_client")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return TypeshedDir(root, label=f"typeshed_client {version}")
