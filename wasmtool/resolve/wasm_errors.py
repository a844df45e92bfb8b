"""Errors of the WebAssembly resolver (WT230-WT239; WT200-WT229 are in :mod:`wasmtool.resolve.errors`).

::

    ResolveError (WT200)
    └── WasmResolveError               WT230
        ├── NoTargetWheelError         WT231  a package has no wheel for the target and no distribution entry
        ├── ResolutionConflictError    WT232  the requirements cannot all hold at once (resolvelib's causes, as text)
        ├── DistributionLockMismatchError WT233  the distribution lock is for another ABI / Python than the profile
        ├── BadRequirementError        WT234  a requirement string is not PEP 508
        └── ResolutionTooDeepError     WT235  resolvelib gave up after too many rounds
"""

from __future__ import annotations

from collections.abc import Sequence

from wasmtool.errors import ResolveError


class WasmResolveError(ResolveError):
    code = "WT230"


class NoTargetWheelError(WasmResolveError):
    """No version of ``package`` offers a wheel the target accepts, and no distribution lock lists it."""

    code = "WT231"

    def __init__(self, message: str, *, package: str, target: str, versions_tried: Sequence[str],
                 accepted_tags: Sequence[str], compiled: bool, hint: str | None = None,
                 file: str | None = None) -> None:
        super().__init__(message, package=package, hint=hint, file=file)
        self.target = target
        self.versions_tried = tuple(versions_tried)
        self.accepted_tags = tuple(accepted_tags)
        self.compiled = compiled


class ResolutionConflictError(WasmResolveError):
    """The requirement set is unsatisfiable; ``causes`` holds one line per conflicting requirement."""

    code = "WT232"

    def __init__(self, message: str, *, causes: Sequence[str], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.causes = tuple(causes)


class DistributionLockMismatchError(WasmResolveError):
    code = "WT233"


class BadRequirementError(WasmResolveError, ValueError):
    code = "WT234"


class ResolutionTooDeepError(WasmResolveError):
    code = "WT235"
