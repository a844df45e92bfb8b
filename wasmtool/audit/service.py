"""Audit one wheel: read its compiled members and run the checks that apply (the IO edge).

:func:`audit_wheel` opens the wheel with :mod:`zipfile`, reads every compiled member (``.so``,
``.so.N``, ``.pyd``, ``.dylib``, ``.dll``), tells its format from its first bytes, and checks:

* ELF: needed libraries and versioned symbols against the policy of the wheel's
  manylinux/musllinux tags (:mod:`wasmtool.audit.policy`); in an ``abi3`` wheel, imported
  ``Py*`` symbols against the Limited API of its minimum version (:mod:`wasmtool.audit.abi3`);
* Mach-O / PE: dependent libraries outside the system set and not in the wheel
  (:mod:`wasmtool.audit.macho`, :mod:`wasmtool.audit.pe`); abi3 as for ELF (Mach-O: the
  undefined symbols; PE: the names imported from ``python3.dll``, and no versioned
  ``python3XY.dll`` at all);
* WebAssembly: against the target runtime's facts (:mod:`wasmtool.audit.wasmlink`); without
  facts (a native target) the wheel is ``skipped``.

Which check runs follows the member's format and the wheel's tags, never the target's name;
``target`` labels the result. Same inputs, same result: members are read in name order and
findings sorted.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from wasmtool.audit import policy, wasm, wasmlink
from wasmtool.audit.errors import AuditInputError, UnreadableBinaryError
from wasmtool.audit.model import (
    ABI3_NON_LIMITED_SYMBOL,
    AUDIT_VERSION,
    LIBRARY_OUTSIDE_POLICY,
    LIBRARY_OUTSIDE_SYSTEM,
    SYMBOL_VERSION_TOO_NEW,
    UNREADABLE_BINARY,
    Finding,
    ModuleAudit,
    WheelAudit,
)
from wasmtool.audit.wasmlink import RuntimeFacts

if TYPE_CHECKING:   # the binary readers are imported when a wheel is audited (lock reads stored verdicts)
    from wasmtool.audit import elf, pe

__all__ = ["RuntimeFacts", "audit_wheel", "compiled_members", "inputs_fingerprint", "is_compiled_member"]

_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")


def is_compiled_member(name: str) -> bool:
    """``name`` (a wheel member) is a compiled module or shared library by its name."""
    base = PurePosixPath(name).name.lower()
    return base.endswith(_SUFFIXES) or ".so." in base


def compiled_members(names: Iterable[str]) -> list[str]:
    return sorted(n for n in names if not n.endswith("/") and is_compiled_member(n))


@dataclass(frozen=True)
class _Wheel:
    filename: str
    tags: frozenset[Tag]
    members: tuple[str, ...]
    dist_info: str

    @cached_property
    def platforms(self) -> frozenset[str]:
        return frozenset(t.platform for t in self.tags)

    @cached_property
    def abi3_minimum(self) -> tuple[int, int] | None:
        if not any(t.abi == "abi3" for t in self.tags):
            return None
        from wasmtool.audit import abi3

        return abi3.minimum_version(t.interpreter for t in self.tags if t.abi == "abi3")

    @cached_property
    def basenames(self) -> frozenset[str]:
        return frozenset(PurePosixPath(m).name for m in self.members)


def _parse_name(path: Path) -> frozenset[Tag]:
    try:
        return frozenset(parse_wheel_filename(path.name)[3])
    except InvalidWheelFilename as exc:
        raise AuditInputError(f"not a wheel file name: {exc}", file=str(path)) from exc


def _dist_info(names: Iterable[str]) -> str:
    for name in sorted(names):
        top = name.split("/", 1)[0]
        if top.endswith(".dist-info"):
            return top
    return ""


def _elf_findings(w: _Wheel, member: str, info: elf.ElfInfo) -> tuple[list[Finding], list[str]]:
    found: list[Finding] = []
    checks: list[str] = []
    bundled = w.basenames
    binding = policy.binding_policy(w.platforms)
    if binding is not None:
        checks.append("linux-policy")
        for lib in info.needed:
            if lib in bundled or binding.allows_library(lib):
                continue
            found.append(Finding(member=member, rule=LIBRARY_OUTSIDE_POLICY, subject=lib,
                                 detail=f"not in the wheel and not a system library of {binding.tag} "
                                        f"(auditwheel {policy.auditwheel_version()} policy)"))
        for lib, version_name in info.version_needs:
            if lib in bundled or binding.allows_version(lib, version_name):
                continue
            symbols = info.symbols_of(lib, version_name)
            shown = ", ".join(symbols[:5]) + (f" and {len(symbols) - 5} more" if len(symbols) > 5 else "")
            found.append(Finding(member=member, rule=SYMBOL_VERSION_TOO_NEW, subject=f"{version_name} ({lib})",
                                 detail=f"newer than {binding.tag} allows" + (f"; needed by {shown}" if shown else "")))
    abi3_found, abi3_ran = _abi3_findings(w, member, info.imported - info.weak_imported)
    return found + abi3_found, checks + abi3_ran


def _read_elf(w: _Wheel, data: bytes) -> elf.ElfInfo:
    """The ELF member; its symbol table only when a check needs it (abi3, or a version
    requirement the policy refuses, whose symbols the finding names)."""
    from wasmtool.audit import elf

    info = elf.read_elf(data, symbols=False)
    binding = policy.binding_policy(w.platforms)
    bundled = w.basenames
    if w.abi3_minimum is not None or (binding is not None and any(
            lib not in bundled and not binding.allows_version(lib, v) for lib, v in info.version_needs)):
        return elf.read_elf(data)
    return info


def _abi3_findings(w: _Wheel, member: str, imported: Iterable[str]) -> tuple[list[Finding], list[str]]:
    minimum = w.abi3_minimum
    if minimum is None:
        return [], []
    from wasmtool.audit import abi3

    return [Finding(member=member, rule=ABI3_NON_LIMITED_SYMBOL, subject=symbol,
                    detail=f"{why} (abi3 wheel, Limited API {minimum[0]}.{minimum[1]})")
            for symbol, why in abi3.non_limited(imported, minimum)], ["abi3"]


def _pe_findings(w: _Wheel, member: str, info: pe.PeInfo) -> tuple[list[Finding], list[str]]:
    from wasmtool.audit import pe

    lower = frozenset(n.lower() for n in w.basenames)
    found = [Finding(member=member, rule=LIBRARY_OUTSIDE_SYSTEM, subject=dll, detail=why)
             for dll in info.dlls if (why := pe.outside_system(dll, lower)) is not None]
    abi3_found, ran = _abi3_findings(w, member, info.imported_from(pe.PYTHON_DLL))
    if ran:
        # an abi3 extension links python3.dll; a versioned python3XY.dll ties it to one CPython
        found += [Finding(member=member, rule=ABI3_NON_LIMITED_SYMBOL, subject=dll,
                          detail="an abi3 extension links the version-specific CPython DLL, not python3.dll")
                  for dll in info.dlls if pe.VERSIONED_PYTHON_DLL.match(dll.lower())]
    return found + abi3_found, ["windows-dlls", *ran]


def _read_member(zf: zipfile.ZipFile, member: str) -> bytes:
    try:
        return zf.read(member)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise UnreadableBinaryError(f"cannot be read from the wheel: {exc}") from exc


@lru_cache(maxsize=256)
def _wasm_exports_of(path: str, size: int, mtime_ns: int) -> tuple[frozenset[str], frozenset[str]]:
    """(exports of every wasm module, every member's base name) of one lock file."""
    exports: set[str] = set()
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            for member in compiled_members(names):
                data = zf.read(member)
                if wasm.is_wasm(data):
                    try:
                        exports |= wasm.read_wasm(data).exports
                    except UnreadableBinaryError:
                        continue          # that wheel's own audit reports it
    except (zipfile.BadZipFile, OSError):
        return frozenset(), frozenset()
    return frozenset(exports), frozenset(PurePosixPath(n).name for n in names)


def _lock_provides(lock_wheels: Sequence[Path], own: Path) -> tuple[frozenset[str], frozenset[str]]:
    exports: set[str] = set()
    files: set[str] = set()
    for path in lock_wheels:
        if path.resolve() == own.resolve():
            continue
        try:
            st = os.stat(path)
        except OSError:
            continue
        e, f = _wasm_exports_of(str(path), st.st_size, st.st_mtime_ns)
        exports |= e
        files |= f
    return frozenset(exports), frozenset(files)


def audit_wheel(path: Path, *, target: str, runtime: RuntimeFacts | None = None,
                lock_wheels: Sequence[Path] = ()) -> WheelAudit:
    """Audit the wheel at ``path`` for ``target`` (see the module docstring). ``runtime``: the
    facts of a WebAssembly target's runtime (None for native); ``lock_wheels``: the other files
    of the same target's lock, whose modules and libraries count as provided."""
    tags = _parse_name(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise AuditInputError(f"cannot open the wheel: {exc}", file=str(path)) from exc
    with zf:
        names = zf.namelist()
        w = _Wheel(path.name, tags, tuple(sorted(names)), _dist_info(names))
        members = compiled_members(names)
        if not members:
            return WheelAudit.build(path.name, target, (), reason="no compiled code", skipped=True)
        read: list[tuple[str, bytes | None, str]] = []
        for member in members:
            try:
                read.append((member, _read_member(zf, member), ""))
            except UnreadableBinaryError as exc:
                read.append((member, None, exc.message))
    return _audit_members(w, target, read, runtime, lock_wheels, path)


def _audit_members(w: _Wheel, target: str, read: list[tuple[str, bytes | None, str]], runtime: RuntimeFacts | None,
                   lock_wheels: Sequence[Path], path: Path) -> WheelAudit:
    from wasmtool.audit import elf, macho, pe

    modules: list[ModuleAudit] = []
    checks: set[str] = set()
    wasm_modules: dict[str, wasm.WasmModule] = {}
    for member, data, problem in read:
        if data is None:
            modules.append(_unreadable(member, "unknown", problem))
            continue
        try:
            if elf.is_elf(data):
                info = _read_elf(w, data)
                found, ran = _elf_findings(w, member, info)
                checks.update(ran)
                modules.append(ModuleAudit(member, "elf", info.needed, tuple(found)))
            elif wasm.is_wasm(data):
                wasm_modules[member] = wasm.read_wasm(data)
            elif macho.is_macho(data):
                m = macho.read_macho(data)
                found = [Finding(member=member, rule=LIBRARY_OUTSIDE_SYSTEM, subject=lib, detail=why)
                         for lib in m.libraries if (why := macho.outside_system(lib, w.basenames)) is not None]
                abi3_found, ran = _abi3_findings(w, member, m.imported)
                checks.update(("macos-libraries", *ran))
                modules.append(ModuleAudit(member, "macho", m.libraries, tuple(found + abi3_found)))
            elif pe.is_pe(data):
                p = pe.read_pe(data)
                found, ran = _pe_findings(w, member, p)
                checks.update(ran)
                modules.append(ModuleAudit(member, "pe", p.dlls, tuple(found)))
            else:
                modules.append(_unreadable(member, "unknown", "not ELF, Mach-O, PE or WebAssembly"))
        except UnreadableBinaryError as exc:
            modules.append(_unreadable(member, "unknown", exc.message))
    if wasm_modules:
        if runtime is None:
            return WheelAudit.build(w.filename, target, modules, checks=checks, skipped=True,
                                    reason=f"WebAssembly modules, and target {target} pins no WebAssembly "
                                           "runtime to check them against")
        checks.update(("wasm-abi", "wasm-imports", "wasm-libraries"))
        lock_exports, lock_files = _lock_provides(lock_wheels, path)
        for member, module in sorted(wasm_modules.items()):
            others = frozenset().union(*(m.exports for k, m in wasm_modules.items() if k != member))
            found = wasmlink.check_module(member, module, runtime, also_provided=others | lock_exports,
                                          libraries_at_hand=w.basenames | lock_files)
            modules.append(ModuleAudit(member, "wasm", module.needed, tuple(found)))
        abi = wasmlink.check_abi(f"{w.dist_info}/WHEEL" if w.dist_info else w.filename, w.platforms, runtime)
        if abi:
            modules.append(ModuleAudit(abi[0].member, "tags", (), tuple(abi)))
    return WheelAudit.build(w.filename, target, modules, checks=checks)


def _unreadable(member: str, fmt: str, why: str) -> ModuleAudit:
    return ModuleAudit(member, fmt, (), (Finding(member=member, rule=UNREADABLE_BINARY, subject=member,
                                                 detail=why),))


def inputs_fingerprint(wheel_sha256: str, target: str, runtime: RuntimeFacts | None,
                       lock_wheel_sha256s: Iterable[str] = ()) -> str:
    """sha256 (hex) of everything an audit's result depends on: the audit's version, the data
    packages' versions (auditwheel's policies, abi3info's stable ABI), the wheel, the target,
    the runtime's facts, and the other files of the lock."""
    body = json.dumps({"audit": AUDIT_VERSION, "auditwheel": policy.data_version("auditwheel"),
                       "abi3info": policy.data_version("abi3info"), "wheel": wheel_sha256, "target": target,
                       "runtime": runtime.digest() if runtime is not None else "",
                       "lock": sorted(set(lock_wheel_sha256s))}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()
