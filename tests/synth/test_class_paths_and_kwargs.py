"""What the generators make of a class path (``type[X]``), ``**kwargs`` (one map) and a declared
``memoryview``: a GENERATED wrapper that resolves and checks a class path both ways, spreads
the map as keyword arguments (also in a ``_full`` variant) and hands Python a memoryview;
the shim and the WIT plan see plain ``string`` / ``map`` / ``list<int>``; the TypeScript
declarations say what the string means.

Surfaces are built by hand here: what the type table produces is tested in tests/typemap.
"""

from __future__ import annotations

import importlib
import re
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
import wasmtool_runtime.mochi_wrap as mw

from wasmtool.synth.grammar import check_shim
from wasmtool.synth.shim import render_shim
from wasmtool.synth.typescript import render_typescript
from wasmtool.synth.workspace import externs_module, render_workspace
from wasmtool.typemap.surface import CLASS_PATH_PY, Function, Handle, MappedSurface, Param, ParamKind, TypeRef
from wasmtool.wit.model import plan_surface

FAKE = '''
class Base: ...
class Child(Base): ...
class Other: ...

def build(cls):
    assert isinstance(cls, type), cls
    return cls()

def kind_of(x):
    return type(x)

def options(url, *, timeout=1.0, **extra):
    return [url, timeout, sorted(extra.items())]

def size(view):
    assert isinstance(view, memoryview), view
    return view.nbytes
'''

S, INT, F = TypeRef("str"), TypeRef("int"), TypeRef("float")
BASE = TypeRef("handle", name="Base", py="clsfake:Base")
BASE_CLASS = TypeRef("str", name="clsfake:Base", py=CLASS_PATH_PY)
ANY_CLASS = TypeRef("str", py=CLASS_PATH_PY)
EXTRA = TypeRef("map", (S, INT))


def _p(name: str, t: TypeRef, kind: ParamKind = "positional_or_keyword", *, default: bool = False) -> Param:
    return Param(name, name, t, kind, default)


def fake_surface() -> MappedSurface:
    fns = [
        Function("cf_build", "clsfake:build", "function", (_p("cls", BASE_CLASS),), BASE),
        Function("cf_kind_of", "clsfake:kind_of", "function", (_p("x", TypeRef("any")),), ANY_CLASS),
        Function("cf_base_of", "clsfake:kind_of", "function", (_p("x", TypeRef("any")),), BASE_CLASS),
        Function("cf_options", "clsfake:options", "function",
                 (_p("url", S), _p("extra", EXTRA, "var_keyword")), TypeRef("any")),
        Function("cf_options_full", "clsfake:options", "function",
                 (_p("url", S), _p("timeout", TypeRef("option", (F,)), "keyword_only", default=True),
                  _p("extra", EXTRA, "var_keyword")), TypeRef("any"), full=True),
        Function("cf_size", "clsfake:size", "function",
                 (_p("view", TypeRef("bytes", py="builtins:memoryview")),), INT),
    ]
    return MappedSurface("clsfake", "1.0", "cf", ("clsfake",), "py.typed", functions=tuple(fns),
                         handles=(Handle("Base", "clsfake:Base"),))


@pytest.fixture(scope="module")
def wrapper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("cls")
    (root / "site").mkdir()
    (root / "site" / "clsfake.py").write_text(textwrap.dedent(FAKE))
    render_workspace([fake_surface()]).write(root / "ws")
    sys.path[:0] = [str(root / "site"), str(root / "ws")]
    try:
        yield importlib.import_module(externs_module(fake_surface()))
    finally:
        sys.path.remove(str(root / "site"))
        sys.path.remove(str(root / "ws"))
        for name in [m for m in sys.modules if m.startswith(("clsfake", "python_wrap", "_mochi_wrap"))]:
            del sys.modules[name]


