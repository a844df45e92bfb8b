"""Errors of calling into a runtime (WT720-WT769): what every runtime raises for a call,
in-process, in a subprocess worker, in Pyodide or in a WASI component.

They live below both :mod:`wasmtool.run` (the runtimes) and :mod:`wasmtool.wit` (whose
call errors subclass two of them), so neither imports the other for them; both
``wasmtool.run.errors`` and ``wasmtool.run`` re-export every name here.

::

    RuntimeBridgeError               WT700  (wasmtool.errors)
    ├── ProtocolError                WT720  the peer broke formats.md §7 (kind: parse, oversize,
    │                                       truncated, invalid, version)
    ├── WorkerStartError             WT721  the worker could not be started or its module not imported
    ├── WorkerExitedError            WT722  the worker died with calls in flight (status or signal)
    ├── RemoteError                  WT723  the callee answered a JSON-RPC error (code, data)
    │   ├── RemotePythonError        WT724  -32000: the Python function raised (type, message, traceback)
    │   │   └── ReturnTypeMismatchError WT725  -32001: the wrapper's return check failed
    │   ├── MethodNotFoundError      WT726  -32601                                  (also LookupError)
    │   └── InvalidParamsError       WT727  -32602: arguments do not bind / decode   (also TypeError)
    ├── CallTimeoutError             WT728  the call outlived its timeout           (also TimeoutError)
    ├── CallCancelledError           WT729  -32003: the worker cancelled the call (e.g. at shutdown)
    ├── RuntimeClosedError           WT730  call on a closed runtime, or closed during the call
    ├── ValueCodecError              WT731  an argument / result has no wire encoding (also ValueError)
    └── AsyncReentryError            WT732  an async method called while an event loop runs here

``WorkerExited`` and ``CallTimeout`` are aliases of the two ``...Error`` classes.
Every error names the ``method`` it is about when there is one.
"""

from __future__ import annotations

from typing import Any

from wasmtool_runtime.jsonrpc import (
    CALL_CANCELLED,
    CALL_TIMEOUT,
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    PYTHON_EXCEPTION,
    RETURN_TYPE_MISMATCH,
)

from wasmtool.errors import RuntimeBridgeError
from wasmtool.tools import describe_status

__all__ = [
    "AsyncReentryError",
    "CallCancelledError",
    "CallTimeout",
    "CallTimeoutError",
    "InvalidParamsError",
    "MethodNotFoundError",
    "ProtocolError",
    "RemoteError",
    "RemotePythonError",
    "ReturnTypeMismatchError",
    "RuntimeClosedError",
    "ValueCodecError",
    "WorkerExited",
    "WorkerExitedError",
    "WorkerStartError",
    "error_from_response",
]


class ProtocolError(RuntimeBridgeError):
    """The worker's output (or a request we built) breaks the protocol; the worker is dropped."""

    code = "WT720"

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        method: str | None = None,
        pid: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(f"{method}: {message}" if method else message, hint=hint)
        self.kind = kind
        self.method = method
        self.pid = pid


class WorkerStartError(RuntimeBridgeError):
    """The worker process could not be spawned, or exited before serving (import failure)."""

    code = "WT721"

    def __init__(self, message: str, *, stderr_tail: str = "", hint: str | None = None) -> None:
        super().__init__(
            message + (f"\n  worker stderr:\n{_indent(stderr_tail)}" if stderr_tail else ""), hint=hint
        )
        self.stderr_tail = stderr_tail


class WorkerExitedError(RuntimeBridgeError):
    """The worker process ended while ``method`` was in flight.

    ``returncode`` is the process status (negative: killed by signal ``-returncode``),
    ``signal`` the signal number or ``None``.
    """

    code = "WT722"

    def __init__(
        self, *, method: str, returncode: int | None, pid: int | None = None, stderr_tail: str = ""
    ) -> None:
        message = (
            f"worker{f' {pid}' if pid else ''} {describe_status(returncode)} while {method!r} was in flight"
        )
        if stderr_tail:
            message += f"\n  worker stderr:\n{_indent(stderr_tail)}"
        super().__init__(message, hint="the next call starts a new worker")
        self.method = method
        self.returncode = returncode
        self.signal = -returncode if returncode is not None and returncode < 0 else None
        self.pid = pid
        self.stderr_tail = stderr_tail


