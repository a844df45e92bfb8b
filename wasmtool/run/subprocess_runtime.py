"""Call a wrapper module in a worker subprocess over JSON-RPC on stdio (formats.md §7).

:class:`SubprocessRuntime` starts ``wasmtool_runtime.worker`` with the target's Python
lazily, on the first call, and then:

* pipelines: every call gets an id from 1; a reader thread matches answers to
  :class:`concurrent.futures.Future` objects by id, so any number of threads may call at
  once and :meth:`SubprocessRuntime.submit` returns without waiting;
* forwards the worker's stderr line by line to ``stderr_sink`` with ``stderr_prefix``;
* on a crash fails every in-flight call with
  :class:`~wasmtool.run.errors.WorkerExitedError` (exit status or signal, method) after
  reaping the process; the next call starts a new worker;
* on a malformed, oversize, truncated or otherwise invalid frame fails every in-flight
  call with :class:`~wasmtool.run.errors.ProtocolError` and kills the worker;
* enforces ``timeout`` twice: the worker cancels a coroutine after ``timeout`` s, and the
  client gives up at ``timeout + CLIENT_GRACE`` s even if the worker hangs (a
  ``wasmtool.cancel`` notification is then sent and the late answer dropped);
* gives every call a ``deadline`` (default :data:`DEFAULT_DEADLINE`, 600 s; at least
  ``timeout + DEADLINE_GRACE`` for a call with a timeout): a call still running then -- a
  synchronous function that never returns, which nothing else can interrupt -- fails with
  :class:`~wasmtool.run.errors.CallDeadlineError` and the worker is killed (the calls in
  flight with it fail with :class:`~wasmtool.run.errors.WorkerExitedError`); the next call
  starts a new worker. :func:`call_deadline` turns a session's ``timeout`` into a deadline;
* shuts down cleanly on :meth:`close`, at garbage collection and at interpreter exit
  (``weakref.finalize``): ``wasmtool.shutdown``, then terminate, then kill, always
  followed by ``wait()`` so no zombie is left.

The worker is started as ``python -c <bootstrap> <runtime dir> --module NAME ...``: the
bootstrap imports ``wasmtool_runtime`` from wasmtool's own installation and removes that
directory from ``sys.path`` again, so the wrapper module only sees the target
environment. ``PYTHONPATH`` is not inherited (``env=None``); pass ``paths`` instead.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import heapq
import itertools
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import wasmtool_runtime
from wasmtool_runtime.jsonrpc import (
    CALL_CANCELLED,
    CANCEL,
    DEFAULT_MAX_FRAME,
    SHUTDOWN,
    FrameReader,
    FrameWriter,
    ProtocolViolation,
    Response,
    ValueDecodingError,
    ValueEncodingError,
    decode_value,
    encode_frame,
    encode_value,
    make_request,
    parse_frame,
    parse_response,
)
from wasmtool_runtime.worker import EXIT_IMPORT_FAILED

from wasmtool.errors import ToolNotFoundError
from wasmtool.run.errors import (
    CallDeadlineError,
    CallTimeoutError,
    ProtocolError,
    RuntimeClosedError,
    ValueCodecError,
    WorkerExitedError,
    WorkerStartError,
    describe_status,
    error_from_response,
)
from wasmtool.tools import Process, start_tool, stop_process

__all__ = [
    "CLIENT_GRACE",
    "DEADLINE_GRACE",
    "DEFAULT_DEADLINE",
    "DEFAULT_SHUTDOWN_GRACE",
    "SubprocessRuntime",
    "call_deadline",
    "runtime_dir",
    "worker_command",
]

#: Seconds the client waits beyond a call's timeout before giving up on its own.
CLIENT_GRACE = 0.05
#: Seconds any one call may run, when no timeout is set, before its worker is killed.
DEFAULT_DEADLINE = 600.0
#: Seconds beyond a call's timeout before its worker is killed (the worker cancels a
#: coroutine at the timeout itself and answers; only a call that cannot be cancelled is left).
DEADLINE_GRACE = 1.0
#: What the worker (and the session's boot code) print on stderr before exiting with
#: ``EXIT_IMPORT_FAILED`` because the module could not be imported.
_IMPORT_FAILED_MARK = "wasmtool-worker: cannot "
DEFAULT_SHUTDOWN_GRACE = 2.0
_STDERR_TAIL_LINES = 40
_STDERR_CHUNK = 64 * 1024

_BOOTSTRAP = (
    "import sys;r=sys.argv.pop(1);sys.path.insert(0,r);"
    "import wasmtool_runtime.worker as w;sys.path.remove(r);w.run(sys.argv[1:])"
)


def runtime_dir() -> str:
    """The directory that contains the ``wasmtool_runtime`` package wasmtool ships."""
    return str(Path(wasmtool_runtime.__file__).resolve().parent.parent)


def worker_command(
    python: str,
    module_name: str,
    *,
    paths: Sequence[str] = (),
    max_frame: int = DEFAULT_MAX_FRAME,
    threads: int | None = None,
) -> list[str]:
    """The argv that starts a worker serving ``module_name`` with interpreter ``python``."""
    argv = [python, "-c", _BOOTSTRAP, runtime_dir(), "--module", module_name]
    for path in paths:
        argv += ["--path", str(path)]
    argv += ["--max-frame", str(max_frame)]
    if threads is not None:
        argv += ["--threads", str(threads)]
    return argv


def call_deadline(timeout: float | None) -> float:
    """The deadline of a worker's calls for a session ``timeout``: :data:`DEFAULT_DEADLINE`
    without one, else ``timeout + DEADLINE_GRACE``."""
    return DEFAULT_DEADLINE if timeout is None else timeout + DEADLINE_GRACE


def _default_sink(line: str) -> None:
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _resolve(future: Future[Any], value: Any) -> None:
    with contextlib.suppress(InvalidStateError):  # cancelled by the caller meanwhile
        future.set_result(value)


def _fail(future: Future[Any], exc: BaseException) -> None:
    with contextlib.suppress(InvalidStateError):
        future.set_exception(exc)


@dataclass(frozen=True)
class _Config:
    module_name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] | None
    cwd: str | None
    stderr_prefix: str
    stderr_sink: Callable[[str], None]
    max_frame: int
    shutdown_grace: float
    deadline: float | None


@dataclass
class _Pending:
    future: Future[Any]
    method: str
    timeout: float | None


class _Deadlines:
    """One thread running due actions from a heap of (monotonic time, action)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def add(self, when: float, action: Callable[[], None]) -> None:
        with self._cond:
            if self._stopped:
                return
            heapq.heappush(self._heap, (when, next(self._seq), action))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="wasmtool-deadlines", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopped:
                        return
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        due = []
                        while self._heap and self._heap[0][0] <= now:
                            due.append(heapq.heappop(self._heap)[2])
                        break
                    self._cond.wait(self._heap[0][0] - now if self._heap else None)
            for action in due:
                with contextlib.suppress(Exception):  # one failing action must not stop the others
                    action()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()


