"""The target backends: one per profile kind, found from the profile, owning its platform facts.

The standard library of a WebAssembly target is read from what the target ships (the pinned
componentize-py's embedded CPython), never from the interpreter running the tests.
"""

from __future__ import annotations

import io
import sys
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from wasmtool.project.errors import ManifestError
from wasmtool.project.manifest import parse_manifest
from wasmtool.project.model import Project, build_project
from wasmtool.run.errors import SessionConfigError, UnsupportedTargetError
from wasmtool.targets.backend import BACKENDS, backend_for, backend_named
from wasmtool.targets.native import NativeBackend
from wasmtool.targets.profile import (
    COMPONENT_TARGET,
    DEFAULT_TARGET,
    KINDS,
    ProfileError,
    callables_cross,
    load_profile,
    parse_profile,
)
from wasmtool.targets.pyodide import PyodideBackend
from wasmtool.targets.stdlib import INTERPRETER_CORE, parse_stdlib
from wasmtool.targets.wasi import WasiBackend

ALL = ("native", "pyodide-314", "pyodide-2025", "wasi-p2")


def project(python: str = "", tmp: Path = Path("/nonexistent")) -> Project:
    text = f'name = "p"\n[python]\n{python}\n'
    return build_project(parse_manifest(text, file=str(tmp / "mochi.toml")), [], tmp)


@pytest.mark.parametrize(("target", "cls"), [
    ("native", NativeBackend), ("pyodide-314", PyodideBackend), ("pyodide", PyodideBackend),
    ("pyodide-2025", PyodideBackend), ("wasi-p2", WasiBackend),
])
def test_the_backend_is_found_from_the_profile(target: str, cls: type) -> None:
    backend = backend_named(target)
    assert type(backend) is cls and backend.profile is load_profile(target)


def test_every_kind_has_one_backend_and_an_unknown_kind_is_a_typed_error() -> None:
    assert sorted(BACKENDS) == sorted(KINDS)
    odd = replace(load_profile("native"), name="odd", kind="mainframe")
    with pytest.raises(UnsupportedTargetError, match="mainframe"):
        backend_for(odd)


@pytest.mark.parametrize(("target", "platform", "callables", "workspace"), [
    ("native", "linux", True, "python_workspace"),
    ("pyodide-314", "emscripten", True, "python_workspace-pyodide-314"),
    ("pyodide-2025", "emscripten", True, "python_workspace-pyodide-2025"),
    ("wasi-p2", "wasi", False, "python_workspace-wasi-p2"),
])
def test_platform_facts_come_from_the_profile(target: str, platform: str, callables: bool, workspace: str) -> None:
    backend = backend_named(target)
    assert backend.sys_platform == platform
    assert backend.callables_cross is callables
    assert backend.workspace_dir(Path("/p")) == Path("/p/.mochi") / workspace


@pytest.mark.parametrize(("target", "settings", "expected"), [
    ("wasi-p2", 'python-version = "3.11"', "3.14"),          # a fixed interpreter ignores the project's
    ("pyodide-2025", "", "3.13"),
    ("native", 'python-version = "3.11"', "3.11"),
    ("native", 'requires-python = ">=3.10"', "3.10"),        # the lowest one requires-python admits
    ("native", "", "3.12"),                                  # requires-python's default is >=3.12
])
def test_python_version(target: str, settings: str, expected: str) -> None:
    assert backend_named(target).python_version(project(settings)) == expected


def test_no_host_fallback_for_an_unknown_python_version() -> None:
    with pytest.raises(ManifestError, match=r"admits no CPython.*python-version"):
        backend_named("native").python_version(project('requires-python = ">=4"'))


def test_wasm_targets_refuse_native_runtime_options(tmp_path: Path) -> None:
    for target in ("wasi-p2", "pyodide-314"):
        backend = backend_named(target)
        settings = project().manifest.python
        with pytest.raises(SessionConfigError, match="apply to native targets"):
            backend.choose_runtime(tmp_path, settings, mode="embedded", python=None)
        with pytest.raises(SessionConfigError, match="apply to native targets"):
            backend.choose_runtime(tmp_path, settings, mode=None, python=sys.executable)
    assert backend_named("wasi-p2").choose_runtime(tmp_path, project().manifest.python, mode="auto",
                                                   python=None).mode == "component"


