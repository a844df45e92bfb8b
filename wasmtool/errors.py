"""The one exception hierarchy of wasmtool.

Every error carries a stable ``code`` (``WTnnn``) that scripts and tests can rely on, a
human message, and optionally the file / package / field at fault and a hint. Domain
errors also subclass the closest stdlib class so callers may catch either.

Code ranges (each subpackage defines its concrete errors in its own ``errors.py``
module, subclassing the domain base below and using a code from its range)::

    WasmtoolError (WT000)
    ├── ConfigError            WT0xx   settings, interpreter discovery, CLI usage
    ├── ProjectError           WT05x   mochi.toml, .mochi import lines, import specs   (ValueError)
    ├── IndexError_            WT1xx   simple-API client, HTTP, index documents
    ├── ResolveError           WT2xx   resolution (uv, resolvelib, target tags)
    ├── CacheError             WT3xx   artefact cache, hash verification
    ├── LockError              WT4xx   mochi.lock / pylock.toml read, write, check     (ValueError)
    ├── InstallError           WT45x   environment creation and wheel installation
    ├── StubError              WT5xx   stub discovery, .pyi parsing
    ├── SynthError             WT6xx   typemap, wrapper/shim/WIT generation
    ├── RuntimeBridgeError     WT7xx   calling into a target (in-process, worker, Pyodide, wasmtime)
    ├── TargetError            WT8xx   target profiles, bundles, components
    └── PublishError           WT9xx   build, attest, publish, audit

Foreign exceptions (httpx, subprocess, tomllib, wasmtime, Node) are translated where they
are raised and chained with ``raise ... from exc``.
"""

from __future__ import annotations

from collections.abc import Iterator


class WasmtoolError(Exception):
    """Root of every error wasmtool raises on purpose."""

    code: str = "WT000"
    exit_code: int = 1

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        package: str | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.package = package
        self.field = field
        self.hint = hint

    def where(self) -> str:
        """``file: package: field`` prefix naming what is at fault (may be empty)."""
        parts = [p for p in (self.file, self.package, self.field) if p]
        return ": ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        text = f"{self.code} {where}: {self.message}" if where else f"{self.code} {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class ConfigError(WasmtoolError, ValueError):
    code = "WT001"
    exit_code = 2


class UsageError(ConfigError):
    code = "WT002"
    exit_code = 2


class InterpreterNotFoundError(ConfigError):
    code = "WT003"


class CommandNotFoundError(ConfigError):
    """``wasmtool exec``: the command is not on the project environment's ``PATH``
    (exit 127), or it is there but cannot be executed (exit 126)."""

    code = "WT004"
    exit_code = 127

    def __init__(self, message: str, *, command: str, exit_code: int = 127, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.command = command
        self.exit_code = exit_code


class ExternalToolError(WasmtoolError):
    """A helper program (uv, node, componentize-py, ...) failed or is missing."""

    code = "WT010"


class ProjectError(WasmtoolError, ValueError):
    code = "WT050"


class IndexError_(WasmtoolError):  # trailing _ avoids shadowing builtins.IndexError
    code = "WT100"


class ResolveError(WasmtoolError):
    code = "WT200"


class CacheError(WasmtoolError):
    code = "WT300"


class HashMismatchError(CacheError):
    """Downloaded or cached bytes do not hash to what the index or the lock says."""

    code = "WT301"

    def __init__(
        self,
        *,
        package: str,
        filename: str,
        algorithm: str,
        expected: str,
        actual: str,
        file: str | None = None,
    ) -> None:
        super().__init__(
            f"{filename}: {algorithm} mismatch: expected {expected}, got {actual}",
            package=package,
            file=file,
            hint="the artefact was changed after it was published or locked; nothing was stored",
        )
        self.filename = filename
        self.algorithm = algorithm
        self.expected = expected
        self.actual = actual


class LockError(WasmtoolError, ValueError):
    code = "WT400"


class InstallError(WasmtoolError):
    code = "WT450"


class StubError(WasmtoolError):
    code = "WT500"


class SynthError(WasmtoolError):
    code = "WT600"


class RuntimeBridgeError(WasmtoolError, RuntimeError):
    code = "WT700"


class TargetError(WasmtoolError):
    code = "WT800"


class PublishError(WasmtoolError):
    code = "WT900"


def iter_error_classes(root: type[WasmtoolError] = WasmtoolError) -> Iterator[type[WasmtoolError]]:
    """Every subclass of ``root`` (root included) that has been imported."""
    yield root
    for sub in root.__subclasses__():
        yield from iter_error_classes(sub)
