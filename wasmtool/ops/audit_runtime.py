"""The facts of a target's pinned runtime that the wheel audit checks WebAssembly modules against.

* A profile with a distribution lock (``[runtime].distribution-lock``, Pyodide): the npm
  package beside that lock (``node_modules/pyodide``), found as the target backend finds it
  (the project folder, then the wasmtool checkout); its ``pyodide.asm.wasm`` is read. Its
  version must be the profile's ``[runtime].npm-version``.
* A profile pinned to componentize-py (``[runtime].componentize-py``, WASI): the shared
  libraries compressed inside componentize-py's native library (found as the component build
  finds it) are read.
* Any other profile (native): ``None``; its wheels' WebAssembly modules, if any, are skipped.

The ABI is the profile's platform tags (plus those it accepts on read only).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from wasmtool.audit.errors import AuditInputError
from wasmtool.audit.pyodide import pyodide_runtime_facts
from wasmtool.audit.wasi import wasi_runtime_facts
from wasmtool.audit.wasm import is_wasm
from wasmtool.audit.wasmlink import RuntimeFacts
from wasmtool.targets.profile import TargetProfile
from wasmtool.targets.pyodide import REPO_ROOT, find_distribution_lock

__all__ = ["runtime_facts"]

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def runtime_facts(ctx_root: Path, profile: TargetProfile) -> RuntimeFacts | None:
    """The runtime facts of ``profile`` (see the module docstring); ``ctx_root``: the project folder."""
    platforms = (*profile.platform_tags, *profile.read_only_platforms)
    if profile.runtime.get("distribution-lock"):
        lock = find_distribution_lock(profile, [ctx_root, REPO_ROOT])
        if lock is None:
            raise AuditInputError(f"target {profile.name}: its Pyodide runtime was not found under {ctx_root} "
                                  f"or {REPO_ROOT}", file=str(profile.runtime["distribution-lock"]),
                                  hint="run scripts/setup-node.sh (npm install pyodide)")
        facts = pyodide_runtime_facts(lock.parent, platforms)
        pinned = str(profile.runtime.get("npm-version") or "")
        if pinned and facts.label != f"pyodide {pinned}":
            raise AuditInputError(f"target {profile.name} pins Pyodide {pinned}, but {lock.parent} holds "
                                  f"{facts.label or 'an unversioned package'}", file=str(lock.parent / "package.json"),
                                  hint="run scripts/setup-node.sh to install the pinned Pyodide")
        return facts
    if profile.runtime.get("componentize-py"):
        from wasmtool.wit.guest_python import componentize_py_library

        library = componentize_py_library()
        st = library.stat()
        modules = _embedded_modules(str(library), st.st_size, st.st_mtime_ns)
        return wasi_runtime_facts(modules, platforms, f"componentize-py {profile.runtime['componentize-py']}")
    return None


@lru_cache(maxsize=2)
def _embedded_modules(library: str, size: int, mtime_ns: int) -> tuple[bytes, ...]:
    return tuple(_wasm_frames(Path(library).read_bytes()))


def _wasm_frames(data: bytes) -> Iterator[bytes]:
    """Every zstd frame of ``data`` that decompresses to a WebAssembly module (componentize-py
    keeps its shared libraries so, next to the standard library's tar)."""
    # the one zstd loader (compression.zstd, else backports.zstd from the wasi extra)
    from wasmtool.wit.guest_python import zstd_module

    zstd = zstd_module()
    start = data.find(_ZSTD_MAGIC)
    while start >= 0:
        try:
            head = zstd.ZstdDecompressor().decompress(data[start:start + (1 << 16)], max_length=8)
            if is_wasm(head):
                yield zstd.ZstdDecompressor().decompress(data[start:])
        except zstd.ZstdError:
            pass                                    # the magic bytes inside other data
        start = data.find(_ZSTD_MAGIC, start + 1)
