"""The real worker on raw pipes: phase 14 gates and acceptance 51-52 at the wire level."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.skip_policy import POSIX_ONLY

from .conftest import RawWorker

pytestmark = [
    pytest.mark.timeout(60),
    POSIX_ONLY,  # POSIX pipes and signals
]

RawFactory = Callable[..., RawWorker]


def request(request_id: int | None, method: str, params: Any = None, **extension: Any) -> bytes:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if request_id is not None:
        message["id"] = request_id
    if params is not None:
        message["params"] = params
    if extension:
        message["wasmtool"] = extension
    return json.dumps(message).encode() + b"\n"


def test_add_and_clean_close(raw_worker: RawFactory) -> None:
    worker = raw_worker()
    worker.send(request(1, "add", [3, 4]))
    assert worker.recv() == {"jsonrpc": "2.0", "id": 1, "result": 7}
    out, _err, status = worker.finish()
    assert out == b""
    assert status == 0


def test_acceptance_51_bad_version_and_invalid_json(raw_worker: RawFactory) -> None:
    worker = raw_worker()
    worker.send(b'{"jsonrpc":"1.0","id":1,"method":"add","params":[1,2]}\n')
    answer = worker.recv()
    assert answer["error"]["code"] == -32600
    assert answer["id"] == 1
    worker.send(b'{"jsonrpc":"2.0","id":2,"method":\n')
    answer = worker.recv()
    assert answer["error"]["code"] == -32700
    assert answer["id"] is None
    assert "id" in answer  # explicitly null, not missing
    worker.send(request(3, "wasmtool.ping"))
    assert worker.recv() == {"jsonrpc": "2.0", "id": 3, "result": "pong"}


def test_acceptance_52_python_exception(raw_worker: RawFactory) -> None:
    worker = raw_worker()
    worker.send(request(1, "fail", ["it broke"]))
    answer = worker.recv()
    assert answer["id"] == 1
    error = answer["error"]
    assert error["code"] == -32000
    assert error["data"]["type"] == "ValueError"
    assert error["data"]["message"] == "it broke"
    assert "Traceback (most recent call last)" in error["data"]["traceback"]
    assert "in fail" in error["data"]["traceback"]
    assert "ValueError: it broke" in error["data"]["traceback"]


@pytest.mark.parametrize(
    ("frame", "code", "answer_id"),
    [
        (request(1, "nope"), -32601, 1),
        (request(2, "_private"), -32601, 2),
        (request(3, "CONSTANT"), -32601, 3),
        (request(4, "wasmtool.nope"), -32601, 4),
        (request(5, "add", [1]), -32602, 5),
        (request(6, "add", [1, 2, 3]), -32602, 6),
        (request(7, "greet", ["x"], kwargs={"bogus": 1}), -32602, 7),
        (request(8, "echo", [{"$int": "zz"}]), -32602, 8),
        (request(9, "bump", [{"$handle": 42}]), -32602, 9),
        (b'{"jsonrpc":"2.0","id":10,"method":"add","params":5}\n', -32600, 10),
        (b'[{"jsonrpc":"2.0","id":11,"method":"add"}]\n', -32600, None),
        (b'"just a string"\n', -32600, None),
        (b"\xff\xfe\n", -32700, None),
        (b"\n", -32700, None),
    ],
)
def test_error_codes(raw_worker: RawFactory, frame: bytes, code: int, answer_id: Any) -> None:
    worker = raw_worker()
    worker.send(frame)
    answer = worker.recv()
    assert answer["jsonrpc"] == "2.0"
    assert answer["error"]["code"] == code
    assert answer["id"] == answer_id
    assert isinstance(answer["error"]["message"], str)


def test_kwargs_named_params_and_crlf(raw_worker: RawFactory) -> None:
    worker = raw_worker()
    worker.send(request(1, "greet", {"name": "ann", "punct": "?"}).replace(b"\n", b"\r\n"))
    assert worker.recv()["result"] == "hello ann?"
    worker.send(request(2, "greet", ["bob"], kwargs={"punct": "."}))
    assert worker.recv()["result"] == "hello bob."


def test_notification_gets_no_answer(raw_worker: RawFactory) -> None:
    worker = raw_worker()
    worker.send(request(None, "add", [1, 2]))
    worker.send(request(None, "nope"))
    worker.send(request(1, "wasmtool.ping"))
    assert worker.recv() == {"jsonrpc": "2.0", "id": 1, "result": "pong"}


def test_oversize_frame_is_answered_and_stream_stays_in_sync(raw_worker: RawFactory) -> None:
    worker = raw_worker("--max-frame", "200")
    worker.send(request(1, "echo", ["x" * 500]))
    answer = worker.recv()
    assert answer["error"]["code"] == -32600
    assert answer["id"] is None
    assert "200-byte cap" in answer["error"]["message"]
    worker.send(request(2, "echo", ["y" * 10]))
    assert worker.recv()["result"] == "y" * 10
    worker.send(request(3, "repeat", ["z", 300]))  # the answer would be too big
    answer = worker.recv()
    assert answer["id"] == 3
    assert answer["error"]["code"] == -32603


def test_truncated_input_then_exit(raw_worker: RawFactory) -> None:
    worker = raw_worker()
    worker.send(b'{"jsonrpc":"2.0","id":1,"method":"add"')
    out, _err, status = worker.finish()
    answer = json.loads(out)
    assert answer["error"]["code"] == -32700
    assert answer["id"] is None
    assert "ended inside a frame" in answer["error"]["message"]
    assert status == 0


def test_shutdown(raw_worker: RawFactory) -> None:
    worker = raw_worker()
    worker.send(request(1, "wasmtool.shutdown"))
    assert worker.recv() == {"jsonrpc": "2.0", "id": 1, "result": None}
    assert worker.proc.wait(timeout=30) == 0


def test_prints_do_not_corrupt_stdout(raw_worker: RawFactory) -> None:
    worker = raw_worker()
    worker.send(request(1, "chatty", ["hi"]))
    assert worker.recv() == {"jsonrpc": "2.0", "id": 1, "result": "hi"}
    worker.send(request(2, "log", ["to stderr"]))  # after: concurrent prints may interleave
    assert worker.recv() == {"jsonrpc": "2.0", "id": 2, "result": None}
    out, err, status = worker.finish()
    assert out == b""
    assert b"chatty says hi" in err
    assert b"raw fd1 write" in err
    assert b"to stderr" in err
    assert status == 0


def test_reserved_methods_and_handles(raw_worker: RawFactory) -> None:
    worker = raw_worker()
    worker.send(request(1, "wasmtool.methods"))
    methods = worker.recv()["result"]
    assert "add" in methods
    assert "Counter" in methods  # classes are callables too
    assert not {"_private", "CONSTANT", "asyncio", "os"} & set(methods)
    worker.send(request(2, "make_counter"))
    handle = worker.recv()["result"]
    assert handle == {"$handle": 1}
    for expected in (1, 2):
        worker.send(request(3, "bump", [handle]))
        assert worker.recv()["result"] == expected
    worker.send(request(4, "wasmtool.release", [handle, 77]))
    assert worker.recv()["result"] == 1
    worker.send(request(5, "bump", [handle]))
    assert worker.recv()["error"]["code"] == -32602


def test_timeout_extension_cancels_the_task(raw_worker: RawFactory) -> None:
    worker = raw_worker()
    worker.send(request(1, "hang", ["t"], timeout=0.2))
    answer = worker.recv()
    assert answer["error"]["code"] == -32002
    assert answer["error"]["data"]["type"] == "TimeoutError"
    worker.send(request(2, "cancelled_tags"))
    assert worker.recv()["result"] == ["t"]
    worker.send(request(3, "wasmtool.cancelled"))
    assert worker.recv()["result"] == 1


def test_cancel_request(raw_worker: RawFactory) -> None:
    worker = raw_worker()
    worker.send(request(1, "hang", ["c"]))
    worker.send(request(2, "wasmtool.cancel", [1]))
    answers = {a["id"]: a for a in (worker.recv(), worker.recv())}
    assert answers[2]["result"] is True
    assert answers[1]["error"]["code"] == -32003
    assert answers[1]["error"]["data"]["type"] == "CancelledError"
    worker.send(request(3, "wasmtool.cancel", [1]))  # no longer in flight
    assert worker.recv()["result"] is False


def test_import_failure_exits_3(tmp_path: Path) -> None:
    (tmp_path / "broken_mod.py").write_text("raise RuntimeError('cannot load me')\n")
    import subprocess

    from wasmtool.run.subprocess_runtime import worker_command

    proc = subprocess.run(
        worker_command(sys.executable, "broken_mod", paths=[str(tmp_path)]),
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 3
    assert proc.stdout == b""
    assert b"RuntimeError: cannot load me" in proc.stderr


def test_usage_error_exits_2() -> None:
    import subprocess

    from wasmtool.run.subprocess_runtime import worker_command

    argv = worker_command(sys.executable, "x")
    argv.remove("--module")
    argv.remove("x")
    proc = subprocess.run(argv, capture_output=True, stdin=subprocess.DEVNULL, timeout=60, check=False)
    assert proc.returncode == 2
