"""SubprocessRuntime: pipelining, crashes, protocol errors, timeouts, stderr, shutdown."""

from __future__ import annotations

import os
import random
import signal
import sys
import textwrap
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import OTHER_VERSION, other_python
from tests.skip_policy import POSIX_ONLY
from wasmtool.run import (
    CallTimeout,
    CallTimeoutError,
    ProtocolError,
    RemotePythonError,
    RuntimeClosedError,
    ValueCodecError,
    WorkerExited,
    WorkerExitedError,
    WorkerStartError,
)

from .conftest import StderrLines, SubprocessFactory, assert_reaped, wait_until

pytestmark = [
    pytest.mark.timeout(120),
    POSIX_ONLY,  # POSIX pipes and signals
]

#: How long a test waits for a call's future before calling it a hang. Not a timing claim:
#: a timed-out call answers at its timeout (worker) or timeout + CLIENT_GRACE (client);
#: how long that takes is measured in bench/timeouts.py.
HANG = 30.0


def test_lazy_start_and_close(make_subprocess: SubprocessFactory) -> None:
    runtime = make_subprocess()
    assert runtime.pid is None  # nothing started yet
    assert runtime.call("add", [1, 2]) == 3
    pid = runtime.pid
    assert pid is not None
    assert runtime.call("getpid") == pid
    runtime.close()
    assert_reaped(pid)
    assert runtime.closed
    with pytest.raises(RuntimeClosedError):
        runtime.call("add", [1, 2])
    runtime.close()  # idempotent


def test_many_pipelined_calls_from_threads_out_of_order(make_subprocess: SubprocessFactory) -> None:
    runtime = make_subprocess()
    completion: list[int] = []
    failures: list[str] = []

    def record(i: int) -> Any:
        return lambda _f: completion.append(i)

    def caller(base: int, count: int) -> None:
        futures = []
        for i in range(base, base + count):
            method = "jitter" if i % 3 else "sjitter"
            future = runtime.submit(method, [i])
            future.add_done_callback(record(i))
            futures.append((i, future))
        for i, future in futures:
            got = future.result(timeout=60)
            if got != i:
                failures.append(f"call {i} got {got}")

    threads = [threading.Thread(target=caller, args=(1000 + 100 * n, 100)) for n in range(8)]
    for thread in threads:
        thread.start()
    caller(0, 200)  # this thread: 200 more, so 1,000 in all
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(completion) == 1000
    mine = [i for i in completion if i < 200]
    assert mine != sorted(mine), "answers arrived in request order: the test did not exercise reordering"


def test_blocking_calls_from_threads(make_subprocess: SubprocessFactory) -> None:
    runtime = make_subprocess()
    results: dict[int, Any] = {}

    def caller(n: int) -> None:
        results[n] = [runtime.call("add", [n, i]) for i in range(25)]

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {n: [n + i for i in range(25)] for n in range(8)}


def test_sigkill_mid_call_fails_pending_and_recovers(
    make_subprocess: SubprocessFactory, tmp_path: Path
) -> None:
    runtime = make_subprocess()
    marker = tmp_path / "entered"
    pending = runtime.submit("block_until_killed", [str(marker)])
    other = runtime.submit("hang", ["other"])
    wait_until(marker.exists, what="the worker to enter block_until_killed")
    pid = int(marker.read_text())
    assert pid == runtime.pid
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(WorkerExitedError) as info:
        pending.result(timeout=60)
    error = info.value
    assert error.signal == signal.SIGKILL
    assert error.returncode == -signal.SIGKILL
    assert error.method == "block_until_killed"
    assert "SIGKILL" in str(error)
    assert "'block_until_killed'" in str(error)
    with pytest.raises(WorkerExited) as other_info:
        other.result(timeout=60)
    assert other_info.value.method == "hang"
    assert_reaped(pid)  # reaped before the calls were failed: no zombie
    new_pid = runtime.call("getpid")
    assert new_pid != pid
    assert runtime.call("add", [2, 2]) == 4


def test_acceptance_50_crash_names_method_and_status(make_subprocess: SubprocessFactory) -> None:
    sink = StderrLines()
    runtime = make_subprocess(stderr_sink=sink)
    first_pid = runtime.call("getpid")
    with pytest.raises(WorkerExitedError) as info:
        runtime.call("crash", [7])
    assert info.value.returncode == 7
    assert info.value.signal is None
    assert "exited with status 7" in str(info.value)
    assert "'crash'" in str(info.value)
    assert "about to crash" in info.value.stderr_tail
    assert_reaped(first_pid)
    assert runtime.call("add", [1, 1]) == 2
    assert runtime.pid != first_pid


