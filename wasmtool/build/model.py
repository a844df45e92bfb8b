"""What a build is made of, without IO: the policy, the build inputs and their hash, the
``uv build`` argv, what an sdist's member names and ``pyproject.toml`` say.

The cache key of a built wheel is :meth:`BuildInputs.sha256`: the sdist's SHA-256, the build
backend, the pinned build dependencies (with their hashes) and the building Python's
``major.minor``. The lock records the same hash (``build-inputs-sha256``), so ``install``
on another machine can tell "same inputs, other bytes" (a non-reproducible build) from
"other inputs".
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from packaging.utils import parse_wheel_filename

__all__ = [
    "BUILD_POLICIES",
    "DEFAULT_BACKEND",
    "DEFAULT_REQUIRES",
    "SOURCE_DATE_EPOCH",
    "BuildInputs",
    "BuildPolicy",
    "BuildSystem",
    "BuiltWheel",
    "build_argv",
    "build_environment",
    "compiled_sources",
    "constraint_lines",
    "is_pure_wheel",
    "parse_build_system",
    "skipped_in_folder",
    "tree_sha256",
    "wheel_platform",
]

BuildPolicy = Literal["pure", "all", "none"]
BUILD_POLICIES: tuple[str, ...] = ("pure", "all", "none")

#: PEP 517's fallback for an sdist without ``[build-system]`` (what pip and uv use).
DEFAULT_BACKEND = "setuptools.build_meta:__legacy__"
DEFAULT_REQUIRES: tuple[str, ...] = ("setuptools>=40.8.0",)

#: The timestamp every built file gets (1980-01-01, the earliest a zip file can hold): the
#: same wheel bytes whenever and wherever it is built.
SOURCE_DATE_EPOCH = "315532800"

#: Source files that mean "this package compiles code" (C, C++, Cython, Rust, Fortran).
_COMPILED_SUFFIXES = (".c", ".cc", ".cpp", ".cxx", ".pyx", ".f90", ".f")
_COMPILED_NAMES = ("Cargo.toml",)


@dataclass(frozen=True)
class BuildSystem:
    """An sdist's ``[build-system]`` (or PEP 517's fallback when it has none)."""

    backend: str
    requires: tuple[str, ...]
    declared: bool          # False: the sdist has no [build-system] (a setup.py-only sdist)


@dataclass(frozen=True)
class BuildInputs:
    """Everything that decides a built wheel's bytes, besides the build's own code."""

    sdist_sha256: str
    backend: str
    #: ``name==version --hash=sha256:<hex>``, sorted: the exact build dependencies.
    requires: tuple[str, ...]
    python_version: str     # major.minor of the interpreter that builds

    def sha256(self) -> str:
        doc = {"sdist-sha256": self.sdist_sha256, "backend": self.backend, "requires": sorted(self.requires),
               "python": self.python_version, "source-date-epoch": SOURCE_DATE_EPOCH}
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class BuiltWheel:
    """A wheel built from a pinned sdist (what the lock records and the cache holds)."""

    name: str
    version: str
    sdist_filename: str
    sdist_url: str
    sdist_sha256: str
    wheel_filename: str
    wheel_sha256: str
    inputs: BuildInputs
    #: A local folder built into a wheel (``path`` dependencies): its path, relative to the
    #: project; ``sdist_sha256`` is then the folder's :func:`tree_sha256`, the sdist fields empty.
    path: str = ""

    @property
    def pure(self) -> bool:
        return is_pure_wheel(self.wheel_filename)

    @property
    def platform(self) -> str:
        return wheel_platform(self.wheel_filename)


def is_pure_wheel(filename: str) -> bool:
    """A ``*-none-any`` wheel: no compiled code, usable on every target."""
    _, _, _, tags = parse_wheel_filename(filename)
    return all(t.abi == "none" and t.platform == "any" for t in tags)


def wheel_platform(filename: str) -> str:
    _, _, _, tags = parse_wheel_filename(filename)
    return ".".join(sorted({t.platform for t in tags}))


#: What a local folder's build ignores: version-control data, caches, earlier build output.
SKIPPED_IN_FOLDERS = frozenset({".git", ".hg", ".svn", "__pycache__", "build", "dist", ".mochi", ".venv", ".tox",
                                ".mypy_cache", ".pytest_cache", ".ruff_cache"})


def skipped_in_folder(rel_parts: Sequence[str]) -> bool:
    """A path (its parts, relative to the folder) that a folder's build and hash leave out."""
    return any(p in SKIPPED_IN_FOLDERS or p.endswith((".egg-info", ".pyc")) for p in rel_parts)


