"""Call a wrapper module's functions directly, in this process.

The same contract as the subprocess runtime: the same methods
(:func:`wasmtool_runtime.dispatch.discover_methods`), the same typed errors (a Python
exception in the callee is a :class:`~wasmtool.run.errors.RemotePythonError` chained to
the original), and with ``roundtrip=True`` the same values (arguments and results pass
through the wire encoding, so tuples come back as lists and opaque objects as
:class:`~wasmtool_runtime.jsonrpc.Handle`).

Coroutine functions run either on a fresh loop per call (``async_mode="per-call"``,
``asyncio.run``) or on one persistent loop in a background thread
(``async_mode="persistent"``, created once under a ``threading.Lock``). ``timeout``
applies to coroutine functions (``asyncio.wait_for``: the task is cancelled);
synchronous functions cannot be interrupted in-process and run to completion (the first
one called with a ``timeout`` emits a ``RuntimeWarning`` saying so; the subprocess runtime
kills its worker at a call's deadline instead).
Calling a coroutine function while an event loop runs in the calling thread raises
:class:`~wasmtool.run.errors.AsyncReentryError` instead of deadlocking.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from types import ModuleType, TracebackType
from typing import Any, Literal, Self

from wasmtool_runtime.dispatch import (
    argument_problem,
    discover_methods,
    error_data,
    is_async_callable,
    rpc_code_for,
)
from wasmtool_runtime.jsonrpc import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    PING,
    HandleTable,
    ValueDecodingError,
    ValueEncodingError,
    decode_value,
    encode_value,
)

from wasmtool.run.errors import (
    AsyncReentryError,
    CallTimeoutError,
    InvalidParamsError,
    MethodNotFoundError,
    RemoteError,
    RuntimeClosedError,
    ValueCodecError,
    error_from_response,
)

__all__ = ["AsyncMode", "InProcessRuntime"]

AsyncMode = Literal["per-call", "persistent"]


class _Timeout(Exception):
    pass


class InProcessRuntime:
    """Calls ``module``'s functions in this process (see the module docstring)."""

    def __init__(
        self,
        module: ModuleType | str,
        *,
        async_mode: AsyncMode = "per-call",
        roundtrip: bool = False,
    ) -> None:
        if async_mode not in ("per-call", "persistent"):
            raise ValueError(f"async_mode must be 'per-call' or 'persistent', not {async_mode!r}")
        self.module = importlib.import_module(module) if isinstance(module, str) else module
        self.async_mode: AsyncMode = async_mode
        self.roundtrip = roundtrip
        self._methods = discover_methods(self.module)
        self._async: dict[str, bool] = {}
        self._handles = HandleTable()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._loops_created = 0
        self._cancelled = 0
        self._closed = False
        self._warned_sync_timeout = False

    # -- introspection -----------------------------------------------------------------

    @property
    def methods(self) -> list[str]:
        return sorted(self._methods)

    @property
    def loops_created(self) -> int:
        """Event loops created so far (per-call: one per async call; persistent: at most one)."""
        return self._loops_created

    @property
    def cancelled(self) -> int:
        """Call tasks that have seen ``CancelledError`` (timeouts)."""
        return self._cancelled

    # -- calling -----------------------------------------------------------------------

    def call(
        self,
        method: str,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> Any:
        if self._closed:
            raise RuntimeClosedError(f"{method}: the runtime is closed")
        if method == PING:
            return "pong"
        fn = self._methods.get(method)
        if fn is None:
            raise MethodNotFoundError(
                method=method,
                rpc_code=METHOD_NOT_FOUND,
                rpc_message=f"method {method!r} not found in module {self.module.__name__!r}",
            )
        call_args, call_kwargs = list(args), dict(kwargs or {})
        if self.roundtrip:
            call_args, call_kwargs = self._through_wire(method, call_args, call_kwargs)
        is_async = self._async.get(method)
        if is_async is None:
            is_async = self._async[method] = is_async_callable(fn)
        if is_async:   # the coroutine is created inside the loop: check the arguments first
            self._check_arguments(method, fn, call_args, call_kwargs)
        try:
            if is_async:
                result = self._run_async(method, lambda: fn(*call_args, **call_kwargs), timeout)
            else:
                if timeout is not None and not self._warned_sync_timeout:
                    self._warned_sync_timeout = True
                    warnings.warn(f"{method} is synchronous: in-process, timeout={timeout:g} cannot interrupt it "
                                  "(a SubprocessRuntime kills its worker at the deadline)", RuntimeWarning,
                                  stacklevel=2)
                result = fn(*call_args, **call_kwargs)
                if inspect.isawaitable(result):
                    awaitable = result
                    result = self._run_async(method, lambda: awaitable, timeout)
        except AsyncReentryError:
            raise
        except _Timeout:
            raise CallTimeoutError(method=method, timeout=timeout or 0.0, side="in-process") from None
        except TypeError as exc:
            # Arguments that do not bind fail before the body runs: only then is the
            # TypeError the caller's (checking first would cost a signature bind per call).
            self._check_arguments(method, fn, call_args, call_kwargs)
            data = error_data(exc)
            raise error_from_response(
                method, rpc_code_for(exc), f"{data['type']}: {data['message']}", data
            ) from exc
        except Exception as exc:
            data = error_data(exc)
            raise error_from_response(
                method, rpc_code_for(exc), f"{data['type']}: {data['message']}", data
            ) from exc
        if self.roundtrip:
            try:
                result = decode_value(encode_value(result, self._handles))
            except (ValueEncodingError, ValueDecodingError) as exc:
                raise RemoteError(
                    method=method,
                    rpc_code=INTERNAL_ERROR,
                    rpc_message=f"{method}: cannot encode the result: {exc}",
                    data=error_data(exc),
                ) from exc
        return result

    @staticmethod
    def _check_arguments(method: str, fn: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> None:
        problem = argument_problem(fn, args, kwargs)
        if problem is not None:
            raise InvalidParamsError(
                method=method, rpc_code=INVALID_PARAMS, rpc_message=f"{method}: {problem}"
            )

    def submit(
        self,
        method: str,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> Future[Any]:
        """Run the call now; the returned future is already done."""
        future: Future[Any] = Future()
        try:
            future.set_result(self.call(method, args, kwargs, timeout=timeout))
        except Exception as exc:
            future.set_exception(exc)
        return future

    call_async = submit

    def _through_wire(
        self, method: str, args: list[Any], kwargs: dict[str, Any]
    ) -> tuple[list[Any], dict[str, Any]]:
        try:
            wire_args = encode_value(args)
            wire_kwargs = {name: encode_value(value) for name, value in kwargs.items()}
        except ValueEncodingError as exc:
            raise ValueCodecError(f"{method}: cannot encode the arguments: {exc}") from exc
        try:
            decoded = decode_value(wire_args, self._handles)
            decoded_kwargs = {name: decode_value(value, self._handles) for name, value in wire_kwargs.items()}
        except ValueDecodingError as exc:
            raise InvalidParamsError(
                method=method, rpc_code=INVALID_PARAMS, rpc_message=f"{method}: {exc}"
            ) from exc
        return list(decoded), decoded_kwargs

    # -- async -------------------------------------------------------------------------

    def _run_async(self, method: str, make: Callable[[], Any], timeout: float | None) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise AsyncReentryError(method)
        if self.async_mode == "persistent":
            loop = self._persistent_loop()
            return asyncio.run_coroutine_threadsafe(self._guarded(make, timeout), loop).result()
        with self._lock:
            self._loops_created += 1
        return asyncio.run(self._guarded(make, timeout))

    async def _observe(self, awaitable: Any) -> Any:
        try:
            return await awaitable
        except asyncio.CancelledError:
            with self._lock:
                self._cancelled += 1
            raise

    async def _guarded(self, make: Callable[[], Any], timeout: float | None) -> Any:
        task = asyncio.ensure_future(self._observe(make()))
        if timeout is None:
            return await task
        try:
            return await asyncio.wait_for(task, timeout)
        except TimeoutError:
            if task.cancelled():
                raise _Timeout from None
            raise

    def _persistent_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise RuntimeClosedError("the runtime is closed")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=_serve_loop, args=(loop,), name="wasmtool-inprocess-loop", daemon=True
                )
                thread.start()
                self._loop, self._loop_thread = loop, thread
                self._loops_created += 1
            return self._loop

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._loop_thread
            self._loop = self._loop_thread = None
        if loop is not None and thread is not None:
            asyncio.run_coroutine_threadsafe(_cancel_all(), loop).result()
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _serve_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    loop.run_forever()


async def _cancel_all() -> None:
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
