"""Calls work wherever wasmtool runs: wasmtool on one CPython, the project venv on another,
no runtime setting (``auto``) -> ``call`` and ``run`` answer through a worker on the venv's
interpreter; an explicit in-process mode keeps its WT705 error. ``run`` gives every line a
result, in order, and exits 1 when any failed (``--fail-fast`` stops at the first).

Real lock / install / bind of tomli through the CLI and the hermetic index. The other CPython
is Debian's python3.11 (tests/conftest.py OTHER_PYTHON, installed by scripts/setup.sh); without
it the test fails."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import OTHER_VERSION, other_python, run_cli, write_project
from tests.support.index_server import IndexServer

pytestmark = pytest.mark.slow

HERE = f"{sys.version_info[0]}.{sys.version_info[1]}"


def test_call_and_run_on_another_python(tmp_path: Path, cache_dir: Path, index_server: IndexServer) -> None:
    python, other = other_python(), OTHER_VERSION
    project = write_project(tmp_path / "proj", {"tomli": "*"}, python_version=other,
                            requires_python=f">={other}", extra_python='allow-any = ["tomli.loads"]')
    manifest = (project / "mochi.toml").read_text()
    assert "runtime-mode" not in manifest

    def cli(*args: str) -> tuple[int, str, str]:
        proc = run_cli(["-C", str(project), *args], cache=cache_dir, index_url=index_server.url,
                       env={f"WASMTOOL_PYTHON_{other.replace('.', '_')}": python})
        return proc.returncode, proc.stdout, proc.stderr

    assert cli("lock")[0] == 0
    code, _, err = cli("install")
    assert code == 0, err
    cfg = (project / ".mochi" / "venv" / "pyvenv.cfg").read_text()
    assert f"version_info = {other}." in cfg                       # the venv really is the other Python
    assert f"home = {Path(python).parent}" in cfg, cfg

    # call: no runtime setting -> auto -> a worker on the venv's interpreter
    code, out, err = cli("call", "tomli.loads", "--args", json.dumps(['a = 1\n[t]\nb = "x"\n']))
    assert (code, json.loads(out or "null")) == (0, {"a": 1, "t": {"b": "x"}}), err
    code, out, err = cli("call", "-v", "tomli.loads", "--args", '["n = 2"]')
    assert (code, json.loads(out)) == (0, {"n": 2}), err
    assert f"runtime: subprocess (project venv is CPython {other}, wasmtool runs on {HERE})" in err

    # run: a good call, an unknown function, a skipped function, a raising call -> four results
    calls = project / "calls.jsonl"
    calls.write_text("\n".join(json.dumps(c) for c in [
        {"call": "tomli.loads", "args": ["a = 1"], "id": 1},
        {"call": "tomli.lods", "args": ["a = 1"]},
        {"call": "tomli.load", "args": ["a = 1"]},
        {"call": "tomli.loads", "args": ["x = "]},
    ]) + "\n")
    code, out, err = cli("run", str(calls))
    assert code == 1 and "Usage:" not in err and "WT707" in err, err
    results = [json.loads(line) for line in out.splitlines()]
    assert [(r["line"], r["call"], r["ok"]) for r in results] == [
        (1, "tomli.loads", True), (2, "tomli.lods", False), (3, "tomli.load", False), (4, "tomli.loads", False)]
    assert results[0]["result"] == {"a": 1} and results[0]["id"] == 1
    assert results[1]["error"]["code"] == "WT706" and "tomli.loads" in results[1]["error"]["suggestions"]
    skipped = results[2]["error"]
    assert skipped["code"] == "WT706" and skipped["skipped"]["path"] == "tomli.load"
    assert skipped["skipped"]["reason"] == "SkipUnsupportedTypingConstruct" and "IO" in skipped["skipped"]["detail"]
    assert results[3]["error"]["code"] == "WT724" and "TOMLDecodeError" in results[3]["error"]["type"]

    code, out, err = cli("run", "--fail-fast", "-v", str(calls))
    assert code == 1 and "--fail-fast" in err and "runtime: subprocess (" in err
    assert [(r["line"], r["ok"]) for r in map(json.loads, out.splitlines())] == [(1, True), (2, False)]

    # an explicit in-process mode keeps its error: the venv's Python is not this one
    code, out, err = cli("call", "--runtime", "inprocess", "tomli.loads", "--args", '["a = 1"]')
    assert (code, out) == (1, "") and "WT705" in err and "same major.minor" in err
    for mode in ("inprocess", "embedded"):
        (project / "mochi.toml").write_text(manifest.replace(
            f'python-version = "{other}"', f'python-version = "{other}"\nruntime-mode = "{mode}"'))
        code, out, err = cli("call", "tomli.loads", "--args", '["a = 1"]')
        assert (code, out) == (1, "") and "WT705" in err, err
        code, out, err = cli("run", str(calls))
        assert (code, out) == (1, "") and "WT705" in err, err
    (project / "mochi.toml").write_text(manifest.replace(
        f'python-version = "{other}"', f'python-version = "{other}"\nruntime-mode = "auto"'))
    code, out, err = cli("call", "tomli.loads", "--args", '["a = 1"]')
    assert (code, json.loads(out)) == (0, {"a": 1}), err
