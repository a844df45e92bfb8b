"""Sessions: one entry point dispatching to the in-process or the subprocess runtime.

A synthetic package is mapped and its wrapper GENERATED (parse_stub -> map_module ->
render_workspace, no network) into ``<project>/.mochi/python_workspace``. The project venv
is a real one created in tmp with ``python -m venv --without-pip`` from this interpreter
(same major.minor, as embedded mode requires); the package is installed by copying it into
that venv's ``site-packages``. So the worker runs with an interpreter whose environment
holds only the package (not wasmtool's dependencies), and embedded mode has to put that
venv's ``site-packages`` on ``sys.path`` itself - both are what a real project looks like.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import venv as venv_module
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.skip_policy import POSIX_ONLY
from wasmtool.ops.session import open_session
from wasmtool.run import Handle, RemotePythonError
from wasmtool.run.errors import RemoteError, RuntimeClosedError, WorkerStartError
from wasmtool.run.session import (
    EmbeddedWorkspaceConflictError,
    InterpreterMismatchError,
    ProjectVenvError,
    Session,
    SessionConfigError,
    UnknownFunctionError,
    UnsupportedTargetError,
    WorkspaceMissingError,
)
from wasmtool.stubs.pyi import parse_stub
from wasmtool.synth.workspace import render_workspace
from wasmtool.typemap.lower import map_module

from .conftest import assert_reaped, wrappers_forgotten

pytestmark = [
    pytest.mark.timeout(180),
    POSIX_ONLY,  # POSIX venv layout and process checks
]

PKG = "wtsesspkg"
ALIAS = "wts"

SOURCE = '''
import asyncio
import threading
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Point:
    x: int
    label: str


class Counter:
    def __init__(self, start: int = 0) -> None:
        self.value = start

    def add(self, n: int) -> int:
        self.value += n
        return self.value


def add(a: int, b: int = 2) -> int:
    return a + b


def scale(p: Point, factor: int) -> Point:
    return Point(p.x * factor, p.label)


def pair(a: int, b: str) -> tuple[int, str]:
    return (a, b)


def checksum(data: bytes) -> bytes:
    return bytes([sum(data) % 256])


def maybe(x: Optional[int]) -> Optional[int]:
    return None if x is None else x + 1


def big(n: int) -> int:
    return 2 ** n


def ratio(a: float, b: float) -> float:
    return a / b


def boom(message: str) -> int:
    raise ValueError(message)


async def slow(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "done"


async def aecho(text: str) -> str:
    await asyncio.sleep(0)
    return text


async def afail(key: str) -> int:
    await asyncio.sleep(0)
    raise KeyError(key)


async def tag(i: int) -> str:
    await asyncio.sleep(0.001)
    return f"{i}:{id(asyncio.get_running_loop())}:{threading.get_ident()}"


_meetings: dict[int, threading.Barrier] = {}
_meetings_lock = threading.Lock()
_ameetings: dict[int, asyncio.Barrier] = {}


def rendezvous(parties: int, timeout: float) -> int:
    """Returns (its arrival index) only once ``parties`` calls are inside at the same time."""
    with _meetings_lock:
        barrier = _meetings.setdefault(parties, threading.Barrier(parties))
    return barrier.wait(timeout)


async def arendezvous(parties: int, timeout: float) -> int:
    """The same on the running loop (persistent mode: one loop serves every call)."""
    barrier = _ameetings.setdefault(parties, asyncio.Barrier(parties))
    return await asyncio.wait_for(barrier.wait(), timeout)
'''

#: name, args, kwargs. The session timeout is 1 s: ``slow(30)`` must time out.
CALLS: list[tuple[str, list[Any], dict[str, Any]]] = [
    ("wts.add", [1], {}),
    ("wts_add", [40], {}),
    ("wts.add_full", [], {"a": 1, "b": 10}),
    ("wts.add_full", [1, None], {}),
    ("wts.scale", [{"x": 2, "label": "p"}, 3], {}),
    ("wts.pair", [7, "seven"], {}),
    ("wts.checksum", [[1, 2, 3]], {}),
    ("wts.maybe", [None], {}),
    ("wts.maybe", [1], {}),
    ("wts.big", [80], {}),
    ("wts.ratio", [1.0, 4.0], {}),
    ("wts.Counter_new_full", [5], {}),
    ("wts.Counter.add", [Handle(1), 2], {}),
    ("wts.slow", [0.0], {}),
    ("wts.slow_sync", [0.0], {}),
    ("wts.aecho", ["héllo"], {}),
    ("wts.boom", ["bad value"], {}),
    ("wts.afail", ["k"], {}),
    ("wts.scale", [{"x": "2", "label": "p"}, 3], {}),
    ("wts.add", [], {}),
    ("wts.slow", [30.0], {}),
]

EXPECTED: list[Any] = [
    ("ok", 3),
    ("ok", 42),
    ("ok", 11),
    ("ok", 3),
    ("ok", {"x": 6, "label": "p"}),
    ("ok", {"t0": 7, "t1": "seven"}),
    ("ok", [6]),
    ("ok", None),
    ("ok", 2),
    ("ok", 2**80),
    ("ok", 0.25),
    ("ok", Handle(1)),
    ("ok", 7),
    ("ok", "done"),
    ("ok", "done"),
    ("ok", "héllo"),
    ("raised", "ValueError", "bad value"),
    ("raised", "KeyError", "'k'"),
    ("raised", "_mochi_wrap.BoundaryTypeError", "wts_scale: p.x: expected int, got str"),
    ("rpc-error", "InvalidParamsError"),
    ("raised", "_mochi_wrap.WrapperTimeoutError", "wts_slow_sync: no result within 1 s; the task was cancelled"),
]


def _outcome(session: Session, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    try:
        value = session.call(name, args, kwargs)
    except RemotePythonError as exc:
        return ("raised", exc.python_type, exc.python_message)
    except RemoteError as exc:
        return ("rpc-error", type(exc).__name__)
    if isinstance(value, float) and math.isnan(value):
        return ("ok", "<nan>")
    return ("ok", value)


# -- the project ---------------------------------------------------------------------------------


def make_venv(path: Path, python: str = sys.executable) -> Path:
    """A real, empty (no pip) venv of ``python``; the package is installed by copying it in."""
    if python == sys.executable:
        venv_module.EnvBuilder(with_pip=False, symlinks=True).create(path)
    else:
        subprocess.run([python, "-m", "venv", "--without-pip", str(path)], check=True, timeout=120,
                       capture_output=True)
    return path


def install_package(venv: Path) -> None:
    sites = sorted(venv.glob("lib/python*/site-packages"))
    assert len(sites) == 1, sites
    (sites[0] / PKG).mkdir()
    (sites[0] / PKG / "__init__.py").write_text(SOURCE)


def make_project(root: Path, *, runtime_mode: str | None = None, venv: Path | None = None,
                 async_mode: str | None = None) -> Path:
    """``mochi.toml`` + a GENERATED workspace binding the synthetic package as ``wts``."""
    root.mkdir(parents=True, exist_ok=True)
    lines = ['name = "session-test"', "", "[python]", 'requires-python = ">=3.12"']
    if runtime_mode:
        lines.append(f'runtime-mode = "{runtime_mode}"')
    if async_mode:
        lines.append(f'async-mode = "{async_mode}"')
    if venv is not None:
        lines.append(f'venv = "{venv}"')
    (root / "mochi.toml").write_text("\n".join(lines) + "\n")
    stub = parse_stub(SOURCE, module=PKG, file=f"{PKG}/__init__.py", python_version=(3, 12))
    surface = map_module([stub], dist=PKG, version="1.0", alias=ALIAS, import_names=[PKG], tier="py.typed")
    workspace = root / ".mochi" / "python_workspace"
    render_workspace([surface]).write(workspace)
    (workspace / "bindings.json").write_text(json.dumps(
        {"target": "native", "bindings": {ALIAS: {"dist": PKG, "version": "1.0"}}}, indent=1) + "\n")
    return root


@pytest.fixture(scope="module")
def project_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = make_venv(tmp_path_factory.mktemp("venv") / "venv")
    install_package(venv)
    return venv


@pytest.fixture
def project(tmp_path: Path, project_venv: Path) -> Path:
    """A project whose ``[python].venv`` is the shared tmp venv (absolute path)."""
    return make_project(tmp_path / "proj", venv=project_venv)


@pytest.fixture(autouse=True)
def _no_leftover_wrappers() -> Iterator[None]:
    with wrappers_forgotten(PKG):
        yield


# -- parity --------------------------------------------------------------------------------------------


def test_the_same_table_of_calls_gives_the_same_results_in_both_modes(project: Path) -> None:
    outcomes: dict[str, list[Any]] = {}
    for mode in ("inprocess", "subprocess"):
        with open_session(project, mode=mode, timeout=1.0) as session:
            outcomes[mode] = [_outcome(session, *call) for call in CALLS]
    assert outcomes["inprocess"] == outcomes["subprocess"]
    assert outcomes["inprocess"] == EXPECTED


def test_persistent_async_mode_gives_the_same_results(project: Path) -> None:
    """persistent: one loop serves every async call (in the process that runs the wrapper)."""
    loops: dict[str, set[str]] = {}
    for mode in ("embedded", "subprocess"):
        with open_session(project, mode=mode, async_mode="persistent", timeout=1.0) as session:
            assert session.async_mode == "persistent"
            assert [_outcome(session, *call) for call in CALLS] == EXPECTED
            tags = [session.call("wts.tag", [i]) for i in range(5)]
            assert [t.split(":")[0] for t in tags] == [str(i) for i in range(5)]
            loops[mode] = {t.split(":")[1] for t in tags}
    assert all(len(ids) == 1 for ids in loops.values()), loops


def test_names_resolve_to_extern_and_module(project: Path) -> None:
    with open_session(project, mode="subprocess") as session:
        assert sorted(session.aliases) == [ALIAS]
        bound = session.aliases[ALIAS]
        assert (bound.dist, bound.version, bound.module) == (PKG, "1.0", f"python_wrap.{ALIAS}.{PKG}_externs")
        names = [f.name for f in session.functions(ALIAS)]
        assert "wts_add" in names and "wts_slow_sync" in names and names == sorted(names)
        assert session.resolve("wts.add").name == "wts_add"
        assert session.resolve("wts_add").module == f"python_wrap.{ALIAS}.{PKG}_externs"
        assert session.resolve("wts.slow").name == "wts_slow_sync"          # by the Python target
        assert session.resolve("wts.slow").is_async
        assert session.resolve("wts.Counter.add").name == "wts_Counter_add"
        with pytest.raises(UnknownFunctionError, match="no such bound function") as info:
            session.resolve("wts.ad")
        assert "wts.add" in info.value.suggestions
        with pytest.raises(UnknownFunctionError, match="no alias 'nope'"):
            session.call("nope.add", [1])
        assert session.worker_pids == []   # nothing was called: no worker started


# -- dispatch from mochi.toml ---------------------------------------------------------------------


@pytest.mark.parametrize(("manifest_mode", "expected"), [(None, "embedded"), ("auto", "embedded"),
                                                         ("embedded", "embedded"), ("inprocess", "embedded"),
                                                         ("subprocess", "subprocess")])
def test_runtime_mode_comes_from_the_manifest(tmp_path: Path, project_venv: Path, manifest_mode: str | None,
                                              expected: str) -> None:
    root = make_project(tmp_path / "proj", runtime_mode=manifest_mode, venv=project_venv)
    with open_session(root) as session:
        assert session.mode == expected
        assert session.auto == (manifest_mode in (None, "auto"))   # the default is auto: this venv matches
        assert session.call("wts.add", [1]) == 3
        pids = session.worker_pids
        if expected == "subprocess":
            assert len(pids) == 1 and pids[0] != os.getpid()
            assert session.python == str(project_venv / "bin" / "python")
        else:
            assert pids == [] and session.site_packages is not None
            assert sys.modules[PKG].__file__.startswith(str(project_venv))  # type: ignore[union-attr]
    with open_session(root, mode="inprocess") as session:     # the argument wins; inprocess = embedded
        assert session.mode == "embedded"


def test_python_option_chooses_the_worker_interpreter(project: Path, project_venv: Path) -> None:
    python = str(project_venv / "bin" / "python")
    with open_session(project, mode="subprocess", python=python) as session:
        assert session.python == python
        assert session.call("wts.add", [2]) == 4


def test_async_mode_comes_from_the_manifest(tmp_path: Path, project_venv: Path) -> None:
    root = make_project(tmp_path / "proj", venv=project_venv, async_mode="persistent")
    with open_session(root, mode="subprocess") as session:
        assert session.async_mode == "persistent"
        assert len({session.call("wts.tag", [i]).split(":")[1] for i in range(3)}) == 1


def test_relative_venv_default_layout(tmp_path: Path, project_venv: Path) -> None:
    """Without [python].venv the project venv is <project>/.mochi/venv."""
    root = make_project(tmp_path / "proj")
    shutil.copytree(project_venv, root / ".mochi" / "venv", symlinks=True)
    with open_session(root, mode="subprocess") as session:
        assert session.python == str(root / ".mochi" / "venv" / "bin" / "python")
        assert session.call("wts.add", [5]) == 7


def test_embedded_settings_and_sys_path_are_restored(project: Path) -> None:
    import importlib

    with open_session(project, mode="embedded", async_mode="persistent", timeout=2.5) as session:
        wrap = importlib.import_module("_mochi_wrap")
        assert (wrap.settings.async_mode, wrap.settings.timeout) == ("persistent", 2.5)
        assert str(session.workspace) == sys.path[0]
    assert (wrap.settings.async_mode, wrap.settings.timeout) == ("per-call", None)


# -- typed errors ------------------------------------------------------------------------------------


def test_embedded_mode_needs_the_same_python(tmp_path: Path) -> None:
    other = tmp_path / "venv310"
    (other / "lib" / "python3.10" / "site-packages").mkdir(parents=True)
    (other / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.10.13\n")
    root = make_project(tmp_path / "proj", venv=other)
    with pytest.raises(InterpreterMismatchError, match=r"Python 3\.10") as info:
        open_session(root, mode="embedded")
    assert info.value.code == "WT705" and "subprocess" in str(info.value)
    with pytest.raises(ProjectVenvError):       # no interpreter in this fake venv
        open_session(root, mode="subprocess")


def test_abi_mismatch_without_pyvenv_version(tmp_path: Path) -> None:
    other = tmp_path / "venvft"
    (other / "lib" / "python3.99t" / "site-packages").mkdir(parents=True)
    root = make_project(tmp_path / "proj", venv=other)
    with pytest.raises(InterpreterMismatchError, match=r"3\.99t"):
        open_session(root, mode="embedded")


def test_other_targets_and_bad_options_are_typed_errors(project: Path, tmp_path: Path) -> None:
    for target in ("pyodide-314", "wasi-p2"):
        with pytest.raises(WorkspaceMissingError, match="no generated Python workspace") as missing:
            open_session(project, target=target)        # nothing bound nor installed for it
        assert target in str(missing.value.file) and missing.value.code == "WT703"
        with pytest.raises(SessionConfigError, match="apply to native targets"):
            open_session(project, target=target, mode="subprocess")
    assert UnsupportedTargetError.code == "WT701"
    with pytest.raises(SessionConfigError, match="runtime mode"):
        open_session(project, mode="threads")
    with pytest.raises(SessionConfigError, match="async mode"):
        open_session(project, async_mode="eager")
    with pytest.raises(SessionConfigError, match="timeout"):
        open_session(project, timeout=0)
    with pytest.raises(SessionConfigError, match="subprocess"):
        open_session(project, mode="embedded", python=sys.executable)
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "mochi.toml").write_text('name = "bare"\n')
    with pytest.raises(WorkspaceMissingError, match="wasmtool install"):
        open_session(bare)


def test_a_missing_package_is_a_start_error_in_both_modes(tmp_path: Path) -> None:
    empty = make_venv(tmp_path / "empty-venv")
    root = make_project(tmp_path / "proj", venv=empty)
    for mode in ("embedded", "subprocess"):
        with open_session(root, mode=mode) as session, pytest.raises(WorkerStartError, match=PKG):
            session.call("wts.add", [1])


def test_two_workspaces_cannot_be_embedded_at_once(tmp_path: Path, project_venv: Path) -> None:
    first = make_project(tmp_path / "one", venv=project_venv)
    second = make_project(tmp_path / "two", venv=project_venv)
    with open_session(first, mode="embedded") as session:
        assert session.call("wts.add", [0]) == 2
        with pytest.raises(EmbeddedWorkspaceConflictError):
            open_session(second, mode="embedded")
        with open_session(second, mode="subprocess") as other:   # a worker has its own process
            assert other.call("wts.add", [1]) == 3
    with open_session(second, mode="embedded") as session:       # after close: the other workspace
        assert session.call("wts.add", [2]) == 4
        assert sys.modules["_mochi_wrap"].__file__.startswith(str(second))  # type: ignore[union-attr]


# -- lifecycle -------------------------------------------------------------------------------------


def test_no_worker_is_left_after_close(project: Path) -> None:
    session = open_session(project, mode="subprocess")
    staging = session._staging
    assert staging is not None and (staging / "wasmtool_runtime").is_dir()
    with session:
        futures = [session.submit("wts.slow", [0.05]) for _ in range(4)]
        assert [f.result(timeout=30) for f in futures] == ["done"] * 4
        pids = session.worker_pids
        assert len(pids) == 1
    assert session.closed and session.worker_pids == []
    assert not staging.exists()
    for pid in pids:
        assert_reaped(pid)
    with pytest.raises(RuntimeClosedError):
        session.call("wts.add", [1])


def test_close_while_a_call_is_in_flight(project: Path) -> None:
    session = open_session(project, mode="subprocess")
    future = session.submit("wts.slow", [30.0])
    session.call("wts.add", [1])      # the worker is up and serving
    pids = session.worker_pids
    session.close()
    # the call fails with the close, not with the 30 s wait (a TimeoutError here is the hang)
    with pytest.raises(RuntimeClosedError, match="wts_slow_sync: the runtime was closed while the call was in flight"):
        future.result(timeout=30)
    for pid in pids:
        assert_reaped(pid)


# -- the CLI ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("runtime", ["inprocess", "subprocess"])
def test_cli_call(project: Path, run_cli: Any, runtime: str) -> None:
    base = ["-C", str(project), "call", "--runtime", runtime]
    assert run_cli(*base, "wts.add", "--args", "[1]") == (0, "3\n", "")
    code, out, _ = run_cli(*base, "wts_add_full", "--kwargs", '{"a": 1, "b": 5}')
    assert (code, json.loads(out)) == (0, 6)
    code, out, _ = run_cli(*base, "wts.big", "--args", "[70]")
    assert (code, json.loads(out)) == (0, {"$int": str(2**70)})                      # formats.md §7 encoding
    code, out, _ = run_cli(*base, "wts.checksum", "--args", '[{"$bytes": "AQID"}]')  # tagged wire value in
    assert (code, json.loads(out)) == (0, [6])
    code, out, _ = run_cli(*base, "wts.Counter_new_full", "--args", "[1]")
    assert (code, json.loads(out)) == (0, {"$handle": 1})
    code, out, err = run_cli(*base, "wts.boom", "--args", '["no good"]', "--traceback")
    assert (code, out) == (1, "")
    assert "WT724" in err and "ValueError: no good" in err and "Traceback" in err
    code, out, err = run_cli(*base, "wts.slow", "--args", "[30]", "--timeout", "0.2")
    assert code == 1 and "_mochi_wrap.WrapperTimeoutError" in err


@pytest.mark.parametrize("args", [
    ["wts.add", "--args", "{not json"],
    ["wts.add", "--args", '{"a": 1}'],
    ["wts.add", "--kwargs", "[1]"],
    ["wts.nope", "--args", "[1]"],
    ["wts.add", "--runtime", "threads"],
    ["wts.add", "--timeout", "-1"],
])
def test_cli_call_usage_errors_exit_2(project: Path, run_cli: Any, args: list[str]) -> None:
    code, out, err = run_cli("-C", str(project), "call", *args)
    assert code == 2 and out == "", err


def test_cli_call_other_target(project: Path, run_cli: Any) -> None:
    code, _, err = run_cli("-C", str(project), "call", "wts.add", "--args", "[1]", "--target", "wasi-p2")
    assert code == 1 and "WT703" in err and "python_workspace-wasi-p2" in err and "install" in err


def test_cli_run_is_the_same_in_both_modes(project: Path, run_cli: Any, tmp_path: Path) -> None:
    calls = tmp_path / "calls.jsonl"
    lines = ["# parity script", ""] + [json.dumps({"call": name, "args": _wire(args), "kwargs": kwargs})
                                       for name, args, kwargs in CALLS]
    calls.write_text("\n".join(lines) + "\n")
    outputs = {}
    for runtime in ("inprocess", "subprocess"):
        code, out, err = run_cli("-C", str(project), "run", "--runtime", runtime, "--timeout", "1", str(calls))
        assert code == 1 and "WT707" in err and "5 of 21 line(s) failed" in err, err   # some calls raise
        outputs[runtime] = out
    assert outputs["inprocess"] == outputs["subprocess"]
    records = [json.loads(line) for line in outputs["subprocess"].splitlines()]
    assert len(records) == len(CALLS) and records[0]["line"] == 3
    assert records[0] == {"line": 3, "call": "wts.add", "ok": True, "result": 3}
    assert records[11]["result"] == {"$handle": 1} and records[12]["result"] == 7   # handle passed back in
    assert records[16]["error"] == {"code": "WT724", "type": "ValueError", "message": "bad value"}
    assert records[-1]["error"]["type"] == "_mochi_wrap.WrapperTimeoutError"
    code, _, err = run_cli("-C", str(project), "run", "--fail-on-error", "--timeout", "1", str(calls))
    assert code == 1 and "WT707" in err     # the old flag is still accepted


def test_cli_run_bad_lines_fail_only_themselves(project: Path, run_cli: Any, tmp_path: Path) -> None:
    calls = tmp_path / "calls.jsonl"
    calls.write_text('{"call": "wts.add", "args": [1]}\n{"call": "wts.missing"}\n{"call": "wts.add", "argz": [1]}\n'
                     '{"call": "wts.add", "args": [2]}\n')
    code, out, err = run_cli("-C", str(project), "run", "--runtime", "subprocess", str(calls))
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and "Usage:" not in err and "line(s) 2, 3" in err
    assert [(r["line"], r["ok"]) for r in records] == [(1, True), (2, False), (3, False), (4, True)]
    assert records[1]["error"]["code"] == "WT706" and records[1]["call"] == "wts.missing"
    assert records[2]["error"]["code"] == "WT710" and "argz" in records[2]["error"]["message"]
    code, _, err = run_cli("-C", str(project), "run", str(tmp_path / "absent.jsonl"))
    assert code == 2 and "Usage:" in err    # an unreadable file is a usage error


def _wire(value: Any) -> Any:
    from wasmtool.run.session import to_wire

    return to_wire(value)


# -- calls from many threads ---------------------------------------------------------------------------

DIRECT = textwrap.dedent('''
    import json, sys, threading
    from concurrent.futures import ThreadPoolExecutor

    workspace, threads, per_thread = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sys.path.insert(0, workspace)
    import _mochi_wrap
    _mochi_wrap.configure(async_mode="persistent", timeout=30)
    from python_wrap.wts import wtsesspkg_externs as w

    barrier = threading.Barrier(threads)

    def work(t):
        barrier.wait()
        return [w.wts_tag_sync(t * 1000 + i) for i in range(per_thread)]

    with ThreadPoolExecutor(threads) as pool:
        tags = [tag for batch in pool.map(work, range(threads)) for tag in batch]
    print(json.dumps(tags))
''')

#: Threads racing to create the persistent loop, with the race forced open: creating a loop
#: takes 0.2 s here, so every thread checks for the loop before the first one has stored it.
RACE = textwrap.dedent('''
    import asyncio, json, sys, threading, time
    from concurrent.futures import ThreadPoolExecutor

    workspace, threads = sys.argv[1], int(sys.argv[2])
    sys.path.insert(0, workspace)
    import _mochi_wrap
    _mochi_wrap.configure(async_mode="persistent", timeout=30)
    from python_wrap.wts import wtsesspkg_externs as w

    created = []
    real_new_event_loop = asyncio.new_event_loop

    def slow_new_event_loop():
        created.append(threading.get_ident())
        time.sleep(0.2)
        return real_new_event_loop()

    asyncio.new_event_loop = slow_new_event_loop
    barrier = threading.Barrier(threads)

    def work(t):
        barrier.wait()
        return w.wts_tag_sync(t)

    with ThreadPoolExecutor(threads) as pool:
        tags = list(pool.map(work, range(threads)))
    print(json.dumps({"tags": tags, "loops_created": len(created)}))
''')


def _check_tags(tags: list[str], threads: int, per_thread: int) -> None:
    expected = sorted(str(t * 1000 + i) for t in range(threads) for i in range(per_thread))
    assert sorted(tag.split(":")[0] for tag in tags) == expected       # every call answered, with its own value
    assert len({tag.split(":")[1] for tag in tags}) == 1                  # one persistent loop served them all
    assert len({tag.split(":")[2] for tag in tags}) == 1                  # ... in one thread


def test_concurrent_async_calls_persistent_loop(project: Path, project_venv: Path) -> None:
    """Calls of an async wrapper in persistent-loop mode from 8 threads at once: directly in a
    subprocess of the project venv's interpreter, then through a session's worker (the
    worker's thread pool runs the calls)."""
    threads, per_thread = 8, 25
    python, workspace = str(project_venv / "bin" / "python"), str(project / ".mochi" / "python_workspace")
    proc = subprocess.run([python, "-c", DIRECT, workspace, str(threads), str(per_thread)],
                          capture_output=True, text=True, timeout=150)
    assert proc.returncode == 0, proc.stderr
    _check_tags(json.loads(proc.stdout), threads, per_thread)
    barrier = threading.Barrier(threads)
    with open_session(project, mode="subprocess", async_mode="persistent", timeout=30) as session:
        def work(t: int) -> list[str]:
            barrier.wait()
            return [session.call("wts.tag", [t * 1000 + i]) for i in range(per_thread)]

        with ThreadPoolExecutor(threads) as pool:
            tags = [tag for batch in pool.map(work, range(threads)) for tag in batch]
    _check_tags(tags, threads, per_thread)


def test_persistent_loop_is_created_once_when_threads_race(project: Path, project_venv: Path) -> None:
    """The guard in ``_mochi_wrap._PersistentLoop.get`` ("free-threaded builds too").

    A free-threaded CPython (no GIL) is where threads would really race to create the loop;
    none can be installed on these machines (Debian 12 packages none, and uv downloads
    nothing here), so the race is forced open instead: creating the loop is slowed down, 16
    threads call an async wrapper at once, and all of them find no loop yet. Exactly one
    loop must be created, and every call must be served by it.
    """
    threads = 16
    python, workspace = str(project_venv / "bin" / "python"), str(project / ".mochi" / "python_workspace")
    proc = subprocess.run([python, "-c", RACE, workspace, str(threads)], capture_output=True, text=True, timeout=150)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert sorted(int(tag.split(":")[0]) for tag in out["tags"]) == list(range(threads))
    assert out["loops_created"] == 1, f"{out['loops_created']} persistent loops created by {threads} racing threads"
    assert len({tag.split(":")[1] for tag in out["tags"]}) == 1           # one loop served every call
    assert len({tag.split(":")[2] for tag in out["tags"]}) == 1           # ... in one thread


def test_worker_threads_really_run_concurrently(project: Path) -> None:
    """Calls from 4 threads are inside the worker at the same time (pipelined, served by the
    worker's thread pool): each call returns only once all 4 are in, so a worker that served
    them one at a time would break the barrier (after 20 s) instead of answering."""
    parties = 4
    with open_session(project, mode="subprocess", async_mode="persistent") as session:
        for name in ("wts.rendezvous", "wts.arendezvous"):      # a sync function; an async one on the loop
            start = threading.Barrier(parties)

            def work(name: str, start: threading.Barrier) -> Any:
                start.wait()
                try:
                    return session.call(name, [parties, 20.0])
                except RemotePythonError as exc:
                    return f"{exc.python_type}: {exc.python_message}"

            with ThreadPoolExecutor(parties) as pool:
                arrivals = list(pool.map(work, [name] * parties, [start] * parties))
            assert sorted(arrivals, key=str) == list(range(parties)), (name, arrivals)
        assert len(session.worker_pids) == 1          # one worker served them all
