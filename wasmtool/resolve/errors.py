"""Resolution errors (WT200-WT229; WT230+ belong to the wasm resolver)."""

from __future__ import annotations

from wasmtool.errors import ExternalToolError, ResolveError


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


class WheelMetadataError(ResolveError):
    code = "WT205"