def test_a_class_path_goes_in_and_comes_back(wrapper: Any) -> None:
    fake = importlib.import_module("clsfake")
    assert isinstance(wrapper.cf_build("clsfake.Child"), fake.Child)
    assert isinstance(wrapper.cf_build("clsfake:Base"), fake.Base)
    assert wrapper.cf_kind_of(3) == "builtins.int"
    assert wrapper.cf_base_of(fake.Child()) == "clsfake.Child"


def test_a_wrong_class_path_names_the_expected_class(wrapper: Any) -> None:
    wrap = importlib.import_module("_mochi_wrap")
    expected = "cf_build: cls: expected the dotted path of a subclass of clsfake.Base, got "
    with pytest.raises(wrap.BoundaryTypeError, match=f"^{expected}'clsfake.Other' \\(not a subclass\\)$"):
        wrapper.cf_build("clsfake.Other")
    with pytest.raises(wrap.BoundaryTypeError, match=f"^{expected}'clsfake.Nope' \\(no class at that path\\)$"):
        wrapper.cf_build("clsfake.Nope")
    with pytest.raises(wrap.BoundaryTypeError, match=f"^{expected}int$"):
        wrapper.cf_build(1)
    with pytest.raises(wrap.BoundaryTypeError, match=re.escape(
            "cf_base_of: return: expected the dotted path of a subclass of clsfake.Base, got 'builtins.int'")):
        wrapper.cf_base_of(1)


def test_kwargs_are_spread_as_keyword_arguments(wrapper: Any) -> None:
    assert wrapper.cf_options("u", {}) == ["u", 1.0, []]
    assert wrapper.cf_options("u", {"b": 2, "a": 1}) == ["u", 1.0, [("a", 1), ("b", 2)]]
    assert wrapper.cf_options_full("u", None, {"a": 1}) == ["u", 1.0, [("a", 1)]]
    assert wrapper.cf_options_full("u", 2.5, {}) == ["u", 2.5, []]
    wrap = importlib.import_module("_mochi_wrap")
    with pytest.raises(wrap.BoundaryTypeError, match=r"cf_options: extra\['a'\]: expected int, got str"):
        wrapper.cf_options("u", {"a": "x"})
    with pytest.raises(TypeError, match="multiple values for keyword argument 'timeout'"):
        wrapper.cf_options_full("u", 2.5, {"timeout": 3})


def test_a_declared_memoryview_is_passed_a_memoryview(wrapper: Any) -> None:
    assert wrapper.cf_size([1, 2, 3]) == 3


def test_shim_and_wit_see_plain_types() -> None:
    surface = fake_surface()
    for dialect in ("0.10", "mep-71"):
        check_shim(render_shim(surface, dialect, module=externs_module(surface)), dialect=dialect)
    shim = render_shim(surface, "mep-71", module=externs_module(surface))
    assert "extern python fun cf_build(cls: string): Base" in shim
    assert "extern python fun cf_options(url: string, extra: map<string, int>): any" in shim
    plan = plan_surface(surface)
    exported = {f.extern_name for _iface, f in plan.functions()}
    assert {"cf_build", "cf_kind_of", "cf_options_full", "cf_size"} <= exported


def test_typescript_says_what_the_strings_and_the_map_are() -> None:
    ts = render_typescript(fake_surface())
    assert "a class object as its dotted path (a subclass of clsfake.Base)" in ts
    assert "a class object as its dotted path (any class)" in ts
    assert "the keyword arguments of **extra ({} or null for none)" in ts


def test_the_runtime_resolves_only_already_imported_or_wrapped_modules() -> None:
    conv = mw.arg({"kind": "str", "py": CLASS_PATH_PY}, where="f")
    assert conv("collections.OrderedDict", "c") is importlib.import_module("collections").OrderedDict
    assert "antigravity" not in sys.modules
    with pytest.raises(mw.BoundaryTypeError, match="no class at that path"):
        conv("antigravity.Thing", "c")
    assert "antigravity" not in sys.modules          # never imported on a caller's say-so
    with pytest.raises(mw.BoundaryTypeError, match="no class at that path"):
        conv("builtins.object.__class__", "c")       # dunders are no path
