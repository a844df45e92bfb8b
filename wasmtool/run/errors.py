"""Errors of sessions (WT701-WT719); the errors of calling into a runtime (WT720-WT769) are
defined in :mod:`wasmtool.calls.errors` and importable from here.

::

    RuntimeBridgeError               WT700  (wasmtool.errors)
    ├── UnsupportedTargetError       WT701  no session runtime for the target's kind (names target and kind)
    ├── SessionConfigError           WT702  bad runtime mode / async mode / timeout / python option
    │                                       (also ValueError, exit 2)
    ├── WorkspaceMissingError        WT703  no generated workspace, or no bound alias in it
    ├── ProjectVenvError             WT704  the project venv (interpreter, site-packages) is missing
    ├── InterpreterMismatchError     WT705  embedded mode with a venv of another Python version / ABI
    ├── UnknownFunctionError         WT706  a name resolves to no bound function, or to several (also
    │                                       LookupError, exit 2); for an item that was skipped, says
    │                                       why (SKIPPED.txt) and which setting would bind it
    ├── CallsFailedError             WT707  ``wasmtool run``: some lines failed
    ├── EmbeddedWorkspaceConflictError WT708  another workspace is already embedded in this process
    ├── ComponentMissingError        WT709  a WebAssembly target's component / bundle is not installed
    ├── CallLineError                WT710  a line of a ``wasmtool run`` calls file is not a call
    │                                       (also ValueError)
    └── CallTimeoutError             WT728  (wasmtool.calls.errors)
        └── CallDeadlineError        WT711  a worker's call outlived its deadline; the worker was killed
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wasmtool.calls.errors import (
    AsyncReentryError,
    CallCancelledError,
    CallTimeout,
    CallTimeoutError,
    InvalidParamsError,
    MethodNotFoundError,
    ProtocolError,
    RemoteError,
    RemotePythonError,
    ReturnTypeMismatchError,
    RuntimeClosedError,
    ValueCodecError,
    WorkerExited,
    WorkerExitedError,
    WorkerStartError,
    error_from_response,
)
from wasmtool.errors import RuntimeBridgeError
from wasmtool.tools import describe_status

if TYPE_CHECKING:
    from wasmtool.run.skipped import Remedy, SkippedItem

__all__ = [
    "AsyncReentryError",
    "CallCancelledError",
    "CallDeadlineError",
    "CallLineError",
    "CallTimeout",
    "CallTimeoutError",
    "CallsFailedError",
    "ComponentMissingError",
    "EmbeddedWorkspaceConflictError",
    "InterpreterMismatchError",
    "InvalidParamsError",
    "MethodNotFoundError",
    "ProjectVenvError",
    "ProtocolError",
    "RemoteError",
    "RemotePythonError",
    "ReturnTypeMismatchError",
    "RuntimeClosedError",
    "SessionConfigError",
    "UnknownFunctionError",
    "UnsupportedTargetError",
    "ValueCodecError",
    "WorkerExited",
    "WorkerExitedError",
    "WorkerStartError",
    "WorkspaceMissingError",
    "describe_status",
    "error_from_response",
]


# -- sessions (wasmtool.run.session, wasmtool.run.wasm_session) -----------------------------------


class UnsupportedTargetError(RuntimeBridgeError):
    """The target's kind has no session runtime in this wasmtool."""

    code = "WT701"

    def __init__(self, target: str, kind: str) -> None:
        super().__init__(
            f"target {target!r} ({kind}) cannot be called through a session",
            field="target",
            hint="sessions run native, wasi and pyodide profiles",
        )
        self.target = target
        self.kind = kind


class SessionConfigError(RuntimeBridgeError, ValueError):
    """An option of the session is invalid (runtime mode, async mode, timeout, python)."""

    code = "WT702"
    exit_code = 2


class WorkspaceMissingError(RuntimeBridgeError):
    """The project has no generated workspace, or nothing is bound in it."""

    code = "WT703"


class ProjectVenvError(RuntimeBridgeError):
    """The project's environment (``[python].venv``) is missing or unusable."""

    code = "WT704"


class InterpreterMismatchError(RuntimeBridgeError):
    """Embedded mode needs this interpreter's ``major.minor`` and ABI in the project venv."""

    code = "WT705"

    def __init__(self, message: str, *, venv: Path) -> None:
        super().__init__(
            message,
            file=str(venv),
            hint='use `--runtime auto` / `--runtime subprocess`, or runtime-mode = "auto" in [python]',
        )
        self.venv = venv


class UnknownFunctionError(RuntimeBridgeError, LookupError):
    """A name resolves to no bound wrapper function, or to several.

    ``candidates``: the names of each of several (e.g. the split ``@overload`` arms of one
    item). For an item ``wasmtool bind`` skipped, ``skipped`` is its ``SKIPPED.txt`` line and
    ``remedy`` the setting that would bind it (or why none does); ``remedy`` also names the
    setting that binds a submodule that is not bound."""

    code = "WT706"
    exit_code = 2

    def __init__(self, name: str, message: str, *, suggestions: Sequence[str] = (),
                 skipped: SkippedItem | None = None, remedy: Remedy | None = None,
                 candidates: Sequence[str] = (), matches: Sequence[Any] = ()) -> None:
        hints = [f"{skipped.path}: {skipped.hint}"] if skipped is not None and skipped.hint else []
        if candidates:
            hints.append(f"call one of {', '.join(candidates)}")
        elif suggestions:
            hints.append(f"did you mean {', '.join(suggestions)}?")
        super().__init__(message, hint="; ".join(hints) or None)
        self.name = name
        self.candidates = tuple(candidates)
        self.matches = tuple(matches)       # the BoundFunctions of ``candidates`` (run.workspace)
        self.suggestions = tuple(suggestions) or self.candidates
        self.skipped = skipped
        self.remedy = remedy


class CallsFailedError(RuntimeBridgeError):
    """Some lines of a batch (``wasmtool run``) failed."""

    code = "WT707"


class CallLineError(RuntimeBridgeError, ValueError):
    """A line of a ``wasmtool run`` calls file is not a call (bad JSON, shape, keys, values)."""

    code = "WT710"


class CallDeadlineError(CallTimeoutError):
    """A call in a worker process was still running at its deadline (``--timeout`` plus a
    grace second, else 600 s): a synchronous function cannot be interrupted, so the worker
    (``pid``) was killed; the next call starts a new one."""

    code = "WT711"

    def __init__(self, *, method: str, deadline: float, pid: int | None = None) -> None:
        super().__init__(method=method, timeout=deadline, side="deadline")
        self.message = (f"{method}: no answer within {deadline:g} s; the worker{f' {pid}' if pid else ''} "
                        "was killed (a synchronous function cannot be interrupted otherwise)")
        self.args = (self.message,)
        self.hint = "the next call starts a new worker; pass a longer --timeout if the call needs more time"
        self.pid = pid


class EmbeddedWorkspaceConflictError(RuntimeBridgeError):
    """Another workspace is embedded in this process (``python_wrap`` can be imported once)."""

    code = "WT708"


class ComponentMissingError(RuntimeBridgeError):
    """The component or bundle of a WebAssembly target has not been installed."""

    code = "WT709"
