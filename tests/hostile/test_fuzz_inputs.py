"""Fuzz the readers of user-editable inputs in-process: whatever the bytes, only a
``WasmtoolError`` (a coded error) may escape -- never ``UnicodeDecodeError``,
``RecursionError``, ``KeyError``, ``TypeError``, ...

Targets: ``.mochi`` sources, ``mochi.toml``, ``mochi.lock``, ``pylock.toml``, ``wasmtool run``
calls-file lines and ``wasmtool call --args`` / ``--kwargs``. Each gets random bytes, random
text over the format's own alphabet, deep nesting, and a valid document with one value
replaced by a random one."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wasmtool.cli.call_cmd import _decode_line, _json_arg, _parse_line
from wasmtool.errors import WasmtoolError
from wasmtool.lock.io import load_toml, parse_lock_text, read_lock, read_pylock_file
from wasmtool.lock.model import MochiLock
from wasmtool.lock.pylock import read_pylock
from wasmtool.project.manifest import load_manifest, parse_manifest
from wasmtool.project.scanner import read_source, scan_imports

FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

LOCK = """\
schema-version = 1
created-by = "wasmtool"
requires-python = ">=3.12"

[[target]]
name = "native"
python-version = "3.12"
index-url = "https://example.org/simple/"
requirements = ["tomli<3,>=2"]

[[python-package]]
name = "tomli"
version = "2.5.0"
target = "native"
source = "registry"
alias = "tomli"
import-names = ["tomli"]
specifier = "<3,>=2"
index-url = "https://example.org/simple/"
origin = "index"
wheel-filename = "tomli-2.5.0-py3-none-any.whl"
wheel-url = "https://example.org/files/tomli-2.5.0-py3-none-any.whl"
platform-tag = "py3-none-any"
wheel-sha256 = "6cf74416bdc94ae458b14e37286c1073081850ac8459a00d0c5efef5d44294c6"
requires-python = ">=3.8"
"""

PYLOCK = """\
lock-version = "1.0"
created-by = "wasmtool"
requires-python = ">=3.12"

[[packages]]
name = "attrs"
version = "26.1.0"
requires-python = ">=3.9"
index = "https://example.org/simple/"
wheels = [{ name = "attrs-26.1.0-py3-none-any.whl", url = "https://example.org/files/attrs.whl", \
hashes = { sha256 = "c647aa4a12dfbad9333ca4e71fe62ddc36f4e63b2d260a37a8b83d2f043ac309" } }]
"""

MANIFEST = """\
name = "sample"

[python]
requires-python = ">=3.12"
python-version = "3.12"

[python-dependencies]
tomli = "^2"
attrs = { version = ">=23", extras = ["tests"] }
"""

SOURCE = """\
// a Mochi program
import python "tomli@^2" as tomli
import python "attrs[tests]@git+https://example.org/attrs.git#v23" as at
/* import python "nope" */
let x = tomli.loads("a = 1")
"""

TOML_TOKENS = [*'[]{}="\'.,#\n\t -_+:abcxyz019\\', "\ufeff", "\x00", "é", '"""', "[[", "]]"]
MOCHI_TOKENS = [*'"\\/*#\n @[]<>=^~+.,:;-_aspythonimr019', "import python ", " as ", "\ufeff", "//", "/*"]
JSON_TOKENS = [*'[]{}":,.-+0129eE \\ntrufals', '{"$', '"call"', "\ufeff", "\x80", "true", "null"]


def token_text(tokens: list[str], max_size: int = 200) -> st.SearchStrategy[str]:
    """Text made of the format's own tokens (so the parser gets past its first character)."""
    return st.lists(st.sampled_from(tokens), max_size=max_size).map("".join)

#: Values a TOML document (or JSON) may hold, for replacing one value of a valid document.
SCALARS = st.one_of(st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=True), st.text(max_size=30))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=10)


