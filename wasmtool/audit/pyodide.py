"""What the pinned Pyodide runtime gives side modules, read from its npm package's files.

Pyodide's main module, ``pyodide.asm.wasm``, exports the symbols side modules link against
(CPython's C API, libc, ...), and imports from ``env`` the JavaScript functions of its
Emscripten runtime, which the loader hands to side modules as well. Both sets are read from the
installed npm package (the folder of the profile's distribution lock); the ABI is the
profile's platform tags. Read once per file (size and modification time).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from wasmtool.audit.errors import AuditInputError
from wasmtool.audit.wasm import read_wasm
from wasmtool.audit.wasmlink import RuntimeFacts

__all__ = ["MAIN_MODULE", "pyodide_runtime_facts"]

MAIN_MODULE = "pyodide.asm.wasm"


@lru_cache(maxsize=4)
def _read(path: str, size: int, mtime_ns: int) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    module = read_wasm(Path(path).read_bytes())
    provided = set(module.exports)
    hosts: set[str] = set()
    for imp in module.imports:
        if imp.module == "env":
            provided.add(imp.name)
        elif not imp.module.startswith("GOT."):
            hosts.add(imp.module)
    return frozenset(provided), frozenset(hosts), frozenset(module.needed)


def _version(npm_dir: Path) -> str:
    try:
        data = json.loads((npm_dir / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    return str(data.get("version", "")) if isinstance(data, dict) else ""


def pyodide_runtime_facts(npm_dir: Path, platforms: Iterable[str]) -> RuntimeFacts:
    """The facts of the Pyodide npm package in ``npm_dir`` whose ABI is ``platforms``."""
    path = npm_dir / MAIN_MODULE
    try:
        st = os.stat(path)
        provided, hosts, libraries = _read(str(path), st.st_size, st.st_mtime_ns)
    except OSError as exc:
        raise AuditInputError(f"cannot read the Pyodide runtime: {exc.strerror or exc}", file=str(path),
                              hint="run scripts/setup-node.sh (npm install pyodide)") from exc
    version = _version(npm_dir)
    return RuntimeFacts(label=f"pyodide {version}".strip(), provided=provided, platforms=frozenset(platforms),
                        libraries=libraries, host_modules=hosts)
