"""What a PE file (Windows extension or DLL) imports, read with pefile; which DLLs are not
part of Windows and not shipped in the wheel.

A Windows wheel must carry every DLL that is not part of the system (delvewheel copies them
into ``<pkg>.libs/``). The system set is: the API sets (``api-ms-win-*``, ``ext-ms-*``), the
CPython DLLs (``python3.dll``, ``python3XY.dll``), the Visual C++ runtime that CPython itself
ships (``vcruntime140*.dll``, ``msvcp140*.dll``, ``ucrtbase.dll``, ``concrt140.dll``), and the
core system DLLs in :data:`SYSTEM_DLLS`. That list is written here because no published package
carries it as data (delvewheel keeps its own in a private module); it names only DLLs every
supported Windows has.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

import pefile

from wasmtool.audit.errors import UnreadableBinaryError

__all__ = ["PYTHON_DLL", "SYSTEM_DLLS", "VERSIONED_PYTHON_DLL", "PeInfo", "is_pe", "outside_system", "read_pe"]

SYSTEM_DLLS = frozenset({
    "advapi32.dll", "bcrypt.dll", "comctl32.dll", "comdlg32.dll", "crypt32.dll", "d3d11.dll", "dbghelp.dll",
    "dwmapi.dll", "dxgi.dll", "gdi32.dll", "gdiplus.dll", "imm32.dll", "iphlpapi.dll", "kernel32.dll",
    "kernelbase.dll", "msvcrt.dll", "ncrypt.dll", "netapi32.dll", "ntdll.dll", "ole32.dll", "oleaut32.dll",
    "opengl32.dll", "psapi.dll", "rpcrt4.dll", "secur32.dll", "setupapi.dll", "shell32.dll", "shlwapi.dll",
    "user32.dll", "userenv.dll", "uxtheme.dll", "version.dll", "winhttp.dll", "wininet.dll", "winmm.dll",
    "ws2_32.dll", "wsock32.dll", "wtsapi32.dll",
})
_SYSTEM_PATTERNS = re.compile(
    r"^(api-ms-win-.*|ext-ms-.*|python3\d*\.dll|vcruntime140(_\d+)?\.dll|msvcp140(_\w+)?\.dll|"
    r"ucrtbase\.dll|concrt140\.dll)$")



#: The stable-ABI CPython DLL, and the version-specific ones (python312.dll)
PYTHON_DLL = re.compile(r"^python3\.dll$")
VERSIONED_PYTHON_DLL = re.compile(r"^python3\d+\.dll$")


@dataclass(frozen=True)
class PeInfo:
    dlls: tuple[str, ...]           # imported and delay-imported DLL names, as written
    #: (DLL, names imported from it by name), e.g. ("python3.dll", ("PyLong_FromLong", ...))
    imports: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def imported_from(self, dll_pattern: re.Pattern[str]) -> frozenset[str]:
        return frozenset(n for dll, names in self.imports if dll_pattern.match(dll.lower()) for n in names)


def is_pe(data: bytes) -> bool:
    return data[:2] == b"MZ"


def read_pe(data: bytes) -> PeInfo:
    try:
        pe = pefile.PE(data=data, fast_load=True)
        pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_IMPORT"],
                                               pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT"]])
        names: list[str] = []
        imports: dict[str, set[str]] = {}
        for attr in ("DIRECTORY_ENTRY_IMPORT", "DIRECTORY_ENTRY_DELAY_IMPORT"):
            for entry in getattr(pe, attr, ()):
                name = entry.dll.decode("ascii", "replace")
                if name not in names:
                    names.append(name)
                imports.setdefault(name, set()).update(
                    imp.name.decode("ascii", "replace") for imp in entry.imports if imp.name)
    except (pefile.PEFormatError, ValueError, IndexError, AttributeError, struct.error) as exc:
        raise UnreadableBinaryError(str(exc) or type(exc).__name__) from exc
    return PeInfo(dlls=tuple(names), imports=tuple((dll, tuple(sorted(imports[dll]))) for dll in names))


def outside_system(dll: str, wheel_files: frozenset[str]) -> str | None:
    """Why ``dll`` will not be found on a user's Windows, or None when it will. ``wheel_files``:
    the base names of the wheel's members, lower-cased (Windows names are case-insensitive)."""
    low = dll.lower()
    if low in SYSTEM_DLLS or _SYSTEM_PATTERNS.match(low) or low in wheel_files:
        return None
    return "neither part of Windows nor shipped in the wheel"
