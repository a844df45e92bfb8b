"""The standard-library modules a component carries compressed instead of imported.

A componentize-py component stores the guest's memory after the build: every module imported
while it was built costs its live objects (code, functions, classes, dictionaries), several
times its source size. Most of the standard-library modules a component carries
(:func:`wasmtool.wit.preimport.carried_modules`: what the wheels reach in functions, the
whole ``encodings`` package) are never imported by a call. So :func:`split_carried` keeps
for import at build time the modules of the wheels and the wrapper (and what importing them
runs) and every carried module without a ``.py`` source (built-in modules), and stores the
other carried standard-library modules as zlib-compressed sources (:func:`pack`), unchanged
(docstrings and comments kept: removing comments shrank the store by a third and the tomli
component by 1 KB, the stored bytes filling memory that imports had freed).
The guest (:mod:`wasmtool.wit.carry_guest`, bundled as :data:`CARRY_MODULE`) imports such a
module on first use, and the self-check imports each of them when install runs it.

The wheels' own modules stay imported at build time: a package may read a data file beside
its modules when it is imported, which works while the component is built and not when it
runs (the guest has no file system holding the wheels). Standard-library modules do not.

Pure: sources in, bytes out (no IO); :func:`guest_module_source` reads the bundled module.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .carry_guest import BLOB_FILE, MAGIC, parse_header

__all__ = ["BLOB_FILE", "CARRY_MODULE", "CarrySplit", "StoredModule", "guest_module_source", "pack", "split_carried",
           "unpack"]

#: The guest module name of :mod:`wasmtool.wit.carry_guest`.
CARRY_MODULE = "wasmtool_carry"
_LEVEL = 9


@dataclass(frozen=True)
class StoredModule:
    name: str          # dotted module name
    is_package: bool
    path: str          # relative to the standard library folder (``email/parser.py``)
    source: bytes      # as in the standard library


@dataclass(frozen=True)
class CarrySplit:
    """:func:`split_carried`'s answer."""

    eager: tuple[str, ...]                 # imported at build time, sorted
    stored: tuple[StoredModule, ...]       # carried compressed, sorted by name


def guest_module_source() -> str:
    """The text of :mod:`wasmtool.wit.carry_guest`, bundled into the guest as :data:`CARRY_MODULE`."""
    return Path(__file__).with_name("carry_guest.py").read_text(encoding="utf-8")


def split_carried(carried: Iterable[str], *, bundled_tops: Iterable[str], is_stdlib_module: Callable[[str], bool],
                  stdlib_file: Callable[[str], tuple[str, bytes] | None]) -> CarrySplit:
    """Split the carried modules (see the module docstring): ``bundled_tops`` are the
    top-level names of the wheels' and the wrapper's modules (always imported at build time,
    even one that shadows a standard-library name); ``stdlib_file(name)`` gives a
    standard-library module's ``(relative path, source bytes)`` or None (no ``.py``)."""
    own = frozenset(bundled_tops)
    eager: list[str] = []
    stored: list[StoredModule] = []
    for name in sorted(set(carried)):
        own_module = name.split(".")[0] in own
        found = stdlib_file(name) if is_stdlib_module(name) and not own_module else None
        if found is None:
            eager.append(name)
            continue
        path, source = found
        stored.append(StoredModule(name, path.endswith("/__init__.py"), path, source))
    return CarrySplit(tuple(eager), tuple(stored))


def pack(modules: Iterable[StoredModule]) -> bytes:
    """The store file (format: :mod:`wasmtool.wit.carry_guest`), deterministic: sorted by name,
    each source as the standard library has it, compressed at zlib level 9."""
    entries = sorted(modules, key=lambda m: m.name)
    blobs = [zlib.compress(m.source, _LEVEL) for m in entries]
    rows = [[m.name, m.is_package, m.path, len(b)] for m, b in zip(entries, blobs, strict=True)]
    header = json.dumps({"modules": rows}, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return b"".join([MAGIC, len(header).to_bytes(4, "big"), header, *blobs])


def unpack(data: bytes) -> dict[str, tuple[bool, str, bytes]]:
    """``{name: (is_package, relative path, source)}`` of a store file (tests, reports)."""
    entries, _end = parse_header(data)
    return {name: (is_package, rel, zlib.decompress(data[offset:offset + length]))
            for name, is_package, rel, offset, length in entries}
