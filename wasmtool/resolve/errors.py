"""Resolution errors (WT200-WT299): the uv bridge (WT201-WT229) and the WebAssembly
resolver (WT230-WT239).

::

    ExternalToolError (WT010)
    └── UvNotFoundError                WT201  no uv executable (``uv`` package, ``$UV``, PATH)
    ResolveError (WT200)
    ├── UvFailedError                  WT202  uv exited non-zero (its stderr in the message; when long, cut)
    ├── UvTimeoutError                 WT203  uv did not finish in time
    ├── NoWheelError                   WT204  a resolved package has no wheel the target accepts
    ├── UnsafeRequirementError         WT205  a requirement line would carry a uv option (line break, leading ``-``)
    └── WasmResolveError               WT230
        ├── NoTargetWheelError         WT231  a package has no wheel for the target and no distribution entry
        ├── ResolutionConflictError    WT232  the requirements cannot all hold at once (resolvelib's causes, condensed)
        ├── DistributionLockMismatchError WT233  the distribution lock is for another ABI / Python than the profile
        ├── BadRequirementError        WT234  a requirement string is not PEP 508
        └── ResolutionTooDeepError     WT235  resolvelib gave up after too many rounds
    └── SdistBuildError                WT240  building a source distribution into a wheel failed (docs/builds.md)
        ├── BuildTimeoutError          WT241  the build did not finish in time (it was killed)
        ├── BuildDisabledError         WT242  a package has only an sdist and building is off (``--no-build``)
        ├── CompiledBuildRefusedError  WT243  the sdist is (or builds as) a compiled extension; ``build = "pure"``
        ├── CompiledForTargetError     WT244  the built wheel is compiled for the host; a wasm target cannot use it
        ├── BuildMismatchError         WT245  a rebuild from the locked sdist differs from the locked wheel
        └── SdistUnreadableError       WT246  the sdist is not a readable source archive

The WebAssembly resolver's errors are short (a few lines, under 2 KB with the hint); the
whole search -- every cause, version, file and tag -- is in ``details`` (the CLI prints it
with ``-v``). uv's stderr is kept whole in ``stderr`` and ``details`` and shortened in the
message when it is long (:func:`shorten_output`).

``WheelMetadataError`` (a wheel's contents are unreadable) is
:class:`wasmtool.errors.WheelMetadataError` (WT350), shared with :mod:`wasmtool.bundle`;
it is importable from here too.
"""

from __future__ import annotations

from collections.abc import Sequence

from wasmtool.errors import ExternalToolError, ResolveError, WheelMetadataError

__all__ = [
    "BadRequirementError",
    "BuildDisabledError",
    "BuildMismatchError",
    "BuildTimeoutError",
    "CompiledBuildRefusedError",
    "CompiledForTargetError",
    "DistributionLockMismatchError",
    "NoTargetWheelError",
    "NoWheelError",
    "ResolutionConflictError",
    "ResolutionTooDeepError",
    "SdistBuildError",
    "SdistUnreadableError",
    "UnsafeRequirementError",
    "UvFailedError",
    "UvNotFoundError",
    "UvTimeoutError",
    "WasmResolveError",
    "WheelMetadataError",
    "shorten_output",
]


class UvNotFoundError(ExternalToolError):
    code = "WT201"


def shorten_output(text: str, *, head: int = 900, tail: int = 700) -> tuple[str, bool]:
    """``(text, False)``, stripped, when it fits in ``head + tail`` UTF-8 bytes. Else ``True`` and
    its first lines (up to ``head`` bytes), a line saying how many lines were left out, and its
    last lines (up to ``tail`` bytes: uv's conclusion and hints come last). A single line longer
    than its budget is cut, ending in ``...``."""
    text = text.strip()
    if len(text.encode()) <= head + tail:
        return text, False
    lines = text.splitlines()

    def take(candidates: list[str], budget: int) -> list[str]:
        kept: list[str] = []
        used = 0
        for line in candidates:
            size = len(line.encode()) + 1
            if used + size > budget:
                if not kept:
                    kept.append(line.encode()[:max(budget - 4, 0)].decode(errors="ignore") + "...")
                break
            kept.append(line)
            used += size
        return kept

    first = take(lines, head)
    last = take(lines[len(first):][::-1], tail)[::-1]
    left_out = len(lines) - len(first) - len(last)
    what = f"{left_out} more line{'s' if left_out != 1 else ''}" if left_out else "cut"
    return "\n".join([*first, f"[... {what} ...]", *last]), True


