"""The static import closure a componentize-py guest imports at build time (pure logic)."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wasmtool.wit.preimport import EXCLUDED, ModuleSource, import_closure, module_of_member

STDLIB = {"json", "importlib", "importlib.metadata", "importlib.metadata._adapters", "os", "os.path", "typing",
          "textwrap", "this", "asyncio"}


def is_stdlib(name: str) -> bool:
    return name in STDLIB


def src(name: str, text: str, *, package: bool = False) -> ModuleSource:
    return ModuleSource(name, package, text)


PKG = [
    src("pkg", "from . import core\nfrom .core import run\n__all__ = ['run']\n", package=True),
    src("pkg.core", "import json\n\ndef run():\n    from ._lazy import helper\n    return helper()\n"),
    src("pkg._lazy", "def helper():\n    import textwrap\n    return textwrap.dedent('x')\n"),
    src("pkg._never", "import os\n"),                     # nobody imports it
    src("pkg.typed", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import _never\n"
        "else:\n    import asyncio\n"),
    src("pkg.dyn", "import importlib\nmod = importlib.import_module('pkg._plugin')\n"
        "name = 'pkg._hidden'\nother = importlib.import_module(name)\n"),
    src("pkg._plugin", "import this\n"),
    src("pkg._hidden", ""),
    src("pkg.__main__", "import os\n"),
    src("other", "import json\n", package=True),
    src("pkg_externs", "import _mochi_wrap\nimport pkg\n_w = _mochi_wrap.lazy_module('pkg.typed')\n"
        "_d = _mochi_wrap.lazy_module('pkg.dyn')\n"),
    src("_mochi_wrap", "def lazy_module(name):\n    import importlib\n    return importlib.import_module(name)\n"),
]


def test_closure_follows_lazy_and_relative_imports_but_not_type_checking_or_dynamic_names() -> None:
    got = import_closure(PKG, ["pkg_externs"], is_stdlib_module=is_stdlib)
    assert got == tuple(sorted({
        "pkg_externs", "_mochi_wrap", "importlib", "pkg", "pkg.core", "json", "pkg._lazy", "textwrap",
        "pkg.typed", "typing", "asyncio", "pkg.dyn", "pkg._plugin",
    }))
    assert "pkg._never" not in got          # only under TYPE_CHECKING / never imported
    assert "pkg._hidden" not in got         # a name computed at run time is not seen
    assert "this" not in got and "this" in EXCLUDED
    assert "other" not in got               # bundled, never imported
    assert "pkg.run" not in got             # `from .core import run`: an attribute, not a module


def test_stdlib_lazy_imports_are_followed_too() -> None:
    stdlib_sources = {
        "importlib.metadata": src("importlib.metadata", "class D:\n    @property\n    def m(self):\n"
                                  "        from . import _adapters\n", package=True),
        "importlib.metadata._adapters": src("importlib.metadata._adapters", "def f():\n    import os.path\n"),
    }
    sources = [src("m", "def f():\n    import importlib.metadata\n")]
    got = import_closure(sources, ["m"], is_stdlib_module=is_stdlib, stdlib_source=stdlib_sources.get)
    assert {"importlib.metadata._adapters", "os", "os.path"} <= set(got)


def test_relative_import_beyond_the_top_is_ignored_and_syntax_errors_are_skipped() -> None:
    sources = [src("a", "from ... import x\n"), src("b", "def (:\n")]
    assert import_closure(sources, ["a", "b"], is_stdlib_module=is_stdlib) == ("a", "b")


@pytest.mark.parametrize(("member", "expected"), [
    ("click/_textwrap.py", ("click._textwrap", False)),
    ("click/__init__.py", ("click", True)),
    ("toml.py", ("toml", False)),
    ("click-8.5.1.dist-info/METADATA", None),
    ("pkg-1.0.data/scripts/tool.py", None),
    ("my-pkg/mod.py", None),
    ("README.md", None),
])
def test_module_of_member(member: str, expected: tuple[str, bool] | None) -> None:
    assert module_of_member(member) == expected


@given(st.text(max_size=300))
def test_any_source_text_gives_a_sorted_closure_without_raising(text: str) -> None:
    got = import_closure([src("m", text)], ["m"], is_stdlib_module=lambda n: n.split(".")[0] in
                         sys.stdlib_module_names)
    assert list(got) == sorted(set(got)) and "m" in got
