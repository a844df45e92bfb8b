"""The guest's CPython: what a componentize-py component runs, read from componentize-py itself.

The host is never the target: the host running wasmtool may be CPython 3.11 while the pinned
componentize-py (0.25.1) embeds CPython 3.14. Its native library
(``componentize_py/componentize_py*.so``) carries the guest's standard library as a
zstd-compressed tar (the folder componentize-py mounts as ``/python`` while it builds:
``os.py``, ``email/``, ..., ``_sysconfigdata__wasi_wasm32-wasi.py``,
``build-details.json``); the wheel has no other copy of it. :func:`guest_stdlib` finds that
archive (the zstd frame that decompresses to a tar holding ``os.py``) and reads it with
:func:`wasmtool.targets.stdlib.parse_stdlib`: the guest's version, its standard-library
module names and their sources. Read once per process and library file.

Decompression uses ``compression.zstd`` (Python 3.14) or its backport ``backports.zstd``
(the ``wasi`` extra).
"""

from __future__ import annotations

import importlib.util
import io
import os
import tarfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from wasmtool.targets.stdlib import Stdlib, parse_stdlib

from .errors import ToolMissingError
from .validate import find_tool

__all__ = ["componentize_py_library", "guest_stdlib", "stdlib_file", "stdlib_from_library"]

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_TAR_MAGIC_AT = 257                     # "ustar" in the first tar header


def zstd_module() -> Any:
    try:
        from compression import zstd  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        try:
            from backports import zstd  # type: ignore[import-not-found,unused-ignore,no-redef]
        except ImportError as exc:
            raise ToolMissingError("backports.zstd", hint="install wasmtool's wasi extra "
                                   "(pip install 'wasmtool[wasi]'): it reads componentize-py's guest library") from exc
    return zstd


def componentize_py_library(executable: Path | None = None) -> Path:
    """The native library of the componentize-py that ``executable`` runs (default: the one
    beside ``sys.executable``, else on ``PATH``, as :func:`wasmtool.wit.build.find_componentize_py`
    finds it): its environment's ``site-packages/componentize_py/``, else this interpreter's
    ``componentize_py`` package."""
    if executable is None:
        executable = find_tool("componentize-py")
    folders = sorted(executable.resolve().parent.parent.glob("lib/python*/site-packages/componentize_py"))
    spec = importlib.util.find_spec("componentize_py")
    if spec is not None and spec.submodule_search_locations:
        folders += [Path(p) for p in spec.submodule_search_locations]
    for folder in folders:
        found = sorted(p for p in folder.glob("componentize_py*") if p.suffix in (".so", ".pyd", ".dylib"))
        if found:
            return found[0]
    raise ToolMissingError("componentize-py", hint=f"its native library (componentize_py*.so) was not found "
                           f"beside {executable} nor in this interpreter's site-packages")


def _tar_members(data: bytes) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for member in tar:
            if member.isfile():
                handle = tar.extractfile(member)
                if handle is not None:
                    files[member.name.removeprefix("./")] = handle.read()
    return files


def _embedded_tars(data: bytes) -> list[bytes]:
    """Every zstd frame of ``data`` that decompresses to a tar archive."""
    zstd = zstd_module()
    out: list[bytes] = []
    start = data.find(_ZSTD_MAGIC)
    while start >= 0:
        decompressor = zstd.ZstdDecompressor()
        try:
            head = decompressor.decompress(data[start:start + (1 << 16)], max_length=_TAR_MAGIC_AT + 8)
            if head[_TAR_MAGIC_AT:_TAR_MAGIC_AT + 5] == b"ustar":
                decompressor = zstd.ZstdDecompressor()
                out.append(decompressor.decompress(data[start:]))
        except zstd.ZstdError:
            pass                                    # the magic bytes inside other data
        start = data.find(_ZSTD_MAGIC, start + 1)
    return out


def stdlib_from_library(library: Path) -> Stdlib:
    """The standard library embedded in componentize-py's native library ``library``."""
    try:
        data = library.read_bytes()
    except OSError as exc:
        raise ToolMissingError("componentize-py", hint=f"cannot read {library}: {exc}") from exc
    for archive in _embedded_tars(data):
        try:
            files = _tar_members(archive)
        except tarfile.TarError:
            continue
        if "os.py" in files:
            try:
                return parse_stdlib(files, origin=str(library))
            except ValueError as exc:
                raise ToolMissingError("componentize-py", hint=f"{library}: {exc}") from exc
    raise ToolMissingError("componentize-py", hint=f"{library} embeds no CPython standard library that this "
                           "wasmtool can read (a componentize-py other than the pinned one?)")


@lru_cache(maxsize=4)
def _cached(library: str, size: int, mtime_ns: int) -> Stdlib:
    return stdlib_from_library(Path(library))


def guest_stdlib(library: Path | None = None) -> Stdlib:
    """The guest CPython's standard library (see the module docstring), cached per library file."""
    library = library or componentize_py_library()
    st = os.stat(library)
    return _cached(str(library), st.st_size, st.st_mtime_ns)


def stdlib_file(stdlib: Stdlib, name: str) -> tuple[str, bytes] | None:
    """``(path relative to the standard library folder, source bytes)`` of module ``name``'s
    ``.py`` file in ``stdlib`` (``email/parser.py``, ``encodings/__init__.py``), or None."""
    base = name.replace(".", "/")
    for path in (f"{base}.py", f"{base}/__init__.py"):
        data = stdlib.files.get(path)
        if data is not None:
            return path, data
    return None