def tree_sha256(files: Mapping[str, bytes]) -> str:
    """The SHA-256 of a folder's files (relative POSIX path -> bytes): names and contents."""
    h = hashlib.sha256()
    for rel in sorted(files):
        data = files[rel]
        h.update(f"{rel}\0{len(data)}\0".encode())
        h.update(hashlib.sha256(data).digest())
    return h.hexdigest()


def parse_build_system(pyproject: str | None) -> BuildSystem:
    """The ``[build-system]`` of an sdist's ``pyproject.toml`` text (``None``: it has none)."""
    if pyproject is None:
        return BuildSystem(DEFAULT_BACKEND, DEFAULT_REQUIRES, declared=False)
    data = tomllib.loads(pyproject)
    table = data.get("build-system")
    if not isinstance(table, dict):
        return BuildSystem(DEFAULT_BACKEND, DEFAULT_REQUIRES, declared=False)
    requires = table.get("requires", list(DEFAULT_REQUIRES))
    backend = table.get("build-backend", DEFAULT_BACKEND)
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires) or not isinstance(backend, str):
        raise ValueError("[build-system] requires must be a list of strings and build-backend a string")
    return BuildSystem(backend, tuple(requires), declared=True)


def compiled_sources(members: Iterable[str]) -> list[str]:
    """Members of an sdist that are sources of compiled code (sorted; at most 5)."""
    found = sorted(m for m in members
                   if m.endswith(_COMPILED_SUFFIXES) or m.rsplit("/", 1)[-1] in _COMPILED_NAMES)
    return found[:5]


_PIN = re.compile(r"^[A-Za-z0-9._-]+==[^\s]+ --hash=sha256:[0-9a-f]{64}$")


def constraint_lines(pins: Sequence[str]) -> str:
    """A build-constraints file: one ``name==version --hash=sha256:<hex>`` line per pin
    (anything else is refused: the file must not carry an option)."""
    for p in pins:
        if not _PIN.match(p):
            raise ValueError(f"not a hashed pin: {p!r}")
    return "".join(f"{p}\n" for p in sorted(pins))


def build_argv(uv: str, *, sdist: str, out_dir: str, python: str, find_links: str, constraints: str,
               cache_dir: str, isolate_network: Sequence[str] = ()) -> list[str]:
    """``uv build`` of one sdist into one wheel, offline: the build dependencies come only from
    ``find_links`` (wheels already fetched and verified), each pinned with its hash.
    ``isolate_network`` is a wrapper prefix (``unshare ...``) or empty."""
    return [*isolate_network, uv, "build", "--no-config", "--wheel", "--out-dir", out_dir, "--python", python,
            "--no-index", "--offline", "--find-links", find_links, "--build-constraints", constraints,
            "--require-build-hashes", "--cache-dir", cache_dir, "--color", "never", sdist]


def build_environment(*, home: str, tmp: str, path: str) -> dict[str, str]:
    """The build's whole environment: nothing of the caller's but ``PATH`` (compilers);
    ``HOME`` and ``TMPDIR`` inside the build folder; fixed timestamps and hash seed."""
    return {"PATH": path, "HOME": home, "TMPDIR": tmp, "TMP": tmp, "TEMP": tmp, "LANG": "C.UTF-8",
            "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
            "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1", "NO_COLOR": "1"}
