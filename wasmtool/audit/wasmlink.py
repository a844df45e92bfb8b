"""Can a WebAssembly side module be loaded by its runtime? (Pyodide and WASI alike.)

A side module (a ``.so`` of a Pyodide or WASI wheel) is linked at load time against what the
runtime provides: the symbols the runtime's main module and libraries export (and, for
Pyodide, the JavaScript functions its main module imports from ``env``), the symbols the other
modules of the lock export, and the few globals the dynamic loader itself creates
(:data:`LOADER_PROVIDED`, from the tool conventions' DynamicLinking ABI). This checks, per
module:

* each import from ``env``, ``GOT.mem`` or ``GOT.func`` is provided (imports ``dylink.0``
  marks weak are skipped: the loader resolves a missing weak symbol to zero);
* each import from another module (``wasi_snapshot_preview1``, ``wasi:*``) names a host module
  the runtime itself imports from;
* each library ``dylink.0`` names as needed is in the wheel, in the lock, or in the runtime;
* the wheel's platform tag is one the runtime accepts (its ABI).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from wasmtool.audit.model import WASM_ABI_MISMATCH, WASM_MISSING_IMPORT, WASM_MISSING_LIBRARY, Finding
from wasmtool.audit.wasm import WasmModule

__all__ = ["LOADER_PROVIDED", "RuntimeFacts", "check_abi", "check_module"]

#: What the dynamic loader creates for every side module it loads (not exported by anyone).
LOADER_PROVIDED = frozenset({"memory", "__indirect_function_table", "__memory_base", "__table_base",
                             "__stack_pointer"})
_SYMBOL_MODULES = ("env", "GOT.mem", "GOT.func")


@dataclass(frozen=True)
class RuntimeFacts:
    """What a WebAssembly target's pinned runtime gives its side modules.

    ``label``: the runtime and its version, for messages (``pyodide 314.0.7``);
    ``provided``: symbol names it resolves; ``libraries``: shared-library file names it holds;
    ``host_modules``: import modules other than ``env``/``GOT.*`` that the host answers;
    ``platforms``: the wheel platform tags of its ABI (``pyemscripten_2026_0_wasm32``, ...)."""

    label: str
    provided: frozenset[str]
    platforms: frozenset[str]
    libraries: frozenset[str] = frozenset()
    host_modules: frozenset[str] = frozenset()

    def digest(self) -> str:
        """sha256 of everything the checks read from these facts (for audit input hashes)."""
        body = json.dumps({"label": self.label, "provided": sorted(self.provided),
                           "platforms": sorted(self.platforms), "libraries": sorted(self.libraries),
                           "host_modules": sorted(self.host_modules)}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()


def check_abi(tag_member: str, platforms: Iterable[str], runtime: RuntimeFacts) -> list[Finding]:
    """The wheel's platform tags against the runtime's ABI. ``tag_member``: the member that
    records the tags (``<name>.dist-info/WHEEL``)."""
    claimed = sorted(set(platforms))
    if set(claimed) & runtime.platforms:
        return []
    return [Finding(member=tag_member, rule=WASM_ABI_MISMATCH, subject=".".join(claimed),
                    detail=f"{runtime.label} loads {', '.join(sorted(runtime.platforms))} only")]


def check_module(member: str, module: WasmModule, runtime: RuntimeFacts, *, also_provided: frozenset[str],
                 libraries_at_hand: frozenset[str]) -> list[Finding]:
    """Findings for one side module. ``also_provided``: symbols the other modules of the wheel
    and of the lock export; ``libraries_at_hand``: file names of the wheel's and the lock's
    members."""
    found: list[Finding] = []
    for imp in sorted(set(module.imports)):
        if (imp.module, imp.name) in module.weak_imports:
            continue
        if imp.module in _SYMBOL_MODULES:
            if (imp.name in runtime.provided or imp.name in LOADER_PROVIDED or imp.name in module.exports
                    or imp.name in also_provided):
                continue
            found.append(Finding(member=member, rule=WASM_MISSING_IMPORT, subject=imp.name,
                                 detail=f"{imp.module} {imp.kind} import that neither {runtime.label} nor "
                                        "another module of the wheel or the lock exports"))
        elif imp.module not in runtime.host_modules:
            found.append(Finding(member=member, rule=WASM_MISSING_IMPORT, subject=f"{imp.module}.{imp.name}",
                                 detail=f"import from host module {imp.module!r}, which {runtime.label} "
                                        "does not provide"))
    for lib in module.needed:
        name = lib.rsplit("/", 1)[-1]
        if name in libraries_at_hand or name in runtime.libraries:
            continue
        found.append(Finding(member=member, rule=WASM_MISSING_LIBRARY, subject=lib,
                             detail=f"needed (dylink.0) but neither in the wheel, the lock nor {runtime.label}"))
    return found
