"""The ``Runtime`` protocol every way of calling wrapper functions implements.

A runtime calls the flat functions of one wrapper module by name: in this process
(:class:`~wasmtool.run.inprocess.InProcessRuntime`), in a worker subprocess over JSON-RPC
(:class:`~wasmtool.run.subprocess_runtime.SubprocessRuntime`), or in Pyodide / wasmtime.
Every implementation raises the errors of :mod:`wasmtool.run.errors`: a Python exception
in the callee is a :class:`~wasmtool.run.errors.RemotePythonError` whatever the runtime.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

__all__ = ["PipelinedRuntime", "Runtime"]


@runtime_checkable
class Runtime(Protocol):
    """Calls functions of one wrapper module by name."""

    def call(
        self,
        method: str,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> Any:
        """``method(*args, **kwargs)``; ``timeout`` in seconds (None: wait forever)."""
        ...

    def close(self) -> None:
        """Release the runtime (stop workers, loops); idempotent."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


@runtime_checkable
class PipelinedRuntime(Runtime, Protocol):
    """A runtime that can have many calls in flight."""

    def submit(
        self,
        method: str,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> Future[Any]:
        """Start ``method(*args, **kwargs)``; the future holds its result or typed error."""
        ...
