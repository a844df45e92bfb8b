"""The one exception hierarchy of wasmtool.

Every error carries a stable ``code`` (``WTnnn``) that scripts and tests can rely on, a
human message, and optionally the file / package / field at fault and a hint. Domain
errors also subclass the closest stdlib class so callers may catch either.

This module defines the root, one base per domain, the configuration and usage errors,
the helper-program errors, and the two errors shared by subpackages that may not import
each other. Every other concrete error lives in the ``errors.py`` of the subpackage that
owns its code range, subclassing the domain base below::

    WasmtoolError (WT000)
    ├── ConfigError            WT001   settings, interpreter discovery, CLI usage           (ValueError, exit 2)
    │   ├── UsageError         WT002   the command line asks for something impossible   (exit 2)
    │   ├── InterpreterNotFoundError WT003
    │   └── CommandNotFoundError WT004 ``wasmtool exec``: no such command               (exit 127 / 126)
    ├── ExternalToolError      WT010   a helper program (uv, node, componentize-py, ...) failed or is missing;
    │   │                              the three below are raised by the runner, wasmtool.tools
    │   ├── ToolNotFoundError  WT011   it could not be started (missing, not executable)
    │   ├── ToolFailedError    WT012   it exited non-zero (status, tail of its stderr)
    │   └── ToolTimeoutError   WT013   it outlived its timeout and was killed             (TimeoutError)
    ├── ProjectError           WT050   mochi.toml, .mochi import lines, import specs    (ValueError)
    ├── IndexError_            WT100   simple-API client, HTTP, index documents
    ├── ResolveError           WT200   resolution (uv, resolvelib, target tags)
    ├── CacheError             WT300   artefacts: the cache, hash verification, wheel contents
    │   ├── HashMismatchError  WT301   bytes do not hash to what the index or the lock says
    │   └── WheelMetadataError WT350   a wheel's name / contents are unreadable          (ValueError)
    ├── LockError              WT400   mochi.lock / pylock.toml read, write, check      (ValueError)
    ├── InstallError           WT450   environment creation and wheel installation
    ├── StubError              WT500   stub discovery, .pyi parsing
    ├── SynthError             WT600   typemap, wrapper/shim/WIT generation, binding
    ├── RuntimeBridgeError     WT700   calling into a target (in-process, worker, Pyodide, wasmtime)
    ├── TargetError            WT800   target profiles, installs, bundles, components
    └── PublishError           WT900   build, attest, publish, audit

Code ranges, by the module that defines the concrete errors (``tests/test_errors.py``
checks that every code is unique, inside its module's range, and defined in an
``errors.py``)::

    wasmtool.errors             WT000-WT049   the classes above; plus the domain bases and the
                                              shared HashMismatchError / WheelMetadataError, each
                                              in its base's range
    wasmtool.project.errors     WT050-WT099, WT660-WT669 (cold-start budgets)
    wasmtool.index.errors       WT100-WT199
    wasmtool.resolve.errors     WT200-WT299
    wasmtool.cache.errors       WT300-WT399
    wasmtool.lock.errors        WT400-WT449
    (install)                   WT450-WT499
    wasmtool.stubs.errors       WT500-WT599
    wasmtool.typemap.errors     WT600-WT619
    wasmtool.synth.errors       WT620-WT649, WT670-WT699
    wasmtool.run.errors         WT700-WT719, WT770-WT799
    wasmtool.calls.errors       WT720-WT769   calling into any runtime (shared by run and wit)
    wasmtool.targets.errors     WT800-WT839   profiles, and the backends' installs (WT820-WT839;
                                              importable from wasmtool.ops.errors too)
    wasmtool.bundle.errors      WT840-WT869, WT650-WT659 (memory snapshots)
    wasmtool.wit.errors         WT870-WT899
    (publish)                   WT900-WT999
    wasmtool.audit.errors       WT950-WT969   the wheel audit (``wasmtool audit``, ``[python] audit``)

Each class names its own ``code``; no two classes share one (a second name for a class is
an alias, ``WorkerExited = WorkerExitedError``, not a subclass).

A few exceptions are internal control flow and never leave the module that raises them
(``cache._locks.LockTimeout``, ``typemap.table._Skip``, ``wit.model._Unrepresentable``,
``run.inprocess._Timeout``, ``wit.values.WitValueMismatch``): each is translated into one
of the errors above where it is caught.

Foreign exceptions (httpx, subprocess, tomllib, wasmtime, Node) are translated where they
are raised and chained with ``raise ... from exc``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence


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
        details: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.package = package
        self.field = field
        self.hint = hint
        # the long form (a resolver's whole search, a tool's whole output): shown with -v only
        self.details = details

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
    """The command line asks for something wasmtool cannot do (exit 2).

    ``usage`` is the command's usage banner (``Usage: wasmtool run [OPTIONS] CALLS_FILE`` and
    the ``--help`` line) when the error is about an argument of the command just parsed; the
    CLI prints it before the error, as click does for its own option errors.
    """

    code = "WT002"
    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        package: str | None = None,
        field: str | None = None,
        hint: str | None = None,
        usage: str | None = None,
    ) -> None:
        super().__init__(message, file=file, package=package, field=field, hint=hint)
        self.usage = usage


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
    """A helper program (uv, node, componentize-py, ...) failed or is missing.

    :func:`wasmtool.tools.run_tool` raises the three subclasses below; callers translate
    them into their domain's error where that error says more (``UvFailedError``,
    ``ComponentBuildError``, ...), chained with ``from``.
    """

    code = "WT010"


class ToolNotFoundError(ExternalToolError):
    """``program`` (``argv[0]`` of ``tool``) could not be started: it does not exist, is not
    executable, or the operating system refused to start it; ``reason`` is the OS's message."""

    code = "WT011"

    def __init__(self, message: str, *, tool: str, argv: Sequence[str], reason: str,
                 hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.tool = tool
        self.argv = tuple(argv)
        self.program = self.argv[0] if self.argv else ""
        self.reason = reason


class ToolFailedError(ExternalToolError):
    """``tool`` exited with a non-zero ``returncode`` (negative: killed by signal
    ``-returncode``); ``stderr_tail`` holds the last lines of what it printed on stderr."""

    code = "WT012"

    def __init__(self, message: str, *, tool: str, argv: Sequence[str], returncode: int, stdout: str,
                 stderr: str, stderr_tail: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.tool = tool
        self.argv = tuple(argv)
        self.program = self.argv[0] if self.argv else ""
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.stderr_tail = stderr_tail


class ToolTimeoutError(ExternalToolError, TimeoutError):
    """``tool`` (process ``pid``) did not finish within ``timeout`` seconds and was killed with
    its process group; ``stdout``/``stderr`` hold what it printed until then."""

    code = "WT013"

    def __init__(self, message: str, *, tool: str, argv: Sequence[str], timeout: float, pid: int,
                 stdout: str, stderr: str, stderr_tail: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.tool = tool
        self.argv = tuple(argv)
        self.program = self.argv[0] if self.argv else ""
        self.timeout = timeout
        self.pid = pid
        self.stdout = stdout
        self.stderr = stderr
        self.stderr_tail = stderr_tail


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
        package: str | None,
        filename: str,
        algorithm: str,
        expected: str,
        actual: str,
        file: str | None = None,
        hint: str = "the artefact was changed after it was published or locked; nothing was stored",
    ) -> None:
        super().__init__(
            f"{filename}: {algorithm} mismatch: expected {expected}, got {actual}",
            package=package,
            file=file,
            hint=hint,
        )
        self.filename = filename
        self.algorithm = algorithm
        self.expected = expected
        self.actual = actual


class WheelMetadataError(CacheError, ValueError):
    """A wheel's file name or contents (``.dist-info``, METADATA, RECORD, import names) are
    unreadable or inconsistent.

    Defined here, not in a subpackage, because both :mod:`wasmtool.resolve` (reading a
    locked wheel's summary) and :mod:`wasmtool.bundle` (building a Pyodide bundle) raise
    it and neither may import the other; ``wasmtool.resolve.errors.WheelMetadataError``
    and ``wasmtool.bundle.errors.WheelMetadataError`` are this class.
    """

    code = "WT350"


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


#: How much of a user's input an error message echoes (:func:`clip`).
CLIP_LIMIT = 200


def clip(text: str, limit: int = CLIP_LIMIT) -> str:
    """``text`` cut to at most ``limit`` characters for echoing in an error message: a long
    input keeps its head and tail around ``... (N characters) ...``, so a 100 KB import name
    does not become 200 KB of error text."""
    if len(text) <= limit:
        return text
    keep = max(limit - 30, 2)
    head, tail = text[: keep - keep // 4], text[len(text) - keep // 4:]
    return f"{head}... ({len(text)} characters) ...{tail}"


def iter_error_classes(root: type[WasmtoolError] = WasmtoolError) -> Iterator[type[WasmtoolError]]:
    """Every subclass of ``root`` (root included) that has been imported."""
    yield root
    for sub in root.__subclasses__():
        yield from iter_error_classes(sub)