FAKE_WORKERS = {
    "garbage": ("parse", 'out.write(b"this is not json\\n")'),
    "bad_version": (
        "version",
        'out.write(json.dumps({"jsonrpc": "1.0", "id": rid, "result": 1}).encode() + b"\\n")',
    ),
    "unknown_id": (
        "invalid",
        'out.write(json.dumps({"jsonrpc": "2.0", "id": rid + 100, "result": 1}).encode() + b"\\n")',
    ),
    "both": (
        "invalid",
        'out.write(json.dumps({"jsonrpc": "2.0", "id": rid, "result": 1, "error": {}}).encode() + b"\\n")',
    ),
    "oversize": ("oversize", 'out.write(b"[" + b"1," * 4000 + b"1]\\n")'),
    "truncated": ("truncated", 'out.write(b\'{"jsonrpc":"2.0","id":\'); out.flush(); os._exit(0)'),
    "print_then_hang": ("parse", 'print("hello from a careless print", flush=True); time.sleep(3600)'),
}


def _fake_worker(tmp_path: Path, action: str) -> list[str]:
    script = tmp_path / "fake_worker.py"
    script.write_text(
        textwrap.dedent(
            """
            import json, os, sys, time
            out = sys.stdout.buffer
            for line in sys.stdin.buffer:
                rid = json.loads(line)["id"]
                ACTION
                out.flush()
            """
        ).replace("ACTION", action)
    )
    return [sys.executable, str(script)]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", sorted(FAKE_WORKERS))
def test_malformed_frames_fail_pending_calls(
    make_subprocess: SubprocessFactory, tmp_path: Path, case: str
) -> None:
    kind, action = FAKE_WORKERS[case]
    runtime = make_subprocess(command=_fake_worker(tmp_path, action), max_frame=1024, shutdown_grace=5.0)
    with pytest.raises(ProtocolError) as info:
        runtime.call("add", [1, 2])
    assert info.value.kind == kind
    assert info.value.method == "add"
    assert info.value.pid is not None
    assert_reaped(info.value.pid)
    with pytest.raises(ProtocolError):  # the next call gets a new (equally broken) worker
        runtime.call("add", [1, 2])


def test_timeout_cancels_the_task(make_subprocess: SubprocessFactory) -> None:
    runtime = make_subprocess()
    pid = runtime.call("getpid")
    future = runtime.submit("hang", ["t1"], timeout=0.3)
    with pytest.raises(CallTimeoutError) as info:
        future.result(timeout=HANG)           # a TimeoutError that is not a CallTimeoutError: no answer
    assert isinstance(info.value, CallTimeout)
    assert isinstance(info.value, TimeoutError)
    assert (info.value.code, info.value.side, info.value.method, info.value.timeout) == ("WT728", "worker", "hang", 0.3)
    assert "no answer within 0.3 s (worker deadline)" in str(info.value)
    # the worker cancelled the coroutine itself (it saw CancelledError), and kept serving
    assert runtime.call("started_tags") == ["t1"]
    assert runtime.call("cancelled_tags") == ["t1"]
    assert runtime.call("wasmtool.cancelled") == 1
    assert runtime.call("add", [1, 2]) == 3
    assert runtime.pid == pid
    worker = runtime._state.worker
    assert worker is not None and not worker.abandoned      # answered by the worker, not given up on


def test_client_deadline_when_the_worker_cannot_interrupt(
    make_subprocess: SubprocessFactory, tmp_path: Path
) -> None:
    runtime = make_subprocess()
    runtime.call("wasmtool.ping")
    gate = tmp_path / "gate"
    future = runtime.submit("gate", [str(gate)], timeout=0.3)  # a sync call: only the client can give up
    with pytest.raises(CallTimeoutError) as info:
        future.result(timeout=HANG)           # a TimeoutError that is not a CallTimeoutError: no deadline
    assert (info.value.code, info.value.side, info.value.method, info.value.timeout) == ("WT728", "client", "gate", 0.3)
    worker = runtime._state.worker
    assert worker is not None
    assert len(worker.abandoned) == 1         # given up on while still running: its late answer is expected
    gate.touch()                              # only now can the call end, and its answer arrive (and be dropped)
    wait_until(lambda: not worker.abandoned, what="the late answer to be dropped")
    assert runtime.call("add", [1, 2]) == 3   # no protocol error from the late answer
    assert runtime.pid == worker.pid          # the same worker: a client timeout does not kill it


def test_cancelling_a_future_cancels_the_remote_task(make_subprocess: SubprocessFactory) -> None:
    runtime = make_subprocess()
    future: Future[Any] = runtime.submit("hang", ["by-future"])
    wait_until(lambda: runtime.call("started_tags") == ["by-future"], what="the coroutine to start")
    assert future.cancel()
    wait_until(lambda: runtime.call("cancelled_tags") == ["by-future"], what="the task to be cancelled")
    assert runtime.call("add", [1, 2]) == 3


def test_remote_exception(make_subprocess: SubprocessFactory) -> None:
    runtime = make_subprocess()
    with pytest.raises(RemotePythonError) as info:
        runtime.call("fail", ["bad input"])
    error = info.value
    assert (error.python_type, error.python_message, error.method, error.rpc_code) == (
        "ValueError",
        "bad input",
        "fail",
        -32000,
    )
    assert "raise ValueError(message)" in error.traceback
    assert error.code == "WT724"


