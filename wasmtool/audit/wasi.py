"""What the pinned WASI CPython gives side modules: the libraries componentize-py links.

componentize-py carries, compressed inside its own native library, the WebAssembly shared
libraries every component is linked from: ``libpython3.X.so``, ``libc.so``, ``libc++.so``, the
``libwasi-emulated-*`` shims, and its own glue. A compiled ``wasi_0_0_0_wasm32`` module is
linked against them (``wasm-tools component link``): what they export is what it may import
from ``env`` / ``GOT.*``; the WASI host modules they import from (``wasi:*@0.2.0``,
``wasi_snapshot_preview1``) are the ones the component answers; the libraries they name as
needed are the ones the link provides. :func:`wasi_runtime_facts` takes those modules' bytes
(the caller finds them: :mod:`wasmtool.ops.audit_runtime`).
"""

from __future__ import annotations

from collections.abc import Iterable

from wasmtool.audit.wasm import read_wasm
from wasmtool.audit.wasmlink import RuntimeFacts

__all__ = ["wasi_runtime_facts"]


def wasi_runtime_facts(modules: Iterable[bytes], platforms: Iterable[str], label: str) -> RuntimeFacts:
    provided: set[str] = set()
    hosts: set[str] = set()
    libraries: set[str] = set()
    for data in modules:
        module = read_wasm(data)
        provided |= module.exports
        libraries.update(module.needed)
        hosts.update(i.module for i in module.imports
                     if i.module.startswith("wasi"))
    return RuntimeFacts(label=label, provided=frozenset(provided), platforms=frozenset(platforms),
                        libraries=frozenset(libraries), host_modules=frozenset(hosts))
