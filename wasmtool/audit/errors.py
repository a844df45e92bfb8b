"""Wheel audit errors (WT950-WT959): one code per rule a compiled member can break.

The audit itself never raises for what it finds: it records findings
(:mod:`wasmtool.audit.model`). ``require`` mode turns a finding into the error of its rule
(:func:`error_for`); the message names the wheel, the member, and the library or symbol::

    PublishError                          WT900  (wasmtool.errors)
    └── AuditError                        WT950  base of the audit errors
        ├── LibraryOutsidePolicyError     WT951  Linux: needed library outside the wheel and its policy
        ├── SymbolVersionTooNewError      WT952  Linux: versioned symbol newer than the tag's policy
        ├── NonLimitedSymbolError         WT953  abi3: imported symbol outside the Limited API
        ├── WasmMissingImportError        WT954  Pyodide/WASI: import no runtime or lock module gives
        ├── WasmMissingLibraryError       WT955  Pyodide/WASI: dylink.0 library not in wheel, lock, runtime
        ├── WasmAbiMismatchError          WT956  Pyodide/WASI: platform tag is not the runtime's ABI
        ├── LibraryOutsideSystemError     WT957  macOS/Windows: library outside the system, not bundled
        ├── UnreadableBinaryError         WT958  compiled member not readable as ELF/Mach-O/PE/wasm
        └── AuditInputError               WT959  the file cannot be audited (not a wheel, bad zip)

Each class's ``rule`` is the rule id its findings carry (``Finding.rule``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from wasmtool.errors import PublishError

__all__ = [
    "RULE_ERRORS",
    "AuditError",
    "AuditInputError",
    "LibraryOutsidePolicyError",
    "LibraryOutsideSystemError",
    "NonLimitedSymbolError",
    "SymbolVersionTooNewError",
    "UnreadableBinaryError",
    "WasmAbiMismatchError",
    "WasmMissingImportError",
    "WasmMissingLibraryError",
    "error_for",
    "first_error",
]


class AuditError(PublishError):
    code = "WT950"
    rule = ""


class LibraryOutsidePolicyError(AuditError):
    code = "WT951"
    rule = "library-outside-policy"


class SymbolVersionTooNewError(AuditError):
    code = "WT952"
    rule = "symbol-version-too-new"


class NonLimitedSymbolError(AuditError):
    code = "WT953"
    rule = "abi3-non-limited-symbol"


class WasmMissingImportError(AuditError):
    code = "WT954"
    rule = "wasm-missing-import"


class WasmMissingLibraryError(AuditError):
    code = "WT955"
    rule = "wasm-missing-library"


class WasmAbiMismatchError(AuditError):
    code = "WT956"
    rule = "wasm-abi-mismatch"


class LibraryOutsideSystemError(AuditError):
    code = "WT957"
    rule = "library-outside-system"


class UnreadableBinaryError(AuditError):
    code = "WT958"
    rule = "unreadable-binary"


class AuditInputError(AuditError):
    code = "WT959"


#: Rule id -> the error ``require`` mode raises for a finding of that rule.
RULE_ERRORS: dict[str, type[AuditError]] = {cls.rule: cls for cls in (
    LibraryOutsidePolicyError, SymbolVersionTooNewError, NonLimitedSymbolError, WasmMissingImportError,
    WasmMissingLibraryError, WasmAbiMismatchError, LibraryOutsideSystemError, UnreadableBinaryError)}


class _Finding(Protocol):
    @property
    def rule(self) -> str: ...
    @property
    def member(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def detail(self) -> str: ...


class _Audit(Protocol):
    @property
    def filename(self) -> str: ...
    @property
    def findings(self) -> Iterable[_Finding]: ...


def error_for(filename: str, finding: _Finding, *, package: str | None = None) -> AuditError:
    """The error of the finding's rule: ``<wheel>: <member>: <subject>: <detail>``."""
    cls = RULE_ERRORS.get(finding.rule, AuditError)
    what = f"{finding.member}: {finding.subject}" if finding.member else finding.subject
    return cls(f"{what}: {finding.detail}" if finding.detail else what, file=filename, package=package,
               hint="docs/audit.md says what each rule checks and how to fix it")


def first_error(audit: _Audit, *, package: str | None = None) -> AuditError | None:
    """The error of the audit's first finding (``require`` mode), or None when it has none."""
    for finding in audit.findings:
        return error_for(audit.filename, finding, package=package)
    return None


# lock-time audit / free-threaded / abi-tag-policy (WT960-969; docs/audit.md)


class FreeThreadDeniedError(AuditError):
    """WT960: a package named by ``freethread-deny-list`` is locked for a free-threaded target
    (the deny list wins, whatever wheels the package has)."""

    code = "WT960"


class FreeThreadIncompatibleError(AuditError):
    """WT961: a wheel built for the GIL ABI (``cp3XY``, ``abi3``) on a free-threaded target,
    without ``allow-untested-freethread``."""

    code = "WT961"
