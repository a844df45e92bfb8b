"""``wasmtool run``: every line gets a result, a failing line fails only itself (an unknown
or skipped function, bad JSON, a raising call), the exit status says whether any failed,
``--fail-fast`` stops at the first; ``call``/``run -v`` say which runtime they use."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wasmtool.ops.session import open_session
from wasmtool.run.session import find_skipped, load_aliases, read_skipped
from wasmtool.stubs.pyi import parse_stub
from wasmtool.synth.workspace import render_workspace
from wasmtool.typemap.lower import map_module

from .conftest import wrappers_forgotten
from .test_session_dispatch import make_venv

PKG = "wtrunpkg"
ALIAS = "wtr"
SOURCE = '''
from typing import IO


def add(a: int, b: int = 2) -> int:
    return a + b


def boom(message: str) -> int:
    raise ValueError(message)


def read(stream: IO[bytes]) -> int:
    return len(stream.read())


class Box:
    def __init__(self, v: int) -> None:
        self.v = v

    def get(self) -> int:
        return self.v

    def peek(self, stream: IO[bytes]) -> int:
        return 0
'''

FOUR_LINES = [
    {"call": "wtr.add", "args": [1], "id": "good"},
    {"call": "wtr.ad", "args": [1]},          # no such function: a suggestion
    {"call": "wtr.read", "args": ["x"]},      # skipped by bind: the SKIPPED.txt reason
    {"call": "wtr.boom", "args": ["bad value"]},
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("runlines") / "proj"
    venv = make_venv(root.parent / "venv")
    site = next(venv.glob("lib/python*/site-packages"))
    (site / PKG).mkdir()
    (site / PKG / "__init__.py").write_text(SOURCE)
    root.mkdir()
    (root / "mochi.toml").write_text(f'name = "run-lines"\n\n[python]\nrequires-python = ">=3.12"\nvenv = "{venv}"\n')
    stub = parse_stub(SOURCE, module=PKG, file=f"{PKG}/__init__.py", python_version=(3, 12))
    surface = map_module([stub], dist=PKG, version="1.0", alias=ALIAS, import_names=[PKG], tier="py.typed")
    render_workspace([surface]).write(root / ".mochi" / "python_workspace")
    return root


@pytest.fixture(autouse=True)
def _no_leftover_wrappers() -> Iterator[None]:
    with wrappers_forgotten(PKG):
        yield


def _write(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def _records(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


def test_skipped_items_are_read_and_matched(project: Path) -> None:
    aliases = load_aliases(project / ".mochi" / "python_workspace")
    alias = aliases[ALIAS]
    assert alias.import_names == (PKG,) and alias.directory is not None
    skipped = {item.path: item for item in read_skipped(alias.directory)}
    assert skipped[f"{PKG}.read"].reason == "SkipUnsupportedTypingConstruct"
    assert skipped[f"{PKG}.read"].detail == "IO[bytes]" and "IO" in skipped[f"{PKG}.read"].hint
    for name in ("wtr.read", "wtr_read", f"{PKG}.read"):
        found = find_skipped(alias, name)
        assert found is not None and found.path == f"{PKG}.read", name
    for name in ("wtr.Box.peek", "wtr_Box_peek"):
        found = find_skipped(alias, name)
        assert found is not None and found.path == f"{PKG}.Box.peek", name
    assert find_skipped(alias, "wtr.nothing") is None
    assert read_skipped(project / "nowhere") == ()


@pytest.mark.parametrize("runtime", ["subprocess", "inprocess"])
def test_four_lines_four_results_in_order(project: Path, run_cli: Any, tmp_path: Path, runtime: str) -> None:
    calls = _write(tmp_path / "calls.jsonl", ["# a good call, an unknown one, a skipped one, a raising one",
                                              *FOUR_LINES])
    code, out, err = run_cli("-C", str(project), "run", "--runtime", runtime, str(calls))
    assert code == 1, err
    assert "Usage:" not in err and "WT707" in err and "3 of 4 line(s) failed (line(s) 3, 4, 5)" in err
    good, unknown, skipped, raising = _records(out)
    assert good == {"line": 2, "call": "wtr.add", "id": "good", "ok": True, "result": 3}
    assert unknown["line"] == 3 and unknown["call"] == "wtr.ad" and unknown["ok"] is False
    assert unknown["error"]["code"] == "WT706" and unknown["error"]["type"] == "UnknownFunctionError"
    assert "no such bound function" in unknown["error"]["message"]
    assert "wtr.add" in unknown["error"]["suggestions"] and "skipped" not in unknown["error"]
    assert skipped["line"] == 4 and skipped["ok"] is False and skipped["error"]["code"] == "WT706"
    assert skipped["error"]["skipped"] == {"path": f"{PKG}.read", "reason": "SkipUnsupportedTypingConstruct",
                                           "detail": "IO[bytes]", "hint": "`IO` is not in the type table"}
    assert "SkipUnsupportedTypingConstruct" in skipped["error"]["message"]
    assert raising == {"line": 5, "call": "wtr.boom", "ok": False,
                       "error": {"code": "WT724", "type": "ValueError", "message": "bad value"}}

    code, out, err = run_cli("-C", str(project), "run", "--runtime", runtime, "--fail-fast", str(calls))
    assert code == 1 and "stopped at line 3 (--fail-fast)" in err
    assert [(r["line"], r["ok"]) for r in _records(out)] == [(2, True), (3, False)]


def test_malformed_lines_are_results_not_crashes(project: Path, run_cli: Any, tmp_path: Path) -> None:
    calls = _write(tmp_path / "calls.jsonl", [
        "{not json", "[1, 2]", {"call": "wtr.add", "argz": [1], "id": 9}, {"call": "wtr.add", "args": {"a": 1}},
        {"call": "wtr.add", "args": [{"$int": "zz"}]}, "", {"call": "wtr.add", "kwargs": {"a": 40}},
    ])
    code, out, err = run_cli("-C", str(project), "run", "--runtime", "subprocess", str(calls))
    records = _records(out)
    assert code == 1 and "Usage:" not in err and "5 of 6 line(s) failed" in err
    assert [r["line"] for r in records] == [1, 2, 3, 4, 5, 7]
    assert all(r["error"]["code"] == "WT710" and r["error"]["type"] == "CallLineError" for r in records[:5])
    assert records[0]["call"] is None and "not valid JSON" in records[0]["error"]["message"]
    assert records[1]["call"] is None
    assert records[2]["call"] == "wtr.add" and records[2]["id"] == 9 and "argz" in records[2]["error"]["message"]
    assert records[5] == {"line": 7, "call": "wtr.add", "ok": True, "result": 42}


def test_all_good_lines_exit_0(project: Path, run_cli: Any, tmp_path: Path) -> None:
    calls = _write(tmp_path / "calls.jsonl", [{"call": "wtr.add", "args": [i]} for i in range(3)])
    code, out, err = run_cli("-C", str(project), "run", str(calls))
    assert (code, [r["result"] for r in _records(out)], err) == (0, [2, 3, 4], "")


def test_usage_errors_keep_the_banner(project: Path, run_cli: Any, tmp_path: Path) -> None:
    code, out, err = run_cli("-C", str(project), "run", str(tmp_path / "absent.jsonl"))
    assert (code, out) == (2, "") and "Usage:" in err
    code, out, err = run_cli("-C", str(project), "run", "--runtime", "threads", str(tmp_path / "absent.jsonl"))
    assert (code, out) == (2, "") and "Usage:" in err


def test_verbose_says_which_runtime_and_why(project: Path, run_cli: Any, tmp_path: Path) -> None:
    code, out, err = run_cli("-C", str(project), "call", "-v", "wtr.add", "--args", "[1]")
    assert (code, out) == (0, "3\n")
    assert err == "runtime: inprocess (project venv is CPython " \
                  f"{sys.version_info[0]}.{sys.version_info[1]}, the same interpreter and ABI wasmtool runs on)\n"
    code, out, err = run_cli("-C", str(project), "call", "--verbose", "--runtime", "subprocess", "wtr.add",
                             "--args", "[1]")
    assert (code, out, err) == (0, "3\n", "runtime: subprocess (runtime mode 'subprocess' requested)\n")
    calls = _write(tmp_path / "calls.jsonl", [{"call": "wtr.add", "args": [1]}])
    code, _, err = run_cli("-C", str(project), "run", "-v", "--runtime", "auto", str(calls))
    assert code == 0 and err.startswith("runtime: inprocess (")
    code, _, err = run_cli("-C", str(project), "call", "wtr.add", "--args", "[1]")
    assert (code, err) == (0, "")      # quiet without -v


def test_call_of_a_skipped_function_says_why(project: Path, run_cli: Any) -> None:
    code, out, err = run_cli("-C", str(project), "call", "wtr.read", "--args", '["x"]')
    assert (code, out) == (2, "") and "Usage:" not in err
    assert "WT706" in err and "SkipUnsupportedTypingConstruct" in err and "`IO` is not in the type table" in err
    with open_session(project, mode="subprocess") as session:
        assert session.mode_reason == "runtime mode 'subprocess' requested"
