"""Calling wrapper functions: in-process, in a worker subprocess, in Pyodide / wasmtime.

Every runtime implements :class:`~wasmtool.run.protocol.Runtime` and raises the errors of
:mod:`wasmtool.run.errors`. The wire format of the subprocess runtime lives in the
stdlib-only package :mod:`wasmtool_runtime.jsonrpc`, shared with the worker.
"""

from . import _bootstrap  # noqa: F401 - makes wasmtool_runtime importable from a checkout
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
