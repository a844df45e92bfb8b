"""InProcessRuntime: async modes (acceptance 54-56, phases 12.2/12.3), errors, roundtrip."""

from __future__ import annotations

import asyncio
import threading
from types import ModuleType

import pytest

from wasmtool.run import (
    AsyncReentryError,
    CallTimeoutError,
    InProcessRuntime,
    InvalidParamsError,
    MethodNotFoundError,
    RemotePythonError,
    RuntimeClosedError,
)


def test_acceptance_54_per_call_uses_a_new_loop_each_time(fixture_module: ModuleType) -> None:
    with InProcessRuntime(fixture_module, async_mode="per-call") as runtime:
        assert runtime.call("loop_count") == 1
        assert runtime.call("loop_count") == 2
        assert runtime.loops_created == 2


def test_acceptance_55_persistent_uses_one_loop(fixture_module: ModuleType) -> None:
    with InProcessRuntime(fixture_module, async_mode="persistent") as runtime:
        assert {runtime.call("loop_count") for _ in range(100)} == {1}
        assert runtime.loops_created == 1


def test_persistent_loop_from_threads_is_created_once(fixture_module: ModuleType) -> None:
    with InProcessRuntime(fixture_module, async_mode="persistent") as runtime:
        seen: list[int] = []
        barrier = threading.Barrier(8)

        def caller() -> None:
            barrier.wait()  # all threads race for the first (loop-creating) call
            seen.extend(runtime.call("loop_count") for _ in range(100))
            seen.extend(runtime.call("aadd", [i, 1]) - i for i in range(10))

        threads = [threading.Thread(target=caller) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(seen) == 8 * 110
        assert set(seen) == {1}
        assert runtime.loops_created == 1


@pytest.mark.parametrize("mode", ["per-call", "persistent"])
def test_acceptance_56_reentry_is_refused(fixture_module: ModuleType, mode: str) -> None:
    with InProcessRuntime(fixture_module, async_mode=mode) as runtime:  # type: ignore[arg-type]

        async def inside_a_loop() -> None:
            assert runtime.call("add", [1, 2]) == 3  # sync methods are fine
            with pytest.raises(AsyncReentryError, match="aadd"):
                runtime.call("aadd", [1, 2])

        asyncio.run(inside_a_loop())
        assert runtime.call("aadd", [1, 2]) == 3  # and fine again outside


@pytest.mark.parametrize("mode", ["per-call", "persistent"])
def test_timeout_cancels_the_task(fixture_module: ModuleType, mode: str) -> None:
    with InProcessRuntime(fixture_module, async_mode=mode) as runtime:  # type: ignore[arg-type]
        with pytest.raises(CallTimeoutError) as info:
            runtime.call("hang", ["local"], timeout=0.05)
        assert info.value.side == "in-process"
        assert runtime.call("cancelled_tags") == ["local"]
        assert runtime.cancelled == 1


def test_errors(fixture_module: ModuleType) -> None:
    with InProcessRuntime(fixture_module) as runtime:
        with pytest.raises(RemotePythonError) as info:
            runtime.call("fail", ["x"])
        assert isinstance(info.value.__cause__, ValueError)
        assert "in fail" in info.value.traceback
        with pytest.raises(MethodNotFoundError):
            runtime.call("_private")
        with pytest.raises(MethodNotFoundError):
            runtime.call("CONSTANT")
        with pytest.raises(InvalidParamsError):
            runtime.call("greet", ["a"], {"nope": 1})
        assert runtime.submit("fail", ["y"]).exception() is not None
    with pytest.raises(RuntimeClosedError):
        runtime.call("add", [1, 2])


def test_without_roundtrip_values_are_untouched(fixture_module: ModuleType) -> None:
    with InProcessRuntime(fixture_module) as runtime:
        assert runtime.call("echo", [(1, 2)]) == (1, 2)
        counter = runtime.call("make_counter")
        assert type(counter).__name__ == "Counter"
        assert runtime.call("bump", [counter]) == 1
    with InProcessRuntime(fixture_module, roundtrip=True) as runtime:
        assert runtime.call("echo", [(1, 2)]) == [1, 2]


def test_methods_and_module_by_name() -> None:
    with InProcessRuntime("json") as runtime:
        assert "dumps" in runtime.methods
        assert runtime.call("dumps", [[1]]) == "[1]"


def test_bad_async_mode(fixture_module: ModuleType) -> None:
    with pytest.raises(ValueError, match="async_mode"):
        InProcessRuntime(fixture_module, async_mode="sometimes")  # type: ignore[arg-type]
