"""Every call has a deadline: a synchronous function that never returns fails ``call`` with
WT711 once ``--timeout`` (+ 1 s grace) passes, the worker is killed, and ``run`` goes on with
the next line; a function that ends the worker (``os._exit``) is reported as such, with its
exit status, not as an import failure; in-process, ``--timeout`` warns that it cannot stop a
synchronous function."""

from __future__ import annotations

import json
import sys
import time
import venv as venv_module
import warnings
from pathlib import Path

import pytest

from tests.conftest import run_cli
from wasmtool.stubs.pyi import parse_stub
from wasmtool.synth.workspace import render_workspace
from wasmtool.typemap.lower import map_module

pytestmark = pytest.mark.timeout(120)

PKG = "wthangpkg"
ALIAS = "hk"
SOURCE = '''
import os
import time


def hang() -> int:
    while True:
        time.sleep(3600)


def ok(x: int) -> int:
    return x + 1


def die(status: int) -> int:
    os._exit(status)
'''
NO_INDEX = "http://127.0.0.1:9/simple"


def bind_project(root: Path, package: str, alias: str, source: str) -> Path:
    """A project whose venv holds ``package`` (``source`` as its ``__init__.py``), bound as
    ``alias`` (the generated workspace written as ``wasmtool bind`` would)."""
    venv = root.parent / f"{root.name}-venv"
    venv_module.EnvBuilder(with_pip=False, symlinks=True).create(venv)
    site = next(venv.glob("lib/python*/site-packages"))
    (site / package).mkdir()
    (site / package / "__init__.py").write_text(source)
    root.mkdir()
    (root / "mochi.toml").write_text(f'name = "hostile"\n\n[python]\nrequires-python = ">=3.12"\nvenv = "{venv}"\n')
    stub = parse_stub(source, module=package, file=f"{package}/__init__.py",
                      python_version=sys.version_info[:2])
    surface = map_module([stub], dist=package, version="1.0", alias=alias, import_names=[package], tier="py.typed")
    render_workspace([surface]).write(root / ".mochi" / "python_workspace")
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bind_project(tmp_path_factory.mktemp("deadlines") / "proj", PKG, ALIAS, SOURCE)


def wasmtool(project: Path, cache: Path, *args: str, timeout: float = 60) -> tuple[int, str, str]:
    proc = run_cli(["-C", str(project), *args], cache=cache, index_url=NO_INDEX, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def test_a_hanging_sync_call_fails_at_its_deadline(project: Path, cache_dir: Path) -> None:
    started = time.monotonic()
    code, out, err = wasmtool(project, cache_dir, "call", "--runtime", "subprocess", "--timeout", "2", "hk.hang",
                              timeout=30)
    elapsed = time.monotonic() - started
    assert code == 1, err
    assert "WT711" in err and "hk_hang" in err and "killed" in err, err
    assert "Traceback" not in err and out == ""
    assert elapsed < 10, elapsed


def test_run_goes_on_after_a_line_that_hangs(project: Path, cache_dir: Path, tmp_path: Path) -> None:
    calls = tmp_path / "calls.jsonl"
    calls.write_text('{"call": "hk.hang"}\n{"call": "hk.ok", "args": [41]}\n')
    code, out, err = wasmtool(project, cache_dir, "run", "--runtime", "subprocess", "--timeout", "1", str(calls),
                              timeout=30)
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 1, err
    assert [(r["line"], r["ok"]) for r in records] == [(1, False), (2, True)], out
    assert records[0]["error"]["code"] == "WT711"
    assert records[1]["result"] == 42
    assert "WT707" in err and "Traceback" not in err


def test_a_call_that_ends_the_worker_reports_its_exit_status(project: Path, cache_dir: Path) -> None:
    # status 3 is also the worker's "cannot import the module": the call must not be taken for one
    code, _out, err = wasmtool(project, cache_dir, "call", "--runtime", "subprocess", "--args", "[3]", "hk.die")
    assert code == 1, err
    assert "WT722" in err and "exited with status 3" in err and "hk_die" in err, err
    assert "import" not in err and "Traceback" not in err


def test_inprocess_timeout_warns_about_sync_functions(project: Path, cache_dir: Path) -> None:
    code, out, err = wasmtool(project, cache_dir, "call", "--runtime", "inprocess", "--timeout", "5",
                              "--args", "[1]", "hk.ok")
    assert (code, out.strip()) == (0, "2"), err
    assert "warning:" in err and "synchronous" in err and "--runtime subprocess" in err, err


def test_inprocess_runtime_warns_once_about_a_sync_timeout(tmp_path: Path) -> None:
    from wasmtool.run import InProcessRuntime

    module = tmp_path / "wt_sync_timeout.py"
    module.write_text("def ok(x):\n    return x + 1\n")
    sys.path.insert(0, str(tmp_path))
    try:
        with InProcessRuntime("wt_sync_timeout") as runtime:
            with pytest.warns(RuntimeWarning, match="synchronous"):
                assert runtime.call("ok", [1], timeout=1.0) == 2
            with warnings.catch_warnings(record=True) as later:
                warnings.simplefilter("always")
                assert runtime.call("ok", [2], timeout=1.0) == 3
            assert later == []     # said once
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("wt_sync_timeout", None)


def test_subprocess_runtime_kills_and_replaces_a_worker_past_the_deadline(tmp_path: Path) -> None:
    from wasmtool.run import SubprocessRuntime
    from wasmtool.run.errors import CallDeadlineError

    (tmp_path / "wt_deadline.py").write_text(SOURCE)
    with SubprocessRuntime("wt_deadline", python=sys.executable, paths=[str(tmp_path)], deadline=1.0) as runtime:
        assert runtime.call("ok", [1]) == 2
        first = runtime.pid
        started = time.monotonic()
        with pytest.raises(CallDeadlineError) as info:
            runtime.call("hang")
        assert time.monotonic() - started < 8
        assert (info.value.code, info.value.method, info.value.pid) == ("WT711", "hang", first)
        assert runtime.call("ok", [2]) == 3            # a new worker
        assert runtime.pid not in (None, first)
