from __future__ import annotations

import sys

import pytest

from wasmtool.resolve.uv import CompileRequest, compile_argv, compile_interpreter, uv_environment
from wasmtool.resolve.wheelinfo import import_names_from, platform_tag


def req(**kw: object) -> CompileRequest:
    base: dict[str, object] = dict(requirements=("a",), python_version="3.12",
                                   python_platform="x86_64-manylinux_2_28", index_url="https://p.invalid/simple/")
    base.update(kw)
    return CompileRequest(**base)  # type: ignore[arg-type]


def test_argv_passes_target_explicitly() -> None:
    argv = compile_argv("uv", req(), req_file="r.in", out_file="pylock.toml", constraints_file=None)
    assert argv[:3] == ["uv", "pip", "compile"]
    for flag, value in (("--python-version", "3.12"), ("--python-platform", "x86_64-manylinux_2_28"),
                        ("--default-index", "https://p.invalid/simple/"), ("--format", "pylock.toml")):
        assert argv[argv.index(flag) + 1] == value
    assert "--no-config" in argv and "--only-binary" in argv and "--index" not in argv


def test_extra_indexes_stay_behind_the_primary() -> None:
    argv = compile_argv("uv", req(extra_index_urls=("file:///x", "https://e.invalid/")), req_file="r",
                        out_file="o", constraints_file="c.txt")
    indexes = [argv[i + 1] for i, a in enumerate(argv) if a == "--index"]
    assert indexes == ["https://p.invalid/simple/", "file:///x", "https://e.invalid/"]
    assert argv[argv.index("--constraints") + 1] == "c.txt"


@pytest.mark.parametrize(("kw", "flag"), [({"offline": True}, "--offline"), ({"cache_dir": "/c"}, "--cache-dir")])
def test_optional_flags(kw: dict[str, object], flag: str) -> None:
    assert flag in compile_argv("uv", req(**kw), req_file="r", out_file="o", constraints_file=None)


def test_environment_is_scrubbed() -> None:
    env = uv_environment({"PYTHONPATH": "/evil", "UV_INDEX_URL": "https://x.invalid/", "VIRTUAL_ENV": "/v",
                          "UV_CACHE_DIR": "/c", "PATH": "/bin"})
    assert "PYTHONPATH" not in env and "UV_INDEX_URL" not in env and "VIRTUAL_ENV" not in env
    assert env["UV_CACHE_DIR"] == "/c" and env["UV_PYTHON_DOWNLOADS"] == "never"


@pytest.mark.parametrize(("files", "top", "expected"), [
    (["attr/__init__.py", "attrs/__init__.py", "attrs-26.1.0.dist-info/METADATA"], None, ("attr", "attrs")),
    (["yaml/__init__.py", "_yaml/__init__.py", "PyYAML-6.0.dist-info/RECORD"], None, ("yaml",)),
    (["typing_extensions.py", "typing_extensions-4.dist-info/RECORD"], None, ("typing_extensions",)),
    (["x/__init__.py"], "sklearn\n", ("sklearn",)),
    (["_cffi_backend.cpython-312-x86_64-linux-gnu.so", "cffi/__init__.py"], None, ("cffi",)),
    (["_only.py"], None, ("_only",)),
])
def test_import_names(files: list[str], top: str | None, expected: tuple[str, ...]) -> None:
    assert import_names_from(files, top) == expected


def test_platform_tag() -> None:
    assert platform_tag("tomli-2.5.0-cp312-cp312-manylinux2014_x86_64.manylinux_2_17_x86_64.whl") == \
        "cp312-cp312-manylinux2014_x86_64.manylinux_2_17_x86_64"
    assert platform_tag("attrs-26.1.0-py3-none-any.whl") == "py3-none-any"


def test_wheels_only_names_the_running_interpreter() -> None:
    # uv would otherwise look for an interpreter of the target version (venvs, PATH, pyenv shims)
    assert compile_interpreter(req()) == sys.executable
    assert compile_interpreter(req(only_binary=False)) is None      # sdists are built: uv chooses
    assert compile_interpreter(req(interpreter="/py")) == "/py"
    argv = compile_argv("uv", req(interpreter="/py"), req_file="r", out_file="o", constraints_file=None)
    assert argv[argv.index("--python") + 1] == "/py"
    assert "--python" not in compile_argv("uv", req(), req_file="r", out_file="o", constraints_file=None)
