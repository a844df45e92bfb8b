"""Hostile input gives a coded error naming the file (and line), never a Python traceback:
non-UTF-8 text, a UTF-8 byte-order mark, values nested deeper than the documented limits, a
folder where a file should be, and inputs so long that echoing them would flood the terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_project
from tests.hostile.test_call_deadlines import bind_project

pytestmark = pytest.mark.timeout(120)

NO_INDEX = "http://127.0.0.1:9/simple"
SOURCES = {"main.mochi": 'import python "tomli@^2" as tomli\n'}
DEEP_JSON = "[" * 3000 + "]" * 3000


def wasmtool(project: Path, cache: Path, *args: str) -> tuple[int, str, str]:
    proc = run_cli(["-C", str(project), *args], cache=cache, index_url=NO_INDEX, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


def assert_clear(code: int, err: str, *, wt: str, names: str, exit_code: int = 1) -> None:
    assert code == exit_code, err
    assert wt in err and names in err, err
    assert "Traceback" not in err, err


# -- .mochi sources ----------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "where"), [
    (b'import python "tomli@^2" as tomli\n// caf\xe9\n', "main.mochi:2:7"),   # Latin-1, not UTF-8
    (b"\xff\xfei\x00m\x00", "main.mochi:1:1"),                                # UTF-16
])
def test_a_source_that_is_not_utf8(tmp_path: Path, cache_dir: Path, data: bytes, where: str) -> None:
    root = write_project(tmp_path / "p", {"tomli": "^2"})
    (root / "main.mochi").write_bytes(data)
    code, _out, err = wasmtool(root, cache_dir, "lock", "--check")
    assert_clear(code, err, wt="WT052", names=where)
    assert "not UTF-8" in err


def test_a_100kb_import_name_gives_a_short_error(tmp_path: Path, cache_dir: Path) -> None:
    root = write_project(tmp_path / "p", {"tomli": "^2"},
                         sources={"main.mochi": 'import python "' + "a" * 100_000 + '!" as big\n'})
    code, _out, err = wasmtool(root, cache_dir, "lock", "--check")
    assert_clear(code, err, wt="WT052", names="main.mochi:1:1")
    assert len(err) < 2000, len(err)


# -- mochi.lock --------------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "names", "says"), [
    (b'version = 1\n# caf\xe9\n', "mochi.lock:2:6", "not UTF-8"),
    (b"\xef\xbb\xbfversion = 1\n", "mochi.lock:1:1", "byte-order mark"),
    (b"x = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "mochi.lock", "nested too deeply"),
    (b"x = " + b"{a = " * 5_000 + b"1" + b"}" * 5_000 + b"\n", "mochi.lock", "nested too deeply"),
    (None, "mochi.lock", "is a directory"),
], ids=["latin1", "bom", "deep-array", "deep-table", "folder"])
def test_an_unreadable_lock(tmp_path: Path, cache_dir: Path, content: bytes | None, names: str, says: str) -> None:
    root = write_project(tmp_path / "p", {"tomli": "^2"}, sources=SOURCES)
    if content is None:
        (root / "mochi.lock").mkdir()
    else:
        (root / "mochi.lock").write_bytes(content)
    code, _out, err = wasmtool(root, cache_dir, "lock", "--check")
    assert_clear(code, err, wt="WT401", names=names)
    assert says in err


# -- call --args / --kwargs --------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--args", "--kwargs"])
def test_call_arguments_nested_too_deeply(tmp_path: Path, cache_dir: Path, option: str) -> None:
    root = write_project(tmp_path / "p", {"tomli": "^2"}, sources=SOURCES)
    value = DEEP_JSON if option == "--args" else '{"a": ' + DEEP_JSON + "}"
    code, _out, err = wasmtool(root, cache_dir, "call", "tomli.loads", option, value)
    assert_clear(code, err, wt="WT002", names=option, exit_code=2)
    assert "200 levels" in err


def test_call_a_100kb_name_gives_a_short_error(tmp_path: Path, cache_dir: Path) -> None:
    root = write_project(tmp_path / "p", {"tomli": "^2"}, sources=SOURCES)
    code, _out, err = wasmtool(root, cache_dir, "call", "tomli." + "x" * 100_000)
    assert_clear(code, err, wt="WT002", names="ALIAS.FUNC", exit_code=2)
    assert len(err) < 2000, len(err)


# -- run calls files ---------------------------------------------------------------------------

PKG = "wtclearpkg"
SOURCE = '''
def echo(x: int) -> int:
    return x
'''


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bind_project(tmp_path_factory.mktemp("clear") / "proj", PKG, "ce", SOURCE)


def test_run_lines_that_are_not_utf8_deep_or_bom(project: Path, cache_dir: Path, tmp_path: Path) -> None:
    calls = tmp_path / "calls.jsonl"
    calls.write_bytes(b"\xef\xbb\xbf" + b'{"call": "ce.echo", "args": [1]}\n'
                      + b'{"call": "ce.echo", "args": ["caf\xe9"]}\n'
                      + b'{"call": "ce.echo", "args": ' + DEEP_JSON.encode() + b"}\n"
                      + b'{"call": "ce.echo", "args": [' + b'{"a": ' * 300 + b"1" + b"}" * 300 + b"]}\n"
                      + b'{"call": "' + b"x" * 100_000 + b'"}\n'
                      + b'{"call": "ce.echo", "args": [2]}\n')
    code, out, err = wasmtool(project, cache_dir, "run", "--runtime", "subprocess", str(calls))
    records = [json.loads(line) for line in out.splitlines()]
    summary = [(r["line"], r["ok"], r.get("error", {}).get("message", "")[:200]) for r in records]
    assert [(n, ok) for n, ok, _ in summary] == [(n, n == 6) for n in range(1, 7)], summary
    assert records[5]["result"] == 2
    errors = [r["error"] for r in records[:5]]
    assert {e["code"] for e in errors} == {"WT710"}, errors
    assert "byte-order mark" in errors[0]["message"]
    assert "not UTF-8" in errors[1]["message"] and "0xe9" in errors[1]["message"]
    assert "200 levels" in errors[2]["message"] and "200 levels" in errors[3]["message"]
    assert len(errors[4]["message"]) < 500
    assert_clear(code, err, wt="WT707", names=str(calls))


def test_run_a_calls_file_that_is_a_folder(project: Path, cache_dir: Path, tmp_path: Path) -> None:
    code, _out, err = wasmtool(project, cache_dir, "run", str(tmp_path))
    assert_clear(code, err, wt="WT002", names=str(tmp_path), exit_code=2)
