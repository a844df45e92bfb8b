"""The same table of calls, three ways (issues 5, 6, 7): the generated wrappers of five pure
packages run natively in-process, as WASI Preview 2 components under wasmtime, and in
Pyodide under Node, all through `wasmtool run --target=...`; every call gives the same
answer (value, or Python exception type and message) on every target.

Handles (opaque Python objects: packaging's `Version`, toml's decoder) cross natively, as WIT
resources and, in Pyodide, through the same handle table and value encoding as natively
(wasmtool_runtime.bridge); a second calls file builds objects and then queries them (a handle
inside a record, a handle passed back, an object changed by one call and read by the next),
and its output is the same on all three targets (byte for byte between native and Pyodide,
which report a Python exception with the same code). tomli's `loads -> dict[str, Any]` has a
component too: each `any` crosses as a WIT value tree, and nested tables, arrays of tables,
big integers, NaN and datetimes (handles, numbered as natively) print the same JSON on all
three targets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.parity import make_project, normalised
from tests.support.session_cache import SharedIndex

# builds real components and a Pyodide bundle: past the suite's 600 s default on a loaded machine
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

MANIFEST = """
name = "three-way"

[python]
requires-python = ">=3.12"
python-version = "3.12"
targets = ["native", "wasi-p2", "pyodide-314"]

[python-dependencies]
packaging = { version = "*", import-names = ["packaging.utils", "packaging.version"] }
attrs = "*"
click = "*"
toml = "*"
tomli = "*"
"""

TOML_DOC = """\
title = "parity"
when = 1979-05-27T07:32:00-08:00
day = 1979-05-27
at = 07:32:00.5

[server]
host = "x"
ports = [80, 443]

[server.tls]
on = true

[[fruit]]
name = "apple"

[[fruit.variety]]
name = "red"

