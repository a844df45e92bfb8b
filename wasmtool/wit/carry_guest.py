"""Guest side of the compressed module store (bundled into a component as ``wasmtool_carry``).

Runs inside the component's CPython, never on the host: it imports only standard-library
modules that the interpreter has already imported at start (not ``typing``).
The host (:mod:`wasmtool.wit.carry`) writes ``wasmtool_carried.bin`` beside this module: the
standard-library modules a component carries but does not import while it is built, each a
zlib-compressed source. While the component is built, :func:`install` reads the file's
index and puts a finder on ``sys.meta_path``; the generated glue imports what must be
imported at build time, then :func:`seal` reads the compressed bytes of every module that is
still not imported (the bytes stay in the guest's memory, the file does not exist at run
time). A carried module is compiled and run the first time something imports it, from its
source, exactly as a source file would be (``compile(source, path, "exec",
dont_inherit=True)``), with ``__file__`` the path it had while the component was built.

File format (all integers big-endian): ``b"WTCARRY1"``, a 4-byte header length, a UTF-8 JSON
header ``{"modules": [[name, is_package, path relative to the standard library, length],
...]}`` and the compressed sources in header order.
"""

from __future__ import annotations

import json
import os
import sys
import zlib
from collections.abc import Container
from importlib.machinery import ModuleSpec, PathFinder
from types import CodeType, ModuleType

__all__ = ["BLOB_FILE", "MAGIC", "CarriedFinder", "CarriedLoader", "carried", "install", "parse_header", "phase",
           "seal", "stored_bytes"]

BLOB_FILE = "wasmtool_carried.bin"
MAGIC = b"WTCARRY1"

#: name -> (is_package, path while built, compressed source); filled by :func:`seal`
_STORE: dict[str, tuple[bool, str, bytes]] = {}
#: name -> (is_package, path, offset, length) in the file, between install and seal
_PENDING: dict[str, tuple[bool, str, int, int]] = {}
_FILE: list[str] = []
#: modules whose stored source did not compile (the component does not carry them after all)
_BROKEN: set[str] = set()


def parse_header(data: bytes) -> tuple[list[tuple[str, bool, str, int, int]], int]:
    """``([(name, is_package, relative path, offset, length)], header end)`` of a store file's
    first bytes (``data`` must hold at least the header)."""
    if data[:len(MAGIC)] != MAGIC:
        raise ValueError("not a wasmtool module store")
    size = int.from_bytes(data[len(MAGIC):len(MAGIC) + 4], "big")
    start = len(MAGIC) + 4
    header = json.loads(data[start:start + size].decode("utf-8"))
    offset = start + size
    out = []
    for name, is_package, rel, length in header["modules"]:
        out.append((str(name), bool(is_package), str(rel), offset, int(length)))
        offset += int(length)
    return out, start + size


def _stdlib_dir() -> str:
    return os.path.dirname(os.__file__ or "")


def install(directory: str | None = None) -> frozenset[str]:
    """Read the store's index beside this module (build time) and put the finder on
    ``sys.meta_path``, before the path finder; the names the store carries. No store: nothing."""
    folder = directory if directory is not None else os.path.dirname(__file__)
    path = os.path.join(folder, BLOB_FILE)
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(MAGIC) + 4)
            size = int.from_bytes(head[len(MAGIC):], "big") if head[:len(MAGIC)] == MAGIC else 0
            head += handle.read(size)
    except OSError:
        return frozenset()
    entries, _end = parse_header(head)
    base = _stdlib_dir()
    for name, is_package, rel, offset, length in entries:
        _PENDING[name] = (is_package, os.path.join(base, rel), offset, length)
    _FILE[:] = [path]
    if CarriedFinder not in sys.meta_path:
        at = next((i for i, f in enumerate(sys.meta_path) if f is PathFinder), len(sys.meta_path))
        sys.meta_path.insert(at, CarriedFinder)
    return frozenset(_PENDING) | frozenset(_STORE)


def seal() -> None:
    """Keep the compressed source of every carried module not imported yet (build time); one
    read per module, so that no copy of the whole file is left in the guest's memory."""
    if not _FILE:
        return
    with open(_FILE[0], "rb") as handle:
        for name in sorted(_PENDING):
            is_package, path, offset, length = _PENDING[name]
            if name in sys.modules:
                continue
            handle.seek(offset)
            _STORE[name] = (is_package, path, handle.read(length))
    _PENDING.clear()
    _FILE.clear()


def carried() -> frozenset[str]:
    """The names the store holds (after :func:`seal`)."""
    return frozenset(_STORE)


def stored_bytes() -> int:
    return sum(len(entry[2]) for entry in _STORE.values())


def _entry(name: str) -> tuple[bool, str, bytes] | None:
    found = _STORE.get(name)
    if found is not None:
        return found
    pending = _PENDING.get(name)
    if pending is None or not _FILE:
        return None
    with open(_FILE[0], "rb") as handle:     # imported while the component is built
        handle.seek(pending[2])
        return pending[0], pending[1], handle.read(pending[3])


class CarriedLoader:
    """Runs a carried module from its stored source."""

    @classmethod
    def create_module(cls, spec: ModuleSpec) -> ModuleType | None:
        return None

    @classmethod
    def get_source(cls, name: str) -> str | None:
        entry = _entry(name)
        if entry is None:
            return None
        from importlib.util import decode_source

        return decode_source(zlib.decompress(entry[2]))

    @classmethod
    def is_package(cls, name: str) -> bool:
        entry = _entry(name)
        return bool(entry and entry[0])

    @classmethod
    def get_code(cls, name: str) -> CodeType:
        entry = _entry(name)
        if entry is None:
            raise ImportError(f"wasmtool_carry: {name} is not carried", name=name)
        try:
            return compile(zlib.decompress(entry[2]), entry[1], "exec", dont_inherit=True)
        except (SyntaxError, ValueError, zlib.error) as exc:
            _BROKEN.add(name)
            raise ImportError(f"wasmtool_carry: the carried source of {name} does not compile: {exc}",
                              name=name) from exc

    @classmethod
    def exec_module(cls, module: ModuleType) -> None:
        spec = module.__spec__
        name = spec.name if spec is not None else module.__name__
        exec(cls.get_code(name), module.__dict__)


class CarriedFinder:
    """A ``sys.meta_path`` finder for the carried modules."""

    @classmethod
    def find_spec(cls, name: str, path: object = None, target: object = None) -> ModuleSpec | None:
        found = _STORE.get(name)
        entry = (found[0], found[1]) if found is not None else None
        if entry is None and name in _PENDING:
            entry = (_PENDING[name][0], _PENDING[name][1])
        if entry is None:
            return None
        spec = ModuleSpec(name, CarriedLoader, origin=entry[1], is_package=entry[0])  # type: ignore[arg-type]
        spec.has_location = True
        return spec

    @classmethod
    def invalidate_caches(cls) -> None:
        return None


def phase(name: str, exc: BaseException, failed_at_build: Container[str]) -> str:
    """The self-check's phase for carried module ``name`` failing with ``exc`` when it runs:
    ``"run"`` when the component lost something it carries (a stored source that does not
    compile, or a carried module that cannot be found), else ``"build"`` (the module fails
    in the guest for a reason of its own, as it would have while the component was built)."""
    if name in _BROKEN:
        return "run"
    missing = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
    if missing is not None and (missing in _STORE or missing == name) and missing not in failed_at_build:
        return "run"
    return "build"
