"""Fixtures for the runtime tests: a wrapper-like module written into tmp_path, runtime
factories that always close what they start, and helpers to check processes are reaped."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from wasmtool.cli.call_cmd import call_command, run_command
from wasmtool.cli.main import cli, main
from wasmtool.run import InProcessRuntime, SubprocessRuntime
from wasmtool.run.subprocess_runtime import worker_command

MODULE_NAME = "wt_fixture"

#: A module of flat functions like the generated wrappers: sync, async, raising,
#: never-ending, wire-value heavy, printing, crashing.
FIXTURE_SOURCE = textwrap.dedent(
    '''
    """Fixture wrapper module for tests/run."""
    import asyncio
    import os
    import random
    import sys
    import time

    CONSTANT = 3  # not callable: not a method
    _cancelled = []
    _started = []
    _loops = []


    def _private():
        return "hidden"


    def add(a, b):
        return a + b


    def greet(name, *, punct="!"):
        return f"hello {name}{punct}"


    async def aadd(a, b):
        await asyncio.sleep(0)
        return a + b


    def fail(message):
        raise ValueError(message)


    async def afail(key):
        await asyncio.sleep(0)
        raise KeyError(key)


    async def hang(tag):
        _started.append(tag)
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            _cancelled.append(tag)
            raise


    def cancelled_tags():
        return list(_cancelled)


    def started_tags():
        return list(_started)


    def values():
        return {
            "safe": 2**53 - 1,
            "big": 2**64 + 1,
            "neg": -(2**70),
            "nan": float("nan"),
            "inf": float("inf"),
            "ninf": float("-inf"),
            "bytes": b"\\x00\\xffabc",
            "intkeys": {1: "one", 2: "two"},
            "tuplekeys": {(1, 2): "pair"},
            "tuple": (1, 2, 3),
            "set": {3, 1, 2},
            "tagged": {"$int": "not an int"},
        }


    def echo(value):
        return value


    def repeat(text, times):
        return text * times


    def chatty(x):
        print("chatty says", x)
        sys.stdout.flush()
        os.write(1, b"raw fd1 write\\n")
        return x


    def log(message):
        print(message, file=sys.stderr)


    async def jitter(i):
        await asyncio.sleep(random.random() * 0.01)
        return i


    def sjitter(i):
        time.sleep(random.random() * 0.002)
        return i


    async def loop_count():
        loop = asyncio.get_running_loop()
        if not any(known is loop for known in _loops):
            _loops.append(loop)
        return len(_loops)


    def getpid():
        return os.getpid()


    def block_until_killed(marker):
        with open(marker + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.replace(marker + ".tmp", marker)
        time.sleep(3600)


    def gate(path):
        while not os.path.exists(path):
            time.sleep(0.01)
        return "opened"


    def crash(status):
        sys.stderr.write("about to crash\\n")
        sys.stderr.flush()
        os._exit(status)


    class Counter:
        def __init__(self):
            self.n = 0


    def make_counter():
        return Counter()


    def bump(counter):
        counter.n += 1
        return counter.n
    '''
)


@pytest.fixture
def module_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "wrappers"
    directory.mkdir()
    (directory / f"{MODULE_NAME}.py").write_text(FIXTURE_SOURCE)
    return directory


def load_module(directory: Path, name: str = MODULE_NAME) -> ModuleType:
    """Import ``directory/name.py`` under a unique name (no sys.modules clashes between tests)."""
    unique = f"{name}_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(unique, directory / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fixture_module(module_dir: Path) -> ModuleType:
    return load_module(module_dir)


class StderrLines:
    """A thread-safe stderr sink (list.append is atomic)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)


SubprocessFactory = Callable[..., SubprocessRuntime]