def test_only_native_has_an_exec_environment(tmp_path: Path) -> None:
    from wasmtool.errors import UsageError

    for target in ("wasi-p2", "pyodide-314"):
        with pytest.raises(UsageError, match="native targets only"):
            backend_named(target).exec_environment(None, {})  # type: ignore[arg-type]


# -- profile data ------------------------------------------------------------------------------------


def test_defaults_name_real_profiles() -> None:
    assert load_profile(DEFAULT_TARGET).kind == "native"
    assert load_profile(COMPONENT_TARGET).callables is False


@pytest.mark.parametrize(("name", "expected"), [
    ("native", True), ("pyodide", True), ("wasi-p2", False), ("subprocess", False), ("no-such-target", True),
])
def test_callables_cross_by_name(name: str, expected: bool) -> None:
    assert callables_cross(name) is expected


def test_profile_keys_for_backends_are_validated() -> None:
    base = {"name": "t", "kind": "wasi", "python-version": "3.14", "resolver": "resolvelib", "platforms": ["any"]}
    prof = parse_profile({**base, "callables": False, "index-pure-only": True,
                          "messages": {"distribution": "X"}}, file="t.toml")
    assert (prof.callables, prof.index_pure_only, prof.messages) == (False, True, {"distribution": "X"})
    with pytest.raises(ProfileError, match=r"messages\.nope: unknown key"):
        parse_profile({**base, "messages": {"nope": "?"}}, file="t.toml")
    with pytest.raises(ProfileError, match="callables: expected true or false"):
        parse_profile({**base, "callables": "no"}, file="t.toml")


def test_only_the_old_pyodide_line_is_pure_only() -> None:
    assert [t for t in ALL if load_profile(t).index_pure_only] == ["pyodide-2025"]


# -- the standard library of a target --------------------------------------------------------------


SYSCONFIG = b"build_time_vars = {'VERSION': '3.99', 'MODBUILT_NAMES': '_json  math  posix'}\n"


def test_parse_stdlib_reads_the_archive_not_the_host() -> None:
    files = {"_sysconfigdata__wasi_wasm32-wasi.py": SYSCONFIG, "os.py": b"import posixpath\n",
             "json/__init__.py": b"from .decoder import x\n", "json/decoder.py": b"x = 1\n",
             "newmod.py": b"", "config-3.99/Makefile": b"", "build-details.json":
             b'{"language": {"version_info": {"major": 3, "minor": 99, "micro": 2}}}'}
    st = parse_stdlib(files, origin="test")
    assert (st.version, st.full_version) == ("3.99", "3.99.2")
    assert {"os", "json", "newmod", "_json", "math", "posix"} | INTERPRETER_CORE == set(st.module_names)
    assert "cgi" not in st.module_names and "_sysconfigdata__wasi_wasm32-wasi" not in st.module_names
    assert st.is_module("json.decoder") and st.is_module("os.path") and not st.is_module("json.loads")
    assert st.source("json") == (True, "from .decoder import x\n") and st.source("math") is None
    assert parse_stdlib(dict(files, **{"newmod.py": b"changed"})).key != st.key
    with pytest.raises(ValueError, match="_sysconfigdata"):
        parse_stdlib({"os.py": b""})


def test_the_wasi_guest_stdlib_is_componentize_pys_cpython() -> None:
    from wasmtool.wit.guest_python import guest_stdlib, stdlib_from_library

    st = guest_stdlib()
    assert st.version == load_profile("wasi-p2").python_version == "3.14"
    assert "annotationlib" in st.module_names          # new in 3.14, whatever runs the tests
    assert "cgi" not in st.module_names                # removed in 3.13
    assert st.is_module("importlib.metadata") and st.source("importlib.metadata") is not None
    assert WasiBackend(load_profile("wasi-p2")).stdlib_module_names(None) == st.module_names  # type: ignore[arg-type]
    assert stdlib_from_library(Path(st.origin)).key == st.key


def test_a_library_without_an_embedded_stdlib_is_a_tool_error(tmp_path: Path) -> None:
    from wasmtool.wit.errors import ToolMissingError
    from wasmtool.wit.guest_python import stdlib_from_library, zstd_module

    zstd = zstd_module()

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("poll_loop.py")
        tar.addfile(info, io.BytesIO(b""))
    fake = tmp_path / "componentize_py.abi3.so"
    fake.write_bytes(b"\0asm junk" + zstd.compress(buf.getvalue()) + b"tail")
    with pytest.raises(ToolMissingError, match="embeds no CPython standard library"):
        stdlib_from_library(fake)