[[fruit]]
name = "banana"
"""

CALLS = [
    {"call": "packaging.canonicalize_name", "args": ["Foo_Bar.baz"]},
    {"call": "packaging.canonicalize_name", "args": ["already-normal"]},
    {"call": "packaging.canonicalize_name_full", "args": ["Foo__Bar", True]},
    {"call": "packaging.canonicalize_name_full", "args": ["-bad-", True]},           # raises InvalidName
    {"call": "packaging.is_normalized_name", "args": ["foo-bar"]},
    {"call": "packaging.is_normalized_name", "args": ["Foo_Bar"]},
    {"call": "packaging.packaging_version_normalize_pre", "args": ["alpha"]},
    {"call": "packaging.packaging_version_normalize_pre", "args": ["preview"]},
    {"call": "attrs.attr_version", "args": []},                # importlib.metadata, lazily
    {"call": "attrs.attr_get_run_validators", "args": []},
    {"call": "attrs.attr_set_run_validators", "args": [True]},
    {"call": "click.unstyle", "args": ["\u001b[31mred\u001b[0m and \u001b[1mbold\u001b[0m"]},
    {"call": "click.wrap_text", "args": ["one two three four five six seven eight nine ten " * 3]},
    {"call": "click.wrap_text_full", "args": ["a b c d e f g h", 5, "> ", "  ", False]},  # a lazy submodule
    {"call": "click.wrap_text_full", "args": ["para one has words\n\npara two has more words", 10, "", "", True]},
    {"call": "tomli.loads", "args": [TOML_DOC]},                # nested tables, arrays of tables, datetimes
    {"call": "tomli.loads", "args": ["a = 1\nb = 12345678901234567890\nc = nan\nd = -inf\ne = [[1, 2], []]"]},
    {"call": "tomli.loads", "args": ["x = = 1"]},                                    # TOMLDecodeError
]
HANDLE_CALLS = [
    {"call": "packaging.Version_new", "args": ["1.0rc1"]},
    {"call": "packaging.Version_major", "args": [{"$handle": 1}]},
    {"call": "packaging.Version_is_prerelease", "args": [{"$handle": 1}]},
    {"call": "packaging.Version_public", "args": [{"$handle": 1}]},
    {"call": "packaging.Version_new", "args": ["2!3.4.post5+local"]},
    {"call": "packaging.Version_epoch", "args": [{"$handle": 2}]},
    {"call": "packaging.Version_base_version", "args": [{"$handle": 2}]},
    {"call": "packaging.Version_local", "args": [{"$handle": 2}]},
    {"call": "packaging.Version_new", "args": ["not a version"]},                  # InvalidVersion
    {"call": "toml.TomlEncoder_new_unit_full", "args": [None, True]},
    {"call": "toml.TomlEncoder_preserve", "args": [{"$handle": 1}]},
    {"call": "packaging.parse_sdist_filename", "args": ["foo_bar-1.2.3rc1.tar.gz"]},    # a handle in a record
    {"call": "packaging.Version_release", "args": [{"$handle": 3}]},
    {"call": "packaging.Version_pre", "args": [{"$handle": 3}]},
    {"call": "packaging.packaging_version_parse", "args": ["4.5"]},
    {"call": "packaging.Version_public", "args": [{"$handle": 4}]},
    {"call": "packaging.Version_major", "args": [{"$handle": 1}]},                     # still alive
    {"call": "toml.TomlPreserveCommentDecoder_new_unit", "args": []},
    {"call": "toml.TomlPreserveCommentDecoder_preserve_comment", "args": [{"$handle": 2}, 3, "key", "# note", True]},
    {"call": "toml.TomlPreserveCommentDecoder_saved_comments", "args": [{"$handle": 2}]},
]

# Not in the table: functions that read the host environment (click.get_app_dir reads
# $HOME, which a WASI guest does not inherit) answer differently by design.

def test_same_calls_same_answers_native_wasi_pyodide(tmp_path: Path, shared_cache: Path,
                                                      shared_index: SharedIndex) -> None:
    # the session's cache: nothing here depends on what it holds (no "(built)", no download counts)
    project, calls, cli = make_project(tmp_path, "three", MANIFEST, CALLS, shared_cache, shared_index)
    cli("lock")
    cli("install")
    _, _, err = cli("install", "--target=wasi-p2")
    for alias in ("attrs", "click", "packaging"):
        assert f"component {alias}: " in err
    assert "component toml: " in err and "component tomli: " in err
    cli("install", "--target=pyodide-314")

    answers = {}
    for target in ("native", "wasi-p2", "pyodide-314"):
        code, out, err = cli("run", f"--target={target}", str(calls), check=False)
        answers[target] = normalised(out)
        assert len(answers[target]) == len(CALLS), err
        assert code == 1 and "WT707" in err, err          # some calls raise: every line answered, exit 1
    native = answers["native"]
    assert native[0]["result"] == "foo-bar-baz" and native[3]["ok"] is False
    assert native[3]["error"]["type"] == "packaging.utils.InvalidName"          # type: ignore[index]
    assert native[8]["result"] == "26.1.0"
    assert native[13]["result"] == "> a b\n  c d\n  e f\n  g h"
    assert native[15]["result"] == {
        "title": "parity", "when": {"$handle": 1}, "day": {"$handle": 2}, "at": {"$handle": 3},
        "server": {"host": "x", "ports": [80, 443], "tls": {"on": True}},
        "fruit": [{"name": "apple", "variety": [{"name": "red"}]}, {"name": "banana"}]}
    assert native[16]["result"] == {"a": 1, "b": {"$int": "12345678901234567890"}, "c": {"$float": "nan"},
                                    "d": {"$float": "-inf"}, "e": [[1, 2], []]}
    assert native[17]["error"]["type"] == "tomli._parser.TOMLDecodeError"          # type: ignore[index]
    assert answers["wasi-p2"] == native
    assert answers["pyodide-314"] == native

    # a warm call does not compile the component again: its .cwasm is only read
    cwasm = sorted((project / ".mochi" / "wasi-p2" / "project-component").glob("component-*.cwasm"))
    assert len(cwasm) == 1
    before = cwasm[0].stat().st_mtime_ns
    _, out, _ = cli("call", "packaging.canonicalize_name", "--args", '["A.B"]', "--target=wasi-p2")
    assert json.loads(out) == "a-b" and cwasm[0].stat().st_mtime_ns == before

    handles = tmp_path / "handles.jsonl"
    handles.write_text("".join(json.dumps(c) + "\n" for c in HANDLE_CALLS))
    code, native_out, _ = cli("run", "--target=native", str(handles), check=False)
    assert code == 1                                      # Version_new("not a version") raises
    native_handles = normalised(native_out)
    assert native_handles[0]["result"] == {"$handle": 1} and native_handles[3]["result"] == "1.0rc1"
    assert native_handles[8]["error"]["type"] == "packaging.version.InvalidVersion"     # type: ignore[index]
    assert native_handles[11]["result"] == {"t0": "foo-bar", "t1": {"$handle": 3}}
    assert native_handles[12]["result"] == [1, 2, 3] and native_handles[13]["result"] == {"t0": "rc", "t1": 1}
    assert native_handles[14]["result"] == {"$handle": 4} and native_handles[15]["result"] == "4.5"
    assert native_handles[16]["result"] == 1
    assert native_handles[17]["result"] == {"$handle": 2}
    assert native_handles[19]["result"] == {"$map": [[3, {"t0": "key", "t1": "# note", "t2": True}]]}
    _, out, _ = cli("run", "--target=wasi-p2", str(handles), check=False)
    assert normalised(out) == native_handles
    code, pyodide_out, err = cli("run", "--target=pyodide-314", str(handles), check=False)
    assert code == 1 and "WT707" in err, err
    assert pyodide_out == native_out                    # the same lines, the same error codes
    # `call` hands out a handle in Pyodide as natively
    for target in ("native", "pyodide-314"):
        _, out, _ = cli("call", "packaging.Version_new", "--args", '["3.0"]', f"--target={target}")
        assert json.loads(out) == {"$handle": 1}

    for target in ("native", "wasi-p2", "pyodide-314"):
        _, out, _ = cli("call", "tomli.loads", "--args", '["a = {b = [1, {c = 1979-05-27}]}"]', f"--target={target}")
        assert json.loads(out) == {"a": {"b": [1, {"c": {"$handle": 1}}]}}
    # its ctx parameter is Optional[Context]: a handle inside a parameter cannot be borrowed
    code, _, err = cli("call", "click.Argument_get_error_hint", "--target=wasi-p2", check=False)
    assert code == 2 and "not exported by the wasi-p2 component" in err
