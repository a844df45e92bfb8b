"""The subprocess worker: serves one wrapper module over JSON-RPC on stdio (formats.md §7).

Usage::

    python -m wasmtool_runtime.worker --module NAME [--path DIR ...] [--max-frame BYTES]
                                      [--threads N] [--drain SECONDS]

* ``--module`` is imported (after the ``--path`` directories are put in front of
  ``sys.path``, in the order given); its methods are
  :func:`~wasmtool_runtime.dispatch.discover_methods` of it.
* Standard output carries protocol frames only. At start the worker moves the protocol
  to private file descriptors and points fd 0 at ``/dev/null`` and fd 1 at stderr, so
  ``print()``, C extensions and child processes cannot corrupt the stream; logs go to
  stderr.
* Requests are pipelined: synchronous functions run on a thread pool, coroutine
  functions on the worker's one persistent asyncio loop (in its own thread); each answer
  is written when its call completes (so possibly out of order) under a write lock.
* Per-call timeouts (``"wasmtool": {"timeout": s}``) cancel the coroutine's task via
  ``asyncio.wait_for`` and answer -32002 with ``data.type == "TimeoutError"``.
* Reserved methods: ``wasmtool.ping`` -> ``"pong"``; ``wasmtool.shutdown`` -> ``null``,
  then the worker stops; ``wasmtool.release`` ``[h, ...]`` (ints or ``{"$handle": n}``)
  -> number released; ``wasmtool.cancel`` ``[id]`` -> whether an in-flight coroutine call
  was cancelled (it then answers -32003); ``wasmtool.cancelled`` -> how many call tasks
  have seen ``CancelledError`` so far; ``wasmtool.methods`` -> the sorted method names.
* End of input (between frames) or ``wasmtool.shutdown``: in-flight coroutine calls are
  cancelled, in-flight calls get ``--drain`` seconds (default 1) to answer, then the
  process exits with status 0 even if a synchronous call is still stuck.

Exit statuses: 0 clean close, 2 usage error, 3 the module could not be imported.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import functools
import importlib
import inspect
import os
import sys
import threading
import time
import traceback
import types
from collections.abc import Callable
from typing import IO, Any, NoReturn

from .dispatch import (
    argument_problem,
    discover_methods,
    error_data,
    handle_id,
    is_async_callable,
    rpc_code_for,
)
from .jsonrpc.framing import DEFAULT_MAX_FRAME, FrameReader, FrameWriter, ProtocolViolation, parse_frame
from .jsonrpc.messages import (
    CALL_CANCELLED,
    CALL_TIMEOUT,
    CANCEL,
    CANCELLED,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    METHODS,
    PING,
    RELEASE,
    RESERVED_PREFIX,
    SHUTDOWN,
    Request,
    make_error,
    make_result,
    parse_request,
)
from .jsonrpc.values import (
    HandleTable,
    ValueDecodingError,
    ValueEncodingError,
    decode_value,
    encode_value,
)

__all__ = ["EXIT_IMPORT_FAILED", "EXIT_OK", "EXIT_USAGE", "Worker", "main", "run"]

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_IMPORT_FAILED = 3


def _log(message: str) -> None:
    try:
        sys.stderr.write(f"wasmtool-worker: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


class _CallTimedOut(Exception):
    def __init__(self, timeout: float) -> None:
        super().__init__(timeout)
        self.timeout = timeout


class _Call:
    """One coroutine call: its request, and whether its coroutine has started running."""

    __slots__ = ("request", "started")

    def __init__(self, request: Request) -> None:
        self.request = request
        self.started = False


class Worker:
    """Serves ``module``'s methods: frames in from ``reader``, answers out to ``writer``."""

    def __init__(
        self,
        module: types.ModuleType,
        reader: FrameReader,
        writer: FrameWriter,
        *,
        threads: int | None = None,
        drain: float = 1.0,
        log: Callable[[str], None] = _log,
    ) -> None:
        self.module_name = module.__name__
        self.methods = discover_methods(module)
        self.handles = HandleTable()
        self._reader = reader
        self._writer = writer
        self._drain = drain
        self._log = log
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="wasmtool-call"
        )
        self._loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(target=self._run_loop, name="wasmtool-loop", daemon=True)
        self._stop = threading.Event()
        self._state = threading.Condition()
        self._running = 0  # calls started and not yet answered
        self._tasks: dict[Any, asyncio.Task[None]] = {}  # in-flight coroutine calls (loop thread only)
        self._cancelled = 0  # call tasks that saw CancelledError (touched on the loop thread only)

    # -- serving ---------------------------------------------------------------------

    def serve(self) -> int:
        """Serve until end of input or ``wasmtool.shutdown``; returns the exit status."""
        self._loop_thread.start()
        try:
            while not self._stop.is_set():
                try:
                    body = self._reader.read_frame()
                except ProtocolViolation as exc:
                    self._log(f"bad frame: {exc}")
                    self._write(make_error(None, exc.code, exc.message))
                    if exc.kind == "truncated":
                        break
                    continue
                if body is None:
                    break
                self._handle_frame(body)
        finally:
            self._wind_down()
        return EXIT_OK

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def _handle_frame(self, body: bytes) -> None:
        try:
            request = parse_request(parse_frame(body))
        except ProtocolViolation as exc:
            self._write(make_error(exc.request_id, exc.code, exc.message))
            return
        if request.method.startswith(RESERVED_PREFIX):
            self._reserved(request)
            return
        fn = self.methods.get(request.method)
        if fn is None:
            self._answer_error(
                request,
                METHOD_NOT_FOUND,
                f"method {request.method!r} not found in module {self.module_name!r}",
            )
            return
        try:
            args = decode_value(request.args, self.handles)
            kwargs = {name: decode_value(value, self.handles) for name, value in request.kwargs.items()}
        except ValueDecodingError as exc:
            self._answer_error(request, INVALID_PARAMS, f"{request.method}: {exc}")
            return
        problem = argument_problem(fn, args, kwargs)
        if problem is not None:
            self._answer_error(request, INVALID_PARAMS, f"{request.method}: {problem}")
            return
        with self._state:
            self._running += 1
        if is_async_callable(fn):
            # Callbacks run in FIFO order, so the task exists before any later wasmtool.cancel looks.
            self._loop.call_soon_threadsafe(self._spawn, _Call(request), fn, args, kwargs)
        else:
            self._pool.submit(self._run_sync, request, fn, args, kwargs)

    def _spawn(self, call: _Call, fn: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> None:
        """On the loop: start the call's task and remember it under its request id."""
        key: Any = call.request.id if call.request.id is not None else object()
        task = self._loop.create_task(self._run_async(call, fn, args, kwargs))
        self._tasks[key] = task
        task.add_done_callback(functools.partial(self._task_done, key, call))

    def _task_done(self, key: Any, call: _Call, task: asyncio.Task[None]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        if not call.started:  # cancelled before its first step: the coroutine body never ran
            self._answer_cancelled(call.request)
            self._call_done()

    # -- running calls ---------------------------------------------------------------

    def _run_sync(
        self, request: Request, fn: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]
    ) -> None:
        try:
            result = fn(*args, **kwargs)
            if inspect.isawaitable(result):  # a plain function that returned a coroutine
                result = asyncio.run_coroutine_threadsafe(
                    self._await_call(request.timeout, result), self._loop
                ).result()
        except _CallTimedOut as exc:
            self._answer_timeout(request, exc.timeout)
        except BaseException as exc:  # SystemExit in user code must not kill the worker
            self._answer_exception(request, exc)
        else:
            self._answer_result(request, result)
        finally:
            self._call_done()

    async def _run_async(
        self, call: _Call, fn: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]
    ) -> None:
        call.started = True
        request = call.request
        try:
            result = await self._await_call(request.timeout, fn(*args, **kwargs))
        except _CallTimedOut as exc:
            self._answer_timeout(request, exc.timeout)
        except asyncio.CancelledError:
            self._answer_cancelled(request)
        except BaseException as exc:
            self._answer_exception(request, exc)
        else:
            self._answer_result(request, result)
        finally:
            self._call_done()

    async def _observe(self, awaitable: Any) -> Any:
        try:
            return await awaitable
        except asyncio.CancelledError:
            self._cancelled += 1
            raise

    async def _await_call(self, timeout: float | None, awaitable: Any) -> Any:
        task = asyncio.ensure_future(self._observe(awaitable))
        if timeout is None:
            return await task
        try:
            return await asyncio.wait_for(task, timeout)
        except asyncio.TimeoutError:  # noqa: UP041 - distinct from TimeoutError before Python 3.11
            if task.cancelled():  # wait_for's own timeout, not a TimeoutError raised by the call
                raise _CallTimedOut(timeout) from None
            raise

    def _call_done(self) -> None:
        with self._state:
            self._running -= 1
            self._state.notify_all()

    # -- reserved methods ------------------------------------------------------------

    def _reserved(self, request: Request) -> None:
        method = request.method
        if method == PING:
            self._answer_result(request, "pong")
        elif method == SHUTDOWN:
            self._answer_result(request, None)
            self._stop.set()
        elif method == RELEASE:
            ids = [handle_id(item) for item in request.args]
            if any(i is None for i in ids):
                self._answer_error(
                    request, INVALID_PARAMS, f'{RELEASE} takes handle ids or {{"$handle": n}} objects'
                )
                return
            self._answer_result(request, self.handles.release([i for i in ids if i is not None]))
        elif method == CANCEL:
            if len(request.args) != 1 or not isinstance(request.args[0], (int, str)):
                self._answer_error(request, INVALID_PARAMS, f"{CANCEL} takes one request id")
                return
            key = request.args[0]
            self._answer_result(request, self._loop_value(lambda: self._cancel_task(key)))
        elif method == CANCELLED:
            self._answer_result(request, self._loop_value(lambda: self._cancelled))
        elif method == METHODS:
            self._answer_result(request, sorted(self.methods))
        else:
            self._answer_error(request, METHOD_NOT_FOUND, f"unknown reserved method {method!r}")

    def _cancel_task(self, key: Any) -> bool:
        task = self._tasks.get(key)
        return task is not None and not task.done() and task.cancel()

    def _cancel_all_tasks(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()

    def _loop_value(self, read: Callable[[], Any]) -> Any:
        async def on_loop() -> Any:
            return read()

        return asyncio.run_coroutine_threadsafe(on_loop(), self._loop).result()

    # -- answering -------------------------------------------------------------------

    def _answer_result(self, request: Request, result: Any) -> None:
        if request.id is None:
            return
        try:
            encoded = encode_value(result, self.handles)
        except ValueEncodingError as exc:
            self._answer_error(
                request, INTERNAL_ERROR, f"{request.method}: cannot encode the result: {exc}", error_data(exc)
            )
            return
        self._write(make_result(request.id, encoded), request)

    def _answer_exception(self, request: Request, exc: BaseException) -> None:
        data = error_data(exc)
        self._answer_error(request, rpc_code_for(exc), f"{data['type']}: {data['message']}", data)

    def _answer_cancelled(self, request: Request) -> None:
        message = f"{request.method} was cancelled"
        self._answer_error(
            request, CALL_CANCELLED, message, {"type": "CancelledError", "message": message, "traceback": ""}
        )

    def _answer_timeout(self, request: Request, timeout: float) -> None:
        message = f"{request.method} did not finish within {timeout:g} s; its task was cancelled"
        self._answer_error(
            request, CALL_TIMEOUT, message, {"type": "TimeoutError", "message": message, "traceback": ""}
        )

    def _answer_error(self, request: Request, code: int, message: str, data: Any = None) -> None:
        if request.id is not None:
            self._write(make_error(request.id, code, message, data), request)

    def _write(self, message: dict[str, Any], request: Request | None = None) -> None:
        try:
            self._writer.write(message)
        except ProtocolViolation as exc:  # oversize answer: say so instead
            self._write(
                make_error(
                    message.get("id"), INTERNAL_ERROR, f"{request.method if request else 'answer'}: {exc}"
                )
            )
        except (OSError, ValueError) as exc:  # the client went away
            if not self._stop.is_set():
                self._log(f"cannot write an answer: {exc}")

    # -- stopping --------------------------------------------------------------------

    def _wind_down(self) -> None:
        self._stop.set()
        self._loop.call_soon_threadsafe(self._cancel_all_tasks)
        deadline = time.monotonic() + self._drain
        with self._state:
            while self._running > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._log(f"{self._running} call(s) still running at exit")
                    break
                self._state.wait(left)
        try:
            self._pool.shutdown(wait=False, cancel_futures=True)
        except TypeError:  # Python 3.8: no cancel_futures
            self._pool.shutdown(wait=False)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._loop_thread.join(self._drain)


def _isolate_stdio() -> tuple[IO[bytes], IO[bytes]]:
    """Move the protocol off fds 0/1: returns (protocol in, protocol out)."""
    sys.stdout.flush()
    proto_in = os.dup(0)
    proto_out = os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(proto_in, "rb"), os.fdopen(proto_out, "wb")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m wasmtool_runtime.worker", description="Serve a wrapper module over JSON-RPC on stdio."
    )
    parser.add_argument("--module", required=True, help="wrapper module to import")
    parser.add_argument("--path", action="append", default=[], help="directory to put in front of sys.path")
    parser.add_argument("--max-frame", type=int, default=DEFAULT_MAX_FRAME, help="frame cap in bytes")
    parser.add_argument("--threads", type=int, default=None, help="thread-pool size for sync calls")
    parser.add_argument("--drain", type=float, default=1.0, help="seconds in-flight calls get at exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, import the module, serve; returns the exit status."""
    options = _parser().parse_args(argv)
    proto_in, proto_out = _isolate_stdio()
    for directory in reversed(options.path):
        sys.path.insert(0, directory)
    try:
        module = importlib.import_module(options.module)
    except BaseException:  # any import-time failure, incl. SystemExit
        traceback.print_exc()
        _log(f"cannot import module {options.module!r}")
        return EXIT_IMPORT_FAILED
    worker = Worker(
        module,
        FrameReader(proto_in, max_frame=options.max_frame),
        FrameWriter(proto_out, max_frame=options.max_frame),
        threads=options.threads,
        drain=options.drain,
    )
    return worker.serve()


def run(argv: list[str] | None = None) -> NoReturn:
    """Entry point: :func:`main`, then exit at once (a stuck sync call cannot block exit)."""
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse usage errors
        status = exc.code if isinstance(exc.code, int) else EXIT_USAGE
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


if __name__ == "__main__":
    run()
