"""Resolution errors (WT200-WT299): the uv bridge (WT201-WT229) and the WebAssembly
resolver (WT230-WT239).

::

    ExternalToolError (WT010)
    └── UvNotFoundError                WT201  no uv executable (``uv`` package, ``$UV``, PATH)
    ResolveError (WT200)
    ├── UvFailedError                  WT202  uv exited non-zero (its stderr in the message)
    ├── UvTimeoutError                 WT203  uv did not finish in time
    ├── NoWheelError                   WT204  a resolved package has no wheel the target accepts
    └── WasmResolveError               WT230
        ├── NoTargetWheelError         WT231  a package has no wheel for the target and no distribution entry
        ├── ResolutionConflictError    WT232  the requirements cannot all hold at once (resolvelib's causes, as text)
        ├── DistributionLockMismatchError WT233  the distribution lock is for another ABI / Python than the profile
        ├── BadRequirementError        WT234  a requirement string is not PEP 508
        └── ResolutionTooDeepError     WT235  resolvelib gave up after too many rounds

``WheelMetadataError`` (a wheel's contents are unreadable) is
:class:`wasmtool.errors.WheelMetadataError` (WT350), shared with :mod:`wasmtool.bundle`;
it is importable from here too.
"""

from __future__ import annotations

from collections.abc import Sequence

from wasmtool.errors import ExternalToolError, ResolveError, WheelMetadataError

__all__ = [
    "BadRequirementError",
    "DistributionLockMismatchError",
    "NoTargetWheelError",
    "NoWheelError",
    "ResolutionConflictError",
    "ResolutionTooDeepError",
    "UvFailedError",
    "UvNotFoundError",
    "UvTimeoutError",
    "WasmResolveError",
    "WheelMetadataError",
]


class UvNotFoundError(ExternalToolError):
    code = "WT201"


class UvFailedError(ResolveError):
    """uv exited non-zero; ``stderr`` holds what it printed (shown to the user)."""

    code = "WT202"

    def __init__(self, message: str, *, stderr: str, argv: list[str]) -> None:
        super().__init__(message + (f"\n{stderr.strip()}" if stderr.strip() else ""))
        self.stderr = stderr
        self.argv = argv


class UvTimeoutError(ResolveError):
    code = "WT203"


class NoWheelError(ResolveError):
    """A resolved package has no wheel the target accepts."""

    code = "WT204"


# -- the WebAssembly resolver (resolve/wasm.py) ------------------------------------------------------


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