class RemoteError(RuntimeBridgeError):
    """The callee answered with a JSON-RPC error object (``rpc_code``, ``rpc_message``, ``data``)."""

    code = "WT723"

    def __init__(self, *, method: str, rpc_code: int, rpc_message: str, data: Any = None) -> None:
        super().__init__(f"{method}: {rpc_message} (JSON-RPC {rpc_code})")
        self.method = method
        self.rpc_code = rpc_code
        self.rpc_message = rpc_message
        self.data = data


class RemotePythonError(RemoteError):
    """The Python function raised: ``python_type`` (``ValueError``, ``pkg.mod.Error``),
    ``python_message`` (``str(exc)``) and ``traceback`` (formatted, may be empty)."""

    code = "WT724"

    def __init__(
        self,
        python_type: str,
        python_message: str,
        traceback: str = "",
        *,
        method: str,
        rpc_code: int = PYTHON_EXCEPTION,
    ) -> None:
        data = {"type": python_type, "message": python_message, "traceback": traceback}
        RuntimeBridgeError.__init__(self, f"{method}: {python_type}: {python_message}")
        self.method = method
        self.rpc_code = rpc_code
        self.rpc_message = f"{python_type}: {python_message}"
        self.data = data
        self.python_type = python_type
        self.python_message = python_message
        self.traceback = traceback


class ReturnTypeMismatchError(RemotePythonError):
    code = "WT725"


class MethodNotFoundError(RemoteError, LookupError):
    code = "WT726"


class InvalidParamsError(RemoteError, TypeError):
    code = "WT727"


class CallTimeoutError(RuntimeBridgeError, TimeoutError):
    """``method`` did not answer within ``timeout`` seconds.

    ``side`` says who noticed: ``"worker"`` (the coroutine was cancelled there),
    ``"client"`` (the client's deadline passed; the worker was asked to cancel) or
    ``"in-process"``.
    """

    code = "WT728"

    def __init__(self, *, method: str, timeout: float, side: str) -> None:
        super().__init__(f"{method}: no answer within {timeout:g} s ({side} deadline)")
        self.method = method
        self.timeout = timeout
        self.side = side


class CallCancelledError(RuntimeBridgeError):
    code = "WT729"

    def __init__(self, *, method: str, reason: str = "cancelled by the worker") -> None:
        super().__init__(f"{method}: {reason}")
        self.method = method


class RuntimeClosedError(RuntimeBridgeError):
    code = "WT730"


class ValueCodecError(RuntimeBridgeError, ValueError):
    code = "WT731"


class AsyncReentryError(RuntimeBridgeError):
    """An async method was called synchronously from code already running an event loop."""

    code = "WT732"

    def __init__(self, method: str) -> None:
        super().__init__(
            f"{method}: called while an asyncio event loop is running in this thread",
            hint="await the coroutine function directly, or call from a thread without a running loop",
        )
        self.method = method


WorkerExited = WorkerExitedError
CallTimeout = CallTimeoutError


def error_from_response(
    method: str, rpc_code: int, rpc_message: str, data: Any, *, timeout: float | None = None
) -> RuntimeBridgeError:
    """The typed error for a JSON-RPC error answer to a call of ``method``."""
    details = data if isinstance(data, dict) else {}
    if rpc_code in (PYTHON_EXCEPTION, RETURN_TYPE_MISMATCH):
        cls = ReturnTypeMismatchError if rpc_code == RETURN_TYPE_MISMATCH else RemotePythonError
        return cls(
            str(details.get("type", "Exception")),
            str(details.get("message", rpc_message)),
            str(details.get("traceback", "")),
            method=method,
            rpc_code=rpc_code,
        )
    if rpc_code == CALL_TIMEOUT:
        return CallTimeoutError(method=method, timeout=timeout if timeout is not None else 0.0, side="worker")
    if rpc_code == CALL_CANCELLED:
        return CallCancelledError(method=method)
    if rpc_code == METHOD_NOT_FOUND:
        return MethodNotFoundError(method=method, rpc_code=rpc_code, rpc_message=rpc_message, data=data)
    if rpc_code == INVALID_PARAMS:
        return InvalidParamsError(method=method, rpc_code=rpc_code, rpc_message=rpc_message, data=data)
    return RemoteError(method=method, rpc_code=rpc_code, rpc_message=rpc_message, data=data)


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())