def only_coded_errors(fn: Callable[[], object]) -> None:
    """Run ``fn``; a WasmtoolError is a clear answer, anything else fails the test."""
    problem = None
    try:
        fn()
    except WasmtoolError as exc:
        if not exc.code.startswith("WT") or len(str(exc)) > 20_000:
            problem = f"{exc.code}: {len(str(exc))} characters of error text"
    assert problem is None, problem


def nested(depth: int, kind: str) -> str:
    if kind == "array":
        return "[" * depth + "1" + "]" * depth
    return "{a = " * depth + "1" + "}" * depth


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path inside ``data`` (dicts and lists)."""
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths(value, (*prefix, index))
    return found


def replaced(doc: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """``doc`` with one value (anywhere) replaced by a random value, or one key removed."""
    doc = copy.deepcopy(doc)
    path = data.draw(st.sampled_from(paths(doc)))
    parent: Any = doc
    for key in path[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and data.draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(VALUES)
    return doc


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


# -- .mochi sources ------------------------------------------------------------------------------


@FUZZ
@given(text=token_text(TOML_TOKENS + MOCHI_TOKENS))
def test_mochi_source_text(text: str) -> None:
    only_coded_errors(lambda: scan_imports(text, file="main.mochi"))


@FUZZ
@given(name=st.text(max_size=300), alias=st.text(max_size=40), big=st.integers(0, 200_000))
def test_mochi_import_lines(name: str, alias: str, big: int) -> None:
    line = f'import python "{name}{"a" * big}" as {alias}\n'
    only_coded_errors(lambda: scan_imports(SOURCE + line, file="main.mochi"))


@FUZZ
@given(content=st.binary(max_size=200) | st.builds(lambda b, i: SOURCE.encode()[:i] + b, st.binary(max_size=8),
                                                    st.integers(0, len(SOURCE))))
def test_mochi_source_bytes(tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path, "main.mochi", content)
    only_coded_errors(lambda: scan_imports(read_source(path, file="main.mochi"), file="main.mochi"))


# -- mochi.toml (read by wasmtool.project.manifest) ------------------------------------------------


@FUZZ
@given(content=st.binary(max_size=200) | st.builds(lambda b: b"\xef\xbb\xbf" + b, st.binary(max_size=20)))
def test_manifest_bytes(tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path, "mochi.toml", content)
    only_coded_errors(lambda: load_manifest(path))


@FUZZ
@given(text=token_text(TOML_TOKENS))
def test_manifest_text(text: str) -> None:
    only_coded_errors(lambda: parse_manifest(text, file="mochi.toml"))


@FUZZ
@given(depth=st.integers(1, 100_000), kind=st.sampled_from(["array", "table"]))
def test_manifest_deep(depth: int, kind: str) -> None:
    only_coded_errors(lambda: parse_manifest(MANIFEST + f"deep = {nested(depth, kind)}\n", file="mochi.toml"))


@FUZZ
@given(data=st.data())
def test_manifest_values(data: st.DataObject) -> None:
    from wasmtool.lock.toml_render import render

    doc = replaced(tomllib.loads(MANIFEST), data)
    try:
        text = render(doc)
    except Exception:   # a value TOML cannot hold (None, NaN keys, ...): nothing to read
        return
    only_coded_errors(lambda: parse_manifest(text, file="mochi.toml"))


def test_manifest_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "mochi.toml").mkdir()
    only_coded_errors(lambda: load_manifest(tmp_path / "mochi.toml"))


# -- mochi.lock ----------------------------------------------------------------------------------


@FUZZ
@given(content=st.binary(max_size=200) | st.builds(lambda b, i: LOCK.encode()[:i] + b, st.binary(max_size=8),
                                                    st.integers(0, len(LOCK))))
def test_lock_bytes(tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path, "mochi.lock", content)
    only_coded_errors(lambda: read_lock(path))


@FUZZ
@given(text=token_text(TOML_TOKENS))
def test_lock_text(text: str) -> None:
    only_coded_errors(lambda: parse_lock_text(text, file="mochi.lock"))


@FUZZ
@given(depth=st.integers(1, 100_000), kind=st.sampled_from(["array", "table"]))
def test_lock_deep(depth: int, kind: str) -> None:
    only_coded_errors(lambda: parse_lock_text(f"deep = {nested(depth, kind)}\n" + LOCK, file="mochi.lock"))


@FUZZ
@given(data=st.data())
def test_lock_values(data: st.DataObject) -> None:
    doc = replaced(tomllib.loads(LOCK), data)
    only_coded_errors(lambda: MochiLock.from_dict(doc, file="mochi.lock"))


def test_lock_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "mochi.lock").mkdir()
    only_coded_errors(lambda: read_lock(tmp_path / "mochi.lock"))


# -- pylock.toml ---------------------------------------------------------------------------------


@FUZZ
@given(content=st.binary(max_size=200) | st.builds(lambda b, i: PYLOCK.encode()[:i] + b, st.binary(max_size=8),
                                                    st.integers(0, len(PYLOCK))))
def test_pylock_bytes(tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path, "pylock.toml", content)
    only_coded_errors(lambda: read_pylock_file(path))


@FUZZ
@given(depth=st.integers(1, 100_000), kind=st.sampled_from(["array", "table"]))
def test_pylock_deep(tmp_path: Path, depth: int, kind: str) -> None:
    path = write(tmp_path, "pylock.toml", (f"deep = {nested(depth, kind)}\n" + PYLOCK).encode())
    only_coded_errors(lambda: read_pylock_file(path))


@FUZZ
@given(data=st.data())
def test_pylock_values(data: st.DataObject) -> None:
    doc = replaced(tomllib.loads(PYLOCK), data)
    only_coded_errors(lambda: read_pylock(doc, file="pylock.toml"))


@pytest.mark.parametrize("make", [lambda p: p.mkdir(), lambda p: None], ids=["folder", "missing"])
def test_pylock_unreadable(tmp_path: Path, make: Callable[[Path], None]) -> None:
    make(tmp_path / "pylock.toml")
    only_coded_errors(lambda: load_toml(tmp_path / "pylock.toml"))


# -- wasmtool run calls-file lines and wasmtool call --args / --kwargs ---------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10)
    | st.sampled_from(["$int", "$float", "$bytes", "$handle", "$tuple", "$set", "$map", "nan"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["$int", "$float", "$bytes", "$handle", "$tuple", "$set", "$map", "call", "args", "x"])
        | st.text(max_size=5), inner, max_size=3),
    max_leaves=12)


def calls_line(value: Any) -> str:
    import json

    return json.dumps(value)


@FUZZ
@given(content=st.binary(max_size=200))
def test_calls_line_bytes(content: bytes) -> None:
    only_coded_errors(lambda: _parse_line(_decode_line(content).strip()))


@FUZZ
@given(text=token_text(JSON_TOKENS))
def test_calls_line_text(text: str) -> None:
    only_coded_errors(lambda: _parse_line(text))


@FUZZ
@given(args=JSON_VALUES, kwargs=JSON_VALUES, extra=st.dictionaries(st.text(max_size=5), JSON_VALUES, max_size=2))
def test_calls_line_values(args: Any, kwargs: Any, extra: dict[str, Any]) -> None:
    only_coded_errors(lambda: _parse_line(calls_line({**extra, "call": "a.b", "args": args, "kwargs": kwargs})))


@FUZZ
@given(depth=st.integers(1, 10_000), kind=st.sampled_from(["[", '{"a": ']))
def test_calls_line_deep(depth: int, kind: str) -> None:
    close = "]" if kind == "[" else "}"
    only_coded_errors(lambda: _parse_line('{"call": "a.b", "args": [' + kind * depth + "1" + close * depth + "]}"))


@FUZZ
@given(text=token_text(JSON_TOKENS) | JSON_VALUES.map(calls_line)
       | st.builds(lambda d: "[" * d + "]" * d, st.integers(1, 10_000)),
       param=st.sampled_from(["--args", "--kwargs"]))
def test_call_arguments(text: str, param: str) -> None:
    want, what = (list, "array") if param == "--args" else (dict, "object")
    only_coded_errors(lambda: _json_arg(text, param=param, want=want, what=what))