class _Worker:
    """One worker process, its pending calls and its reader / stderr threads."""

    def __init__(self, config: _Config, proc: Process[bytes]) -> None:
        assert proc.stdin is not None
        assert proc.stdout is not None
        assert proc.stderr is not None
        self.config = config
        self.proc = proc
        self.pid = proc.pid
        self.lock = threading.Lock()
        self.pending: dict[int, _Pending] = {}
        self.abandoned: set[int] = set()
        self.next_id = 1
        self.answered = 0
        self.dead = False
        self.closing = False
        self.exited = threading.Event()
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=_STDERR_TAIL_LINES)
        self.writer = FrameWriter(proc.stdin, max_frame=config.max_frame)
        self.reader = FrameReader(proc.stdout, max_frame=config.max_frame)
        self.stderr_thread = threading.Thread(
            target=self._forward_stderr, name=f"wasmtool-worker-{proc.pid}-stderr", daemon=True
        )
        self.reader_thread = threading.Thread(
            target=self._read_answers, name=f"wasmtool-worker-{proc.pid}-reader", daemon=True
        )
        self.stderr_thread.start()
        self.reader_thread.start()

    @classmethod
    def start(cls, config: _Config) -> _Worker:
        try:
            proc = start_tool("worker", config.argv, env=config.env, cwd=config.cwd)
        except ToolNotFoundError as exc:
            raise WorkerStartError(
                f"cannot start the worker for {config.module_name!r} with {config.argv[0]!r}: {exc.reason}",
                hint="check the interpreter path of the target environment",
            ) from exc
        return cls(config, proc)

    # -- calls -------------------------------------------------------------------------

    def register(self, method: str, timeout: float | None) -> tuple[int, Future[Any]] | None:
        """A fresh id and future for ``method``, or ``None`` when this worker is finished."""
        with self.lock:
            if self.dead or self.closing:
                return None
            request_id = self.next_id
            self.next_id += 1
            future: Future[Any] = Future()
            self.pending[request_id] = _Pending(future, method, timeout)
            return request_id, future

    def forget(self, request_id: int) -> None:
        with self.lock:
            self.pending.pop(request_id, None)

    def send(self, frame: bytes) -> None:
        # A dead worker: the reader thread fails the pending calls.
        with contextlib.suppress(OSError, ValueError):
            self.writer.write_bytes(frame)

    def abandon(self, request_id: int) -> _Pending | None:
        """Stop waiting for ``request_id`` (drop its late answer) and ask the worker to cancel it."""
        with self.lock:
            pending = self.pending.pop(request_id, None)
            if pending is None:
                return None
            self.abandoned.add(request_id)
        self.send(encode_frame(make_request(None, CANCEL, [request_id]), max_frame=self.config.max_frame))
        return pending

    def expire(self, request_id: int, timeout: float) -> None:
        pending = self.abandon(request_id)
        if pending is not None:
            _fail(pending.future, CallTimeoutError(method=pending.method, timeout=timeout, side="client"))

    def overrun(self, request_id: int, deadline: float) -> None:
        """The call ``request_id`` passed its deadline: when it is still running, fail it and
        kill the worker (marked dead at once, so the next call starts a new one)."""
        with self.lock:
            if self.dead:
                return
            pending = self.pending.pop(request_id, None)
            if pending is None and request_id not in self.abandoned:
                return   # answered in time
            self.abandoned.discard(request_id)
            self.dead = True
        if pending is not None:
            _fail(pending.future, CallDeadlineError(method=pending.method, deadline=deadline, pid=self.pid))
        with contextlib.suppress(OSError):
            self.proc.kill()

    def on_done(self, request_id: int, future: Future[Any]) -> None:
        if future.cancelled():
            self.abandon(request_id)

    # -- reading -----------------------------------------------------------------------

    def _read_answers(self) -> None:
        failure: ProtocolViolation | None = None
        try:
            while True:
                body = self.reader.read_frame()
                if body is None:
                    break
                self._deliver(parse_response(parse_frame(body)))
        except ProtocolViolation as exc:
            failure = exc
        except (OSError, ValueError):
            pass  # our end of the pipe was closed
        self._die(failure)

    def _deliver(self, response: Response) -> None:
        if response.id is None:
            reason = response.error.message if response.error else "an answer without id"
            raise ProtocolViolation("invalid", f"the worker could not read a request: {reason}")
        with self.lock:
            pending = self.pending.pop(response.id, None) if isinstance(response.id, int) else None
            if pending is None:
                if response.id in self.abandoned:
                    self.abandoned.discard(response.id)  # a late answer after a client timeout
                    return
                raise ProtocolViolation("invalid", f"answer for unknown request id {response.id!r}")
            self.answered += 1
        if response.error is not None:
            error = response.error
            if error.code == CALL_CANCELLED and self.closing:
                _fail(
                    pending.future,
                    RuntimeClosedError(
                        f"{pending.method}: the runtime was closed while the call was in flight"
                    ),
                )
                return
            _fail(
                pending.future,
                error_from_response(
                    pending.method, error.code, error.message, error.data, timeout=pending.timeout
                ),
            )
            return
        try:
            value = decode_value(response.result)
        except ValueDecodingError as exc:
            _fail(
                pending.future,
                ProtocolError(
                    f"undecodable result: {exc}", kind="invalid", method=pending.method, pid=self.pid
                ),
            )
            return
        _resolve(pending.future, value)

    def _die(self, failure: ProtocolViolation | None) -> None:
        with self.lock:
            self.dead = True
            pending, self.pending = self.pending, {}
        if failure is not None and self.proc.poll() is None:
            self.proc.kill()
        returncode = self.reap(self.config.shutdown_grace)
        self.stderr_thread.join(self.config.shutdown_grace)
        tail = "\n".join(self.stderr_tail)
        for _request_id, call in sorted(pending.items()):
            _fail(call.future, self._exit_error(call.method, returncode, failure, tail))
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except (OSError, ValueError):
                pass
        self.exited.set()

    def _exit_error(
        self, method: str, returncode: int, failure: ProtocolViolation | None, tail: str
    ) -> Exception:
        if failure is not None:
            return ProtocolError(
                f"{failure.kind} frame from worker {self.pid}: {failure.message}; "
                f"the worker {describe_status(returncode)}",
                kind=failure.kind,
                method=method,
                pid=self.pid,
                hint="the worker wrote something that is not a protocol frame to its stdout",
            )
        if self.closing:
            return RuntimeClosedError(f"{method}: the runtime was closed while the call was in flight")
        if (returncode == EXIT_IMPORT_FAILED and self.answered == 0
                and any(line.startswith(_IMPORT_FAILED_MARK) for line in self.stderr_tail)):
            return WorkerStartError(
                f"the worker could not import module {self.config.module_name!r} "
                f"(it {describe_status(returncode)}); {method!r} was not run",
                stderr_tail=tail,
            )
        return WorkerExitedError(method=method, returncode=returncode, pid=self.pid, stderr_tail=tail)

    def _forward_stderr(self) -> None:
        stream = self.proc.stderr
        assert stream is not None
        try:
            for raw in iter(functools.partial(stream.readline, _STDERR_CHUNK), b""):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                self.stderr_tail.append(line)
                with contextlib.suppress(Exception):  # a broken sink must not stop forwarding
                    self.config.stderr_sink(self.config.stderr_prefix + line)
        except (OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                stream.close()

    # -- stopping ----------------------------------------------------------------------

    def reap(self, grace: float) -> int:
        """Wait for the process (``grace`` s), then terminate, then kill; always ``wait()``."""
        return stop_process(self.proc, grace=grace)

    def shutdown(self) -> None:
        """``wasmtool.shutdown``, close stdin, reap; joins the reader thread."""
        grace = self.config.shutdown_grace
        registered = self.register(SHUTDOWN, None)
        with self.lock:
            self.closing = True
        if registered is not None:
            request_id, future = registered
            self.send(encode_frame(make_request(request_id, SHUTDOWN), max_frame=self.config.max_frame))
            with contextlib.suppress(Exception):  # best effort; the process is reaped below anyway
                future.result(timeout=grace)
        with contextlib.suppress(OSError, ValueError):
            self.writer.close()
        self.reap(grace)
        if self.reader_thread is not threading.current_thread():
            self.reader_thread.join(grace * 2)


class _State:
    """Everything the runtime's threads and its finalizer need (never the runtime itself)."""

    def __init__(self, config: _Config) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.worker: _Worker | None = None
        self.closed = False
        self.deadlines = _Deadlines()

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
            worker, self.worker = self.worker, None
        if worker is not None:
            worker.shutdown()
        self.deadlines.stop()


class SubprocessRuntime:
    """Calls the functions of wrapper module ``module_name`` in a worker process.

    ``python`` is the target environment's interpreter; ``paths`` are put in front of the
    worker's ``sys.path`` (the generated workspace); ``env`` replaces the environment
    (default: this process's minus ``PYTHONPATH``); ``stderr_sink`` receives each worker
    stderr line prefixed with ``stderr_prefix`` (default: this process's stderr);
    ``command`` replaces the whole worker argv (custom or fake workers); ``deadline`` is the
    seconds any call may run before the worker is killed (``None``: no limit; a call with a
    longer ``timeout`` gets ``timeout + DEADLINE_GRACE``).
    """

    def __init__(
        self,
        module_name: str,
        *,
        python: str,
        paths: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        stderr_prefix: str = "[worker] ",
        stderr_sink: Callable[[str], None] | None = None,
        max_frame: int = DEFAULT_MAX_FRAME,
        shutdown_grace: float = DEFAULT_SHUTDOWN_GRACE,
        threads: int | None = None,
        command: Sequence[str] | None = None,
        deadline: float | None = DEFAULT_DEADLINE,
    ) -> None:
        if deadline is not None and not deadline > 0:
            raise ValueError(f"deadline must be a positive number of seconds, not {deadline!r}")
        if env is None:
            env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        argv = (
            list(command)
            if command is not None
            else worker_command(python, module_name, paths=paths, max_frame=max_frame, threads=threads)
        )
        self.module_name = module_name
        self._state = _State(
            _Config(
                module_name=module_name,
                argv=tuple(argv),
                env=dict(env),
                cwd=os.fspath(cwd) if cwd is not None else None,
                stderr_prefix=stderr_prefix,
                stderr_sink=stderr_sink or _default_sink,
                max_frame=max_frame,
                shutdown_grace=shutdown_grace,
                deadline=deadline,
            )
        )
        self._finalizer = weakref.finalize(self, self._state.close)

    # -- introspection -----------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The current worker's pid (``None`` before the first call or after a crash)."""
        worker = self._state.worker
        return worker.pid if worker is not None and not worker.dead else None

    @property
    def closed(self) -> bool:
        return self._state.closed

    # -- calling -----------------------------------------------------------------------

    def submit(
        self,
        method: str,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> Future[Any]:
        """Send the call and return at once; the future holds the result or a typed error.

        Cancelling the future abandons the call (its answer is dropped and the worker is
        asked to cancel it). Done-callbacks run on the runtime's reader thread: they must
        not block on another call of the same runtime.
        """
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        try:
            wire_args = encode_value(list(args))
            wire_kwargs = {
                _kwarg_name(method, name): encode_value(value) for name, value in (kwargs or {}).items()
            }
        except ValueEncodingError as exc:
            raise ValueCodecError(f"{method}: cannot encode the arguments: {exc}") from exc
        worker, request_id, future = self._register(method, timeout)
        try:
            frame = encode_frame(
                make_request(request_id, method, wire_args, wire_kwargs, timeout=timeout),
                max_frame=self._state.config.max_frame,
            )
        except ProtocolViolation as exc:
            worker.forget(request_id)
            raise ProtocolError(str(exc), kind=exc.kind, method=method) from exc
        worker.send(frame)
        if timeout is not None:
            self._state.deadlines.add(
                time.monotonic() + timeout + CLIENT_GRACE,
                functools.partial(worker.expire, request_id, timeout),
            )
        deadline = self._state.config.deadline
        if deadline is not None:
            if timeout is not None:
                deadline = max(deadline, timeout + DEADLINE_GRACE)
            self._state.deadlines.add(time.monotonic() + deadline,
                                      functools.partial(worker.overrun, request_id, deadline))
        future.add_done_callback(functools.partial(worker.on_done, request_id))
        return future

    call_async = submit

    def call(
        self,
        method: str,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> Any:
        """``method(*args, **kwargs)`` in the worker; blocks until the answer (or the deadline)."""
        return self.submit(method, args, kwargs, timeout=timeout).result()

    def _register(self, method: str, timeout: float | None) -> tuple[_Worker, int, Future[Any]]:
        state = self._state
        for _attempt in range(3):
            with state.lock:
                if state.closed:
                    raise RuntimeClosedError(f"{method}: the runtime is closed")
                worker = state.worker
                if worker is None or worker.dead:
                    worker = state.worker = _Worker.start(state.config)
            registered = worker.register(method, timeout)
            if registered is not None:
                return (worker, *registered)
        raise WorkerStartError(
            f"{method}: the worker for {self.module_name!r} keeps exiting before taking calls"
        )

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        """Shut the worker down (``wasmtool.shutdown``, terminate, kill; always reaped)."""
        self._finalizer()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _kwarg_name(method: str, name: Any) -> str:
    if not isinstance(name, str):
        raise ValueCodecError(f"{method}: keyword argument names must be strings, not {name!r}")
    return name
