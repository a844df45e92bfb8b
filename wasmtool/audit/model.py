"""What a wheel audit finds, as plain values (no IO).

A :class:`WheelAudit` is the verdict on one wheel for one target: one :class:`ModuleAudit` per
compiled member (an extension module or a bundled shared library), each with its
:class:`Finding`\\ s. A finding names the member, the library or symbol (``subject``) and the
rule it breaks (``rule``, one of :data:`RULES`); ``code`` is the ``WTnnn`` of the error that
``require`` mode raises for it (:mod:`wasmtool.audit.errors`).

The JSON form (:meth:`WheelAudit.to_dict`) is stable: keys sorted by the caller's dump,
modules sorted by member, findings sorted by (member, rule, subject).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wasmtool.audit import errors as _errors

__all__ = [
    "ABI3_NON_LIMITED_SYMBOL",
    "AUDIT_VERSION",
    "LIBRARY_OUTSIDE_POLICY",
    "LIBRARY_OUTSIDE_SYSTEM",
    "RULES",
    "RULE_CODES",
    "SYMBOL_VERSION_TOO_NEW",
    "UNREADABLE_BINARY",
    "VERDICTS",
    "WASM_ABI_MISMATCH",
    "WASM_MISSING_IMPORT",
    "WASM_MISSING_LIBRARY",
    "Finding",
    "ModuleAudit",
    "WheelAudit",
]

#: Bumped whenever a check changes what it finds: a lock's recorded verdicts are then redone.
AUDIT_VERSION = 1

LIBRARY_OUTSIDE_POLICY = _errors.LibraryOutsidePolicyError.rule
SYMBOL_VERSION_TOO_NEW = _errors.SymbolVersionTooNewError.rule
ABI3_NON_LIMITED_SYMBOL = _errors.NonLimitedSymbolError.rule
WASM_MISSING_IMPORT = _errors.WasmMissingImportError.rule
WASM_MISSING_LIBRARY = _errors.WasmMissingLibraryError.rule
WASM_ABI_MISMATCH = _errors.WasmAbiMismatchError.rule
LIBRARY_OUTSIDE_SYSTEM = _errors.LibraryOutsideSystemError.rule
UNREADABLE_BINARY = _errors.UnreadableBinaryError.rule

#: Each rule and the code of the error ``require`` mode raises for it (wasmtool.audit.errors).
RULE_CODES: Mapping[str, str] = {rule: cls.code for rule, cls in _errors.RULE_ERRORS.items()}
RULES: tuple[str, ...] = tuple(RULE_CODES)
VERDICTS: tuple[str, ...] = ("ok", "findings", "skipped")


@dataclass(frozen=True, order=True)
class Finding:
    """One broken rule: ``member`` (path inside the wheel) needs ``subject`` (a library or a
    symbol) which ``rule`` forbids; ``detail`` says why in words."""

    member: str
    rule: str
    subject: str
    detail: str = ""
    code: str = ""

    def __post_init__(self) -> None:
        if self.rule not in RULE_CODES:
            raise ValueError(f"unknown audit rule {self.rule!r}")
        if not self.code:
            object.__setattr__(self, "code", RULE_CODES[self.rule])

    def summary(self) -> str:
        """One line, ``rule member subject`` (the form a lock records)."""
        return f"{self.rule} {self.member} {self.subject}"

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "member": self.member, "subject": self.subject, "detail": self.detail,
                "code": self.code}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        return cls(member=str(data["member"]), rule=str(data["rule"]), subject=str(data["subject"]),
                   detail=str(data.get("detail", "")), code=str(data.get("code", "")))


@dataclass(frozen=True)
class ModuleAudit:
    """One compiled member: its binary format (``elf``, ``macho``, ``pe``, ``wasm``), the
    libraries it needs, and what broke."""

    member: str
    format: str
    libraries: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()

    @property
    def verdict(self) -> str:
        return "findings" if self.findings else "ok"

    def to_dict(self) -> dict[str, Any]:
        return {"member": self.member, "format": self.format, "libraries": list(self.libraries),
                "verdict": self.verdict, "findings": [f.to_dict() for f in sorted(self.findings)]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModuleAudit:
        return cls(member=str(data["member"]), format=str(data["format"]),
                   libraries=tuple(str(x) for x in data.get("libraries", ())),
                   findings=tuple(sorted(Finding.from_dict(f) for f in data.get("findings", ()))))


@dataclass(frozen=True)
class WheelAudit:
    """The verdict on one wheel for one target: ``ok``, ``findings``, or ``skipped`` (nothing
    compiled, or nothing this target can check; ``reason`` says which)."""

    filename: str
    target: str
    modules: tuple[ModuleAudit, ...] = ()
    reason: str = ""
    skipped: bool = False
    checks: tuple[str, ...] = field(default=())   # which checks ran (linux, abi3, pyodide, ...)

    @classmethod
    def build(cls, filename: str, target: str, modules: Iterable[ModuleAudit], *, checks: Iterable[str] = (),
              reason: str = "", skipped: bool = False) -> WheelAudit:
        return cls(filename=filename, target=target, modules=tuple(sorted(modules, key=lambda m: m.member)),
                   reason=reason, skipped=skipped, checks=tuple(sorted(set(checks))))

    @property
    def verdict(self) -> str:
        if self.skipped:
            return "skipped"
        return "findings" if self.findings else "ok"

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(sorted(f for m in self.modules for f in m.findings))

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.filename, "target": self.target, "verdict": self.verdict, "reason": self.reason,
                "checks": list(self.checks), "modules": [m.to_dict() for m in self.modules]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WheelAudit:
        return cls.build(str(data["file"]), str(data["target"]),
                         (ModuleAudit.from_dict(m) for m in data.get("modules", ())),
                         checks=(str(c) for c in data.get("checks", ())), reason=str(data.get("reason", "")),
                         skipped=data.get("verdict") == "skipped")
