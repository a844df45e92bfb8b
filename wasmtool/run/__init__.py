"""Calling wrapper functions: in-process, in a worker subprocess, in Pyodide / wasmtime.

Every runtime implements :class:`~wasmtool.run.protocol.Runtime` and raises the errors of
:mod:`wasmtool.run.errors`. The wire format of the subprocess runtime lives in the
stdlib-only package :mod:`wasmtool_runtime.jsonrpc`, shared with the worker.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from . import _bootstrap  # noqa: F401 - makes wasmtool_runtime importable from a checkout

if TYPE_CHECKING:
    from .codec import Handle
    from .errors import (
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
    )
    from .inprocess import InProcessRuntime
    from .protocol import PipelinedRuntime, Runtime
    from .subprocess_runtime import SubprocessRuntime

#: Where each name lives: the package imports a submodule only when one of its names is
#: first used (PEP 562), so importing one submodule does not import them all (a fresh
#: process that only runs a component stays quick to start).
_WHERE = {
    "Handle": "codec",
    "AsyncReentryError": "errors",
    "CallCancelledError": "errors",
    "CallTimeout": "errors",
    "CallTimeoutError": "errors",
    "InvalidParamsError": "errors",
    "MethodNotFoundError": "errors",
    "ProtocolError": "errors",
    "RemoteError": "errors",
    "RemotePythonError": "errors",
    "ReturnTypeMismatchError": "errors",
    "RuntimeClosedError": "errors",
    "ValueCodecError": "errors",
    "WorkerExited": "errors",
    "WorkerExitedError": "errors",
    "WorkerStartError": "errors",
    "InProcessRuntime": "inprocess",
    "PipelinedRuntime": "protocol",
    "Runtime": "protocol",
    "SubprocessRuntime": "subprocess_runtime",
}

__all__ = [
    "AsyncReentryError",
    "CallCancelledError",
    "CallTimeout",
    "CallTimeoutError",
    "Handle",
    "InProcessRuntime",
    "InvalidParamsError",
    "MethodNotFoundError",
    "PipelinedRuntime",
    "ProtocolError",
    "RemoteError",
    "RemotePythonError",
    "ReturnTypeMismatchError",
    "Runtime",
    "RuntimeClosedError",
    "SubprocessRuntime",
    "ValueCodecError",
    "WorkerExited",
    "WorkerExitedError",
    "WorkerStartError",
]


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{where}", __name__), name)
    globals()[name] = value
    return value