def test_acceptance_53_big_ints_exact(make_subprocess: SubprocessFactory) -> None:
    runtime = make_subprocess()
    for value in (2**53, 2**53 + 1, 2**64 - 1, -(2**63) - 1, 10**40 + 7, -(2**1000)):
        back = runtime.call("echo", [value])
        assert back == value
        assert type(back) is int
    assert runtime.call("values")["big"] == 2**64 + 1


def test_stderr_forwarded_with_prefix(make_subprocess: SubprocessFactory) -> None:
    sink = StderrLines()
    runtime = make_subprocess(stderr_sink=sink, stderr_prefix="[w] ")
    assert runtime.call("log", ["first line"]) is None
    assert runtime.call("chatty", ["via print"]) == "via print"  # stdout of user code -> stderr
    assert runtime.call("add", [2, 3]) == 5  # the protocol stream is intact
    runtime.close()  # joins the forwarding thread
    assert "[w] first line" in sink.lines
    assert "[w] chatty says via print" in sink.lines
    assert "[w] raw fd1 write" in sink.lines


def test_import_failure_is_a_start_error(make_subprocess: SubprocessFactory, tmp_path: Path) -> None:
    (tmp_path / "wrappers" / "broken_mod.py").write_text("raise RuntimeError('no import for you')\n")
    runtime = make_subprocess(module_name="broken_mod")
    with pytest.raises(WorkerStartError) as info:
        runtime.call("anything")
    assert "no import for you" in str(info.value)
    assert "broken_mod" in str(info.value)


def test_missing_interpreter_is_a_start_error(make_subprocess: SubprocessFactory, tmp_path: Path) -> None:
    runtime = make_subprocess(python=str(tmp_path / "no-such-python"))
    with pytest.raises(WorkerStartError):
        runtime.call("add", [1, 2])


def test_unencodable_argument(make_subprocess: SubprocessFactory) -> None:
    runtime = make_subprocess()
    with pytest.raises(ValueCodecError):
        runtime.call("echo", [object()])
    assert runtime.pid is None  # rejected before a worker was needed


def test_close_fails_inflight_calls(make_subprocess: SubprocessFactory) -> None:
    runtime = make_subprocess(shutdown_grace=0.5)
    future = runtime.submit("hang", ["closing"])
    runtime.call("wasmtool.ping")
    pid = runtime.pid
    assert pid is not None
    runtime.close()
    with pytest.raises(RuntimeClosedError, match="hang: the runtime was closed"):
        future.result(timeout=30)
    assert_reaped(pid)


def test_garbage_collection_stops_the_worker(module_dir: Path) -> None:
    import gc

    from wasmtool.run import SubprocessRuntime

    runtime = SubprocessRuntime("wt_fixture", python=sys.executable, paths=[str(module_dir)])
    pid = runtime.call("getpid")
    del runtime
    gc.collect()
    assert_reaped(pid)


def test_random_mix_of_outcomes(make_subprocess: SubprocessFactory) -> None:
    """Results and errors interleaved in one pipeline each reach their own caller."""
    runtime = make_subprocess()
    rng = random.Random(1234)
    plan = [rng.choice(["ok", "err", "async"]) for _ in range(300)]
    futures = []
    for i, kind in enumerate(plan):
        if kind == "ok":
            futures.append(runtime.submit("sjitter", [i]))
        elif kind == "async":
            futures.append(runtime.submit("jitter", [i]))
        else:
            futures.append(runtime.submit("fail", [f"no {i}"]))
    for i, (kind, future) in enumerate(zip(plan, futures, strict=True)):
        if kind == "err":
            exc = future.exception(timeout=60)
            assert isinstance(exc, RemotePythonError)
            assert exc.python_message == f"no {i}"
        else:
            assert future.result(timeout=60) == i


def test_worker_on_another_python(module_dir: Path, make_subprocess: SubprocessFactory) -> None:
    """The worker is stdlib-only and runs on target Pythons other than wasmtool's own: here
    Debian's python3.11 (tests/conftest.py OTHER_PYTHON; the test fails without it)."""
    python = other_python()
    (module_dir / "wt_where.py").write_text(
        "import sys\n"
        "from wt_fixture import add, cancelled_tags, echo, fail, hang\n\n\n"
        "def where():\n"
        "    return [sys.executable, list(sys.version_info[:2])]\n")
    runtime = make_subprocess(python=python, module_name="wt_where")
    assert runtime.call("where") == [python, [int(v) for v in OTHER_VERSION.split(".")]]
    assert runtime.call("add", [1, 2]) == 3
    assert runtime.call("echo", [2**70]) == 2**70
    with pytest.raises(CallTimeoutError) as info:
        runtime.call("hang", ["other-python"], timeout=0.2)
    assert info.value.side == "worker"
    assert runtime.call("cancelled_tags") == ["other-python"]
    with pytest.raises(RemotePythonError) as raised:
        runtime.call("fail", ["x"])
    assert (raised.value.python_type, raised.value.python_message) == ("ValueError", "x")