@pytest.fixture
def make_subprocess(module_dir: Path) -> Iterator[SubprocessFactory]:
    """Build SubprocessRuntimes serving the fixture module; all are closed at teardown
    and every worker process they started must be gone (reaped) by then."""
    made: list[SubprocessRuntime] = []
    pids: list[int] = []

    def factory(**overrides: Any) -> SubprocessRuntime:
        options: dict[str, Any] = {"python": sys.executable, "paths": [str(module_dir)]}
        options.update(overrides)
        module = options.pop("module_name", MODULE_NAME)
        runtime = SubprocessRuntime(module, **options)
        made.append(runtime)
        return runtime

    yield factory
    for runtime in made:
        worker = runtime._state.worker
        if worker is not None:
            pids.append(worker.pid)
        runtime.close()
    for pid in pids:
        assert_reaped(pid)


def assert_reaped(pid: int) -> None:
    """``pid`` (a child of this process) has exited and been waited for: no zombie."""
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    if sys.platform.startswith("linux"):
        assert not Path(f"/proc/{pid}").exists(), f"process {pid} still exists (zombie or running)"


def wait_until(predicate: Callable[[], bool], *, what: str, limit: float = 30.0) -> None:
    """Poll ``predicate``; the limit only guards against hangs, it is not asserted timing."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


class RawWorker:
    """The real worker on raw pipes: send bytes, read answer frames as JSON."""

    def __init__(self, module_dir: Path, *extra: str) -> None:
        argv = worker_command(sys.executable, MODULE_NAME, paths=[str(module_dir)]) + list(extra)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )

    def send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def recv_line(self) -> bytes:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline()

    def recv(self) -> Any:
        import json

        line = self.recv_line()
        assert line.endswith(b"\n"), f"no complete frame: {line!r}"
        return json.loads(line)

    def finish(self, timeout: float = 30) -> tuple[bytes, bytes, int]:
        """Close stdin; the rest of stdout, all of stderr, the exit status."""
        out, err = self.proc.communicate(timeout=timeout)
        return out, err, self.proc.returncode

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()


@pytest.fixture
def raw_worker(module_dir: Path) -> Iterator[Callable[..., RawWorker]]:
    started: list[RawWorker] = []

    def factory(*extra: str) -> RawWorker:
        worker = RawWorker(module_dir, *extra)
        started.append(worker)
        return worker

    yield factory
    for worker in started:
        worker.close()
        assert_reaped(worker.proc.pid)


@pytest.fixture
def inprocess(fixture_module: ModuleType) -> Iterator[InProcessRuntime]:
    with InProcessRuntime(fixture_module, roundtrip=True) as runtime:
        yield runtime


def _worker_children() -> list[str]:
    """Live or zombie child processes of this process that are workers (Linux only)."""
    found: list[str] = []
    for children in Path("/proc/self/task").glob("*/children"):
        try:
            pids = children.read_text().split()
        except OSError:  # the thread ended between listing and reading
            continue
        for pid in pids:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "wasmtool_runtime" in cmdline or "fake_worker" in cmdline:
                found.append(f"{pid}: {cmdline[:120]}")
    return found


@pytest.fixture(autouse=True)
def no_orphan_workers() -> Iterator[None]:
    """Every test in tests/run leaves no worker process (running or zombie) behind."""
    yield
    if sys.platform.startswith("linux") and Path("/proc/self/task").is_dir():
        assert _worker_children() == []


@contextmanager
def wrappers_forgotten(package: str) -> Iterator[None]:
    """Around a test that opens embedded sessions: they must restore ``sys.path``; the
    wrapper modules and ``package`` they imported are dropped afterwards."""
    before = list(sys.path)
    yield
    assert sys.path == before, "a session left sys.path changed"
    for name in [m for m in sys.modules if m.startswith(("python_wrap", "_mochi_wrap", package))]:
        del sys.modules[name]


@pytest.fixture
def run_cli(capfd: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """``wasmtool.cli.main.main`` (the real error -> exit code mapping) with call/run registered."""
    added = [c for c in (call_command, run_command) if c.name not in cli.commands]
    for command in added:
        cli.add_command(command)

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capfd.readouterr()
        return code, out, err

    yield invoke
    for command in added:
        cli.commands.pop(str(command.name), None)
