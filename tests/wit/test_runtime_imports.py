"""What a component carries (issue: no silent wrong answers from modules a package imports at
run time), and the lock-time check of what a package needs: pure logic, no build."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from wasmtool.targets.stdlib import parse_stdlib
from wasmtool.targets.wasi import failure_reason, missing_on_guest, modules_needing_missing
from wasmtool.wit.build import selfcheck_files
from wasmtool.wit.errors import WitError
from wasmtool.wit.guest import SELFCHECK_INTERFACE, render_probe_app
from wasmtool.wit.preimport import (
    ModuleSource,
    carried_modules,
    import_time_closure,
    is_test_module,
)

SYSCONFIG = b"build_time_vars = {'VERSION': '3.14', 'MODBUILT_NAMES': '_json'}\n"
#: A small guest standard library: bz2 needs _bz2, which this guest does not have.
GUEST = parse_stdlib({
    "_sysconfigdata__wasi_wasm32-wasi.py": SYSCONFIG,
    "os.py": b"import sys\n",
    "json/__init__.py": b"from .decoder import JSONDecoder\n",
    "json/decoder.py": b"import re\n",
    "re/__init__.py": b"",
    "bz2.py": b"from _bz2 import BZ2Compressor\nimport os\n",
    "importlib/__init__.py": b"",
    "codecs.py": b"",
    "encodings/__init__.py": b"import codecs\n",
    "encodings/punycode.py": b"import codecs\n",
    "encodings/idna.py": b"import re\nimport codecs\n",
    "ssl.py": b"import _ssl\n",
    "textwrap.py": b"import re\n",
})


def src(name: str, text: str, *, package: bool = False) -> ModuleSource:
    return ModuleSource(name, package, text)


def stdlib_source(name: str) -> ModuleSource | None:
    found = GUEST.source(name)
    return ModuleSource(name, found[0], found[1]) if found else None


# a package that reaches modules by computed names, like unidecode and lazy-loading packages
TABLES = [
    src("tables", "def lookup(n):\n    mod = __import__('tables.x%03x' % n, fromlist=[None])\n"
        "    return mod.data\n", package=True),
    src("tables.x000", "data = 'a'\n"),
    src("tables.x017", "data = 'b'\n"),
    src("tables.lazy", "import importlib\n\ndef __getattr__(name):\n"
        "    return importlib.import_module('.' + name, __name__)\n", package=True),
    src("tables.lazy.sub", "def f():\n    import textwrap\n    return textwrap\n"),
    src("tables.tests", "", package=True),
    src("tables.tests.test_x", "import tables\n"),
    src("tables.testing", "import json\n"),
    src("tables.__main__", "print('hi')\n"),
    src("wrapper_externs", "import tables\n"),
]
WHEEL_MODULES = [m.name for m in TABLES if m.name != "wrapper_externs"]


def test_every_module_of_a_wheel_is_carried_even_those_reached_by_computed_names() -> None:
    got = carried_modules(TABLES, ["wrapper_externs"], bundled=WHEEL_MODULES, is_stdlib_module=GUEST.is_module,
                          stdlib_source=stdlib_source, stdlib_names=GUEST.dotted_names)
    assert {"tables.x000", "tables.x017", "tables.lazy", "tables.lazy.sub", "tables.testing"} <= set(got.modules)
    # what they reach in the standard library, through their sources, even inside functions
    assert {"textwrap", "re", "json", "json.decoder", "importlib"} <= set(got.modules)
    # the whole encodings package: codecs are imported by name (str.encode("punycode"))
    assert {"encodings", "encodings.punycode", "encodings.idna", "codecs"} <= set(got.modules)
    # a test suite inside the wheel is left out (and listed), __main__ is never imported
    assert "tables.tests.test_x" not in got.modules and "tables.tests" not in got.modules
    assert got.left_out == ("tables.__main__", "tables.tests", "tables.tests.test_x")
    # modules nobody reaches in the standard library are not carried
    assert "bz2" not in got.modules and "ssl" not in got.modules
    assert list(got.modules) == sorted(set(got.modules))


def test_a_test_module_that_a_kept_module_imports_is_carried() -> None:
    sources = [*TABLES, src("tables.helpers", "from tables.tests import test_x\n")]
    got = carried_modules(sources, [], bundled=[*WHEEL_MODULES, "tables.helpers"],
                          is_stdlib_module=GUEST.is_module, stdlib_source=stdlib_source)
    assert {"tables.tests", "tables.tests.test_x"} <= set(got.modules)
    assert got.left_out == ("tables.__main__",)


@pytest.mark.parametrize(("name", "expected"), [
    ("pkg.tests.test_a", True), ("pkg.test", True), ("conftest", True), ("pkg.testing", False),
    ("pytest", False), ("tests_helper", False),
])
def test_is_test_module(name: str, expected: bool) -> None:
    assert is_test_module(name) is expected


def test_import_time_closure_follows_only_what_importing_runs() -> None:
    sources = [
        src("pkg", "from . import core\ntry:\n    import ssl\nexcept ImportError:\n    ssl = None\n", package=True),
        src("pkg.core", "import bz2\nimport json\n\ndef later():\n    import ssl\n\n"
            "if False:\n    import _ctypes\nclass C:\n    from os import sep\n"),
        src("pkg.unused", "import ssl\n"),
    ]
    chains = import_time_closure(sources, ["pkg"], is_stdlib_module=GUEST.is_module, stdlib_source=stdlib_source)
    assert chains["pkg"] == ()
    assert chains["pkg.core"] == ("pkg",)
    assert chains["_bz2"] == ("pkg", "pkg.core", "bz2")      # the importer chain, shortest first
    assert "_bz2.BZ2Compressor" not in chains                  # an attribute, not a module
    assert "json.decoder" in chains and "os" in chains
    # guarded by `except ImportError`, inside a function, under an `if`, never imported: not needed
    assert "ssl" not in chains and "_ssl" not in chains and "_ctypes" not in chains and "pkg.unused" not in chains


def test_type_checking_else_branch_is_followed() -> None:
    sources = [src("m", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import ssl\nelse:\n    import bz2\n")]
    chains = import_time_closure(sources, ["m"], is_stdlib_module=GUEST.is_module, stdlib_source=stdlib_source)
    assert "_bz2" in chains and "ssl" not in chains


def _wheel(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


def test_a_required_package_that_needs_a_module_the_guest_lacks_is_named_with_its_importers(tmp_path: Path) -> None:
    wheels = {
        "graphs": _wheel(tmp_path / "graphs-1.0-py3-none-any.whl", {
            "graphs/__init__.py": "from graphs.readwrite import gml\n",
            "graphs/readwrite/__init__.py": "",
            "graphs/readwrite/gml.py": "import bz2\n",
            "graphs-1.0.dist-info/METADATA": "Name: graphs\n"}),
        # a dependency that needs ssl, but only lazily from the required package
        "transport": _wheel(tmp_path / "transport-1.0-py3-none-any.whl", {"transport/__init__.py": "import ssl\n"}),
        "client": _wheel(tmp_path / "client-1.0-py3-none-any.whl", {
            "client/__init__.py": "def send():\n    import transport\n"}),
    }
    missing = frozenset({"_bz2", "_ssl"})
    found = modules_needing_missing(wheels, GUEST, missing, roots=["graphs", "client"])
    assert found == {"graphs": ("_bz2", ("graphs", "graphs.readwrite.gml", "bz2"))}
    # asked about every locked package, the dependency is named too
    assert set(modules_needing_missing(wheels, GUEST, missing)) == {"graphs", "transport"}


def test_missing_on_guest_is_what_the_host_imports_and_the_guest_lacks() -> None:
    missing = missing_on_guest(GUEST)
    assert {"_bz2", "_ssl"} <= missing
    assert "os" not in missing and "json" not in missing
    assert "_winapi" not in missing and "msvcrt" not in missing      # another platform's modules


@pytest.mark.parametrize(("error", "expected"), [
    ("ModuleNotFoundError: No module named '_bz2'", "the wasi-p2 CPython (3.14) has no module _bz2"),
    ("ModuleNotFoundError: No module named '_zstd'", "the wasi-p2 CPython (3.14) has no module _zstd"),
    ("ModuleNotFoundError: No module named 'termios'", "the wasi-p2 CPython (3.14) has no module termios"),
    ("ModuleNotFoundError: No module named 'brotli'", "brotli is not locked"),
    ("ModuleNotFoundError: No module named 'tables.gone'", ""),
    ("ModuleNotFoundError: No module named 'json.nope'", ""),
    ("ImportError: cannot import name 'x' from 'tables'", ""),
])
def test_failure_reason(error: str, expected: str) -> None:
    got = failure_reason(error, guest=GUEST, carried_tops={"tables", "os"}, target="wasi-p2")
    assert got.startswith(expected) if expected else got == ""


def test_main_guard_imports_are_not_followed() -> None:
    sources = [src("m", "import json\n\nif __name__ == '__main__':\n    import textwrap\nelse:\n    import os\n")]
    got = carried_modules(sources, [], bundled=["m"], is_stdlib_module=GUEST.is_module, stdlib_source=stdlib_source)
    assert "textwrap" not in got.modules and {"json", "os"} <= set(got.modules)


def test_selfcheck_world_includes_the_rendered_world_and_refuses_a_clash() -> None:
    (name, text), world = selfcheck_files("mochi:py-demo@1.0.0", "demo", ["api"])
    assert name == "wasmtool-selfcheck.wit" and world == "demo-checked"
    assert "package mochi:py-demo@1.0.0;" in text and "include demo;" in text
    assert f"export {SELFCHECK_INTERFACE};" in text and "check: func() -> list<tuple<string, string, string>>" in text
    with pytest.raises(WitError, match="wasmtool-selfcheck"):
        selfcheck_files("mochi:py-demo@1.0.0", "demo", ["wasmtool-selfcheck"])


def test_probe_guest_imports_each_module_and_keeps_failures() -> None:
    app = render_probe_app(preimport=["b", "a", "a"])
    assert "_PREIMPORT = _json.loads('[\"a\",\"b\"]')" in app
    assert "class WasmtoolSelfcheck(_exports.WasmtoolSelfcheck):" in app
    assert "_PREIMPORT_FAILED[_name] = _import_error(_exc)" in app
    compile(app, "app.py", "exec")
    assert render_probe_app(preimport=["a", "b"]) == app


def test_install_lines_list_the_failing_modules_of_each_component() -> None:
    from types import SimpleNamespace

    from wasmtool.targets.wasi import ModuleFailure, WasiComponentInfo, WasiInstallOutcome

    info = WasiComponentInfo("httpx", Path("/p/.mochi/wasi-p2/httpx/component.wasm"),
                             SimpleNamespace(from_cache=False), "httpx_externs")  # type: ignore[arg-type]
    failures = tuple(ModuleFailure("httpx", f"httpcore.m{i:02d}", "ModuleNotFoundError: No module named '_ssl'",
                                   "the wasi-p2 CPython (3.14.0) has no module _ssl" if i else "")
                     for i in range(14))
    lines = WasiInstallOutcome("wasi-p2", (info,), module_failures=failures).lines()
    assert lines[0] == "component httpx: /p/.mochi/wasi-p2/httpx/component.wasm (built)"
    assert lines[1] == ("component httpx: 14 module(s) of its packages cannot import on wasi-p2 "
                        "(listed in /p/.mochi/wasi-p2/httpx/modules.json):")
    assert lines[2] == "  httpcore.m00: ModuleNotFoundError: No module named '_ssl'"     # no reason: the error
    assert lines[3] == "  httpcore.m01: the wasi-p2 CPython (3.14.0) has no module _ssl"
    assert lines[-1] == "  ... and 2 more" and len(lines) == 15
    assert WasiInstallOutcome("wasi-p2", (info,)).lines() == lines[:1]
