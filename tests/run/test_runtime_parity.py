"""The same table of calls gives the same outcome in-process and in a worker subprocess."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.skip_policy import POSIX_ONLY
from wasmtool.run import (
    CallTimeoutError,
    Handle,
    InProcessRuntime,
    PipelinedRuntime,
    RemotePythonError,
    Runtime,
    SubprocessRuntime,
)
from wasmtool.run.errors import RemoteError

from .conftest import SubprocessFactory

pytestmark = [
    pytest.mark.timeout(120),
    POSIX_ONLY,  # POSIX pipes and signals
]

CALLS: list[tuple[str, list[Any], dict[str, Any], float | None]] = [
    ("add", [2, 3], {}, None),
    ("add", ["a", "b"], {}, None),
    ("greet", ["bob"], {"punct": "?"}, None),
    ("greet", [], {"name": "kw"}, None),
    ("aadd", [10, 20], {}, None),
    ("values", [], {}, None),
    ("echo", [{"$int": "5"}], {}, None),
    ("echo", [[1, [2, (3, 4)]]], {}, None),
    ("echo", [b"\x00bytes"], {}, None),
    ("echo", [2**80], {}, None),
    ("echo", [-(2**53)], {}, None),
    ("echo", [float("nan")], {}, None),
    ("echo", [{1: {2: 3}}], {}, None),
    ("echo", [{(1, "a"): [None, True]}], {}, None),
    ("fail", ["boom"], {}, None),
    ("afail", ["k"], {}, None),
    ("missing", [], {}, None),
    ("add", [1], {}, None),
    ("hang", ["parity"], {}, 0.2),
    ("wasmtool.ping", [], {}, None),
]


def _normalise(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return "<nan>"
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    return value


def outcome(
    runtime: Runtime, method: str, args: list[Any], kwargs: dict[str, Any], timeout: float | None
) -> Any:
    try:
        return ("ok", _normalise(runtime.call(method, args, kwargs, timeout=timeout)))
    except RemotePythonError as exc:
        return ("raised", type(exc).__name__, exc.python_type, exc.python_message)
    except RemoteError as exc:
        return ("rpc-error", type(exc).__name__, exc.rpc_code)
    except CallTimeoutError as exc:
        return ("timeout", exc.method)


def test_same_outcomes(inprocess: InProcessRuntime, make_subprocess: SubprocessFactory) -> None:
    with make_subprocess() as worker:
        for method, args, kwargs, timeout in CALLS:
            local = outcome(inprocess, method, args, kwargs, timeout)
            remote = outcome(worker, method, args, kwargs, timeout)
            assert local == remote, f"{method}{args}: in-process {local} != subprocess {remote}"


def test_table_outcomes_are_the_expected_ones(inprocess: InProcessRuntime) -> None:
    """Pin the shared outcomes so 'both wrong the same way' fails too."""
    got = {(m, repr(a)): outcome(inprocess, m, a, k, t) for m, a, k, t in CALLS}
    assert got[("add", "[2, 3]")] == ("ok", 5)
    assert got[("fail", "['boom']")] == ("raised", "RemotePythonError", "ValueError", "boom")
    assert got[("afail", "['k']")] == ("raised", "RemotePythonError", "KeyError", "'k'")
    assert got[("missing", "[]")] == ("rpc-error", "MethodNotFoundError", -32601)
    assert got[("add", "[1]")] == ("rpc-error", "InvalidParamsError", -32602)
    assert got[("hang", "['parity']")] == ("timeout", "hang")
    assert got[("echo", "[[1, [2, (3, 4)]]]")] == ("ok", [1, [2, [3, 4]]])
    values = got[("values", "[]")][1]
    assert values["big"] == 2**64 + 1
    assert values["nan"] == "<nan>"
    assert values["inf"] == math.inf
    assert values["bytes"] == b"\x00\xffabc"
    assert values["intkeys"] == {1: "one", 2: "two"}
    assert values["tuplekeys"] == {(1, 2): "pair"}
    assert values["set"] == [1, 2, 3]
    assert values["tagged"] == {"$int": "not an int"}


def test_handles_behave_alike(inprocess: InProcessRuntime, make_subprocess: SubprocessFactory) -> None:
    with make_subprocess() as worker:
        for runtime in (inprocess, worker):
            counter = runtime.call("make_counter")
            assert isinstance(counter, Handle)
            assert [runtime.call("bump", [counter]) for _ in range(3)] == [1, 2, 3]


def test_protocol_conformance(inprocess: InProcessRuntime, make_subprocess: SubprocessFactory) -> None:
    worker = make_subprocess()
    assert isinstance(inprocess, PipelinedRuntime)
    assert isinstance(worker, PipelinedRuntime)
    assert isinstance(worker, SubprocessRuntime)
    assert inprocess.submit("add", [1, 1]).result() == worker.submit("add", [1, 1]).result() == 2