class UvFailedError(ResolveError):
    """uv exited non-zero; ``stderr`` holds what it printed. The message shows it, its middle
    left out when long (:func:`shorten_output`); ``details`` then holds all of it."""

    code = "WT202"

    def __init__(self, message: str, *, stderr: str, argv: list[str]) -> None:
        shown, cut = shorten_output(stderr)
        super().__init__(message + (f"\n{shown}" if shown else ""), details=stderr.strip() if cut else None)
        self.stderr = stderr
        self.argv = argv


class UvTimeoutError(ResolveError):
    code = "WT203"


class NoWheelError(ResolveError):
    """A resolved package has no wheel the target accepts."""

    code = "WT204"


class UnsafeRequirementError(ResolveError, ValueError):
    """A line for a uv requirements, constraints or sync file holds a line break or starts
    with ``-`` (it would be read as a uv option such as ``-r``/``-e``); uv is not started.
    The manifest and spec parsers refuse such input first: this is the second guard."""

    code = "WT205"


# -- the WebAssembly resolver (resolve/wasm.py) ------------------------------------------------------


class WasmResolveError(ResolveError):
    code = "WT230"


class NoTargetWheelError(WasmResolveError):
    """No version of ``package`` offers a wheel the target accepts, and no distribution lock lists it.

    ``required_by`` names the candidates that required it (``pydantic 2.14.4``), ``chain`` the
    path from a direct requirement (``("pydantic", "pydantic-core")``); the message condenses
    both, ``details`` lists every version, file and cause.
    """

    code = "WT231"

    def __init__(self, message: str, *, package: str, target: str, versions_tried: Sequence[str],
                 accepted_tags: Sequence[str], compiled: bool, hint: str | None = None,
                 file: str | None = None, details: str | None = None, required_by: Sequence[str] = (),
                 chain: Sequence[str] = ()) -> None:
        super().__init__(message, package=package, hint=hint, file=file, details=details)
        self.target = target
        self.versions_tried = tuple(versions_tried)
        self.accepted_tags = tuple(accepted_tags)
        self.compiled = compiled
        self.required_by = tuple(required_by)
        self.chain = tuple(chain)


class ResolutionConflictError(WasmResolveError):
    """The requirement set is unsatisfiable; ``causes`` holds one line per conflicting requirement
    (the message groups them by package)."""

    code = "WT232"

    def __init__(self, message: str, *, causes: Sequence[str], hint: str | None = None,
                 details: str | None = None) -> None:
        super().__init__(message, hint=hint, details=details)
        self.causes = tuple(causes)


class DistributionLockMismatchError(WasmResolveError):
    code = "WT233"


class BadRequirementError(WasmResolveError, ValueError):
    code = "WT234"


class ResolutionTooDeepError(WasmResolveError):
    code = "WT235"


# -- building sdists into wheels (wasmtool/build/) ----------------------------------------------------


class SdistBuildError(ResolveError):
    """Building ``package``'s sdist failed: the message names the backend and shows the tail of
    the build's log (``details`` holds all of it)."""

    code = "WT240"


class BuildTimeoutError(SdistBuildError):
    code = "WT241"


class BuildDisabledError(SdistBuildError):
    code = "WT242"


class CompiledBuildRefusedError(SdistBuildError):
    code = "WT243"


class CompiledForTargetError(SdistBuildError):
    code = "WT244"


class BuildMismatchError(SdistBuildError):
    code = "WT245"


class SdistUnreadableError(SdistBuildError):
    code = "WT246"
