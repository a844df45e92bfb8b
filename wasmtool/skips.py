"""SkipReason / SkipReport: what falls outside the closed type table, with a reason.

Tokens and their order are fixed by the design (typemap.md §5); never renumber.
A ``SkipReport`` is a value, produced by pure code (typemap, stubs, targets) and rendered
into ``SKIPPED.txt`` and ``wasmtool surface`` output.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class SkipReason(enum.IntEnum):
    SkipUnknown = 0
    SkipNoComplexType = 1
    SkipOpenUnion = 2
    SkipParamSpec = 3
    SkipTypeVarTuple = 4
    SkipForwardRef = 5
    SkipUnsupportedTypingConstruct = 6
    SkipCFunctionWithoutStubs = 7
    SkipOverloadAmbiguity = 8
    SkipUntypedPackage = 9
    SkipImportTimeNetwork = 10
    SkipImportTimeError = 11
    SkipPrivateName = 12
    SkipDunder = 13
    SkipDescriptor = 14
    SkipMetaclass = 15
    SkipDynamicAttribute = 16
    SkipIncompatibleAsyncRuntime = 17
    SkipBytearrayMutable = 18
    SkipPyodideUnavailable = 19
    SkipWasiUnavailable = 20
    SkipTargetUnrepresentable = 21
    SkipStatelessFfi = 22        # cannot cross the released Mochi's stateless, JSON-only Python FFI

    @property
    def token(self) -> str:
        return self.name

    @classmethod
    def from_token(cls, token: str) -> SkipReason:
        try:
            return cls[token]
        except KeyError:
            return cls.SkipUnknown

    @classmethod
    def from_value(cls, value: int) -> SkipReason:
        try:
            return cls(value)
        except ValueError:
            return cls.SkipUnknown


@dataclass(frozen=True, order=True)
class SkipReport:
    """One skipped item: dotted path, reason, the annotation/detail text, optional hint."""

    path: str
    reason: SkipReason
    detail: str = ""
    hint: str = ""

    def tsv_line(self) -> str:
        cells = [self.path, self.reason.token, _clean(self.detail)]
        if self.hint:
            cells.append(_clean(self.hint))
        return "\t".join(cells)


def _clean(text: str) -> str:
    return " ".join(text.replace("\t", " ").split())


def render_skipped_txt(dist: str, version: str, tier: str, reports: Iterable[SkipReport]) -> str:
    """SKIPPED.txt (formats.md §6): header line, then one TSV line per skip sorted by path."""
    lines = [f"# wasmtool SKIPPED {dist} {version} tier={tier}"]
    lines.extend(r.tsv_line() for r in sorted(reports, key=lambda r: (r.path, r.reason, r.detail)))
    return "\n".join(lines) + "\n"


def count_by_reason(reports: Iterable[SkipReport]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in reports:
        counts[r.reason.token] = counts.get(r.reason.token, 0) + 1
    return dict(sorted(counts.items()))
