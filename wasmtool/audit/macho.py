"""What a Mach-O file (macOS extension or dylib) loads, read with macholib; which of it is
outside the system.

macOS guarantees only ``/usr/lib`` (the dyld shared cache) and ``/System/Library`` (its
frameworks). Any other absolute path (``/usr/local``, ``/opt/homebrew``, ``/opt/local``, a
build machine's folders) is a library the user's Mac does not have. ``@rpath/``,
``@loader_path/`` and ``@executable_path/`` names are relative: they are fine when a file of
that name ships in the wheel (``*.dylibs/``, as delocate bundles them), else a finding.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import PurePosixPath

from macholib.mach_o import LC_ID_DYLIB
from macholib.MachO import MachO
from macholib.SymbolTable import SymbolTable

from wasmtool.audit.errors import UnreadableBinaryError

__all__ = ["MACHO_MAGICS", "MachoInfo", "is_macho", "outside_system", "read_macho"]

MACHO_MAGICS = (b"\xfe\xed\xfa\xce", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe",
                b"\xca\xfe\xba\xbe", b"\xbe\xba\xfe\xca")
_SYSTEM_PREFIXES = ("/usr/lib/", "/System/Library/")
_RELATIVE_PREFIXES = ("@rpath/", "@loader_path/", "@executable_path/")



@dataclass(frozen=True)
class MachoInfo:
    libraries: tuple[str, ...]      # install names of the dylibs it loads (every architecture of a fat file)
    imported: frozenset[str] = frozenset()   # undefined external symbols, without the leading underscore


def is_macho(data: bytes) -> bool:
    # 0xcafebabe is also a Java class file; a class file's next bytes are its version (>= 45)
    if data[:4] == b"\xca\xfe\xba\xbe":
        return int.from_bytes(data[4:8], "big") < 45
    return data[:4] in MACHO_MAGICS


def read_macho(data: bytes) -> MachoInfo:
    # macholib's MachO opens a path; the wheel member is in memory, so its load() is fed a buffer
    # (the constructor only sets these attributes before calling load).
    macho = MachO.__new__(MachO)
    macho.graphident = macho.filename = "<member>"
    macho.loader_path = ""
    macho.fat = None
    macho.headers = []
    macho.allow_unknown_load_commands = True
    try:
        macho.load(io.BytesIO(data))
        names: list[str] = []
        imported: set[str] = set()
        for header in macho.headers:
            if header.getSymbolTableCommand() is not None and header.getDynamicSymbolTableCommand() is not None:
                table = SymbolTable(macho, header, openfile=lambda _name, _mode: io.BytesIO(data))
                for _nlist, raw in table.undefsyms:
                    name = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
                    imported.add(name[1:] if name.startswith("_") else name)
            for idx, _name, filename in header.walkRelocatables():
                if header.commands[idx][0].cmd != LC_ID_DYLIB and filename not in names:
                    names.append(filename)
    except (ValueError, KeyError, IndexError, OSError, EOFError, struct.error) as exc:
        raise UnreadableBinaryError(str(exc) or type(exc).__name__) from exc
    return MachoInfo(libraries=tuple(names), imported=frozenset(imported))


def outside_system(library: str, wheel_files: frozenset[str]) -> str | None:
    """Why ``library`` will not be found on a user's Mac, or None when it will.
    ``wheel_files``: the base names of the wheel's members."""
    if library.startswith(_SYSTEM_PREFIXES):
        return None
    if library.startswith(_RELATIVE_PREFIXES):
        return None if PurePosixPath(library).name in wheel_files else "a relative name the wheel does not ship"
    if library.startswith("/"):
        return "an absolute path outside /usr/lib and /System/Library (a build machine's library)"
    return None if PurePosixPath(library).name in wheel_files else "a bare name the wheel does not ship"
