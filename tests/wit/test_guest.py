"""The guest glue against componentize-py's real bindings, run natively (no build needed).

``componentize-py bindings`` generates the same ``wit_world`` package the build uses; it
imports on the host, so the generated ``app.py`` can be imported and called here with a
fake externs module: this checks the class and method names, the value conversion and
that every exception becomes ``Err(PyError)``.
"""

from __future__ import annotations

import dataclasses
import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.wit.surfaces import synthetic_surface
from wasmtool.wit.build import find_componentize_py
from wasmtool.wit.guest import VALUES_MODULE, render_app, values_module_source
from wasmtool.wit.names import py_class_name, py_ident
from wasmtool.wit.render import render_package, write_wit_dir
from wasmtool.wit.validate import tool_env

FAKE_EXTERNS = '''
calls = []

def demo_type(from_, self_):
    calls.append(("type", from_, self_))
    if from_ == "boom":
        raise KeyError("nope")
    if from_ == "exit":
        raise SystemExit(2)
    return {"x": self_, "type": "gb", "list": [{"t0": from_, "t1": None}, ("b", 2)]}

def demo_f(p):
    calls.append(("f", p))
    return {"a": [1, 2], (p or "none"): []}

def demo_g(b, t):
    calls.append(("g", b, t))

def demo_sets(s):
    calls.append(("sets", s))
    return {"t", "red"}

def demo_levels(lv, c):
    calls.append(("levels", lv, c))
    return [None, {"x": lv, "y_val": 1.5, "type": c or "red", "list": []}]

def demo_import(class_):
    return [1, 2, 255] if class_ else b"ab"

def demo_get_value():
    return 1

def demo_getValue():
    return 2

def demo_get__value():
    return "not an int"

class Client:
    def __init__(self, name):
        self.name = name

def demo_client(name):
    return Client(name)

def demo_handle(x):
    calls.append(("handle", x.name))

def demo_any(x):
    calls.append(("any", x))
    return len(x)
'''

_PREFIXES = ("wit_world", "componentize_py", "poll_loop", "app", VALUES_MODULE, "demo_externs")


@pytest.fixture
def guest(wit_tools: None, tmp_path: Path) -> Iterator[tuple[ModuleType, ModuleType, Any]]:
    rendered = render_package(synthetic_surface())
    wit_dir = write_wit_dir(rendered, tmp_path / "wit")
    gen = tmp_path / "gen"
    subprocess.run([str(find_componentize_py()), "-d", str(wit_dir), "-w", rendered.world, "bindings", str(gen)],
                   check=True, capture_output=True, env=tool_env())
    (gen / "app.py").write_text(render_app(rendered.plan, externs_module="demo_externs"))
    (gen / f"{VALUES_MODULE}.py").write_text(values_module_source())
    (gen / "demo_externs.py").write_text(FAKE_EXTERNS)
    saved = {k: v for k, v in sys.modules.items() if k.startswith(_PREFIXES)}
    for k in saved:
        del sys.modules[k]
    sys.path.insert(0, str(gen))
    try:
        app = importlib.import_module("app")
        types = importlib.import_module("wit_world.exports.types")
        err_cls = importlib.import_module("componentize_py_types").Err
        yield app, types, err_cls
    finally:
        sys.path.remove(str(gen))
        for k in [k for k in sys.modules if k.startswith(_PREFIXES)]:
            del sys.modules[k]
        sys.modules.update(saved)


def _method(app: ModuleType, extern: str) -> Any:
    """The bound method of ``app`` that wraps ``extern`` (labels are allocated by sorted extern name)."""
    plan = render_package(synthetic_surface()).plan
    iface, fn = next((i, f) for i, f in plan.functions() if f.extern_name == extern)
    return getattr(getattr(app, py_class_name(iface.label))(), py_ident(fn.label))


def test_classes_implement_every_generated_method(guest: tuple[ModuleType, ModuleType, Any]) -> None:
    app, _, _ = guest
    exports = importlib.import_module("wit_world.exports")
    for cls_name in ("Demo", "DemoSub", "DemoImpl", "Types"):
        ours = getattr(app, cls_name)
        theirs = getattr(exports, cls_name)
        assert theirs in ours.__mro__
        abstract = {n for n, v in vars(theirs).items() if getattr(v, "__isabstractmethod__", False)}
        assert abstract <= set(vars(ours)), (cls_name, abstract - set(vars(ours)))
        ours()   # instantiable: no abstract method left


def test_values_convert_both_ways(guest: tuple[ModuleType, ModuleType, Any]) -> None:
    app, types, _ = guest
    externs = sys.modules["demo_externs"]
    point = app.Demo().type("hi", 7)
    assert isinstance(point, types.Point)
    assert point.x == 7 and point.type is types.Color.GREEN_BLUE and point.y_val is None
    assert point.list == [("hi", None), ("b", 2)]
    assert externs.calls[-1] == ("type", "hi", 7)

    assert app.DemoSub().f(None) == [("a", [1, 2]), ("none", [])]
    assert app.DemoSub().g(b"\x00\xff", (3, "x")) is None
    assert externs.calls[-1] == ("g", [0, 255], {"t0": 3, "t1": "x"})
    assert app.DemoSub().sets([2.0, 1.0]) == [types.Color.RED, types.Color.TYPE]   # sorted by value
    levels = app.Demo().levels(2, types.Color.TYPE)
    assert externs.calls[-1] == ("levels", 2, "t")
    assert levels[0] is None and levels[1].y_val == 1.5 and levels[1].type is types.Color.TYPE
    assert app.DemoImpl().import_(True) == b"\x01\x02\xff"
    assert app.DemoImpl().import_(False) == b"ab"
    assert (_method(app, "demo_get_value")(), _method(app, "demo_getValue")()) == (1, 2)
    client = _method(app, "demo_client")("c1")                 # a resource wrapping the object
    assert isinstance(client, app.Client) and types.Client in type(client).__mro__ and client.obj.name == "c1"
    assert client.python_type() == "demo_externs.Client"
    assert _method(app, "demo_handle")(client) is None
    assert externs.calls[-1] == ("handle", "c1")


@pytest.mark.parametrize(("arg", "kind", "message"), [
    ("boom", "KeyError", "'nope'"),
    ("exit", "SystemExit", "2"),
])
def test_exceptions_become_py_error(guest: tuple[ModuleType, ModuleType, Any], arg: str, kind: str,
                                    message: str) -> None:
    app, _, err_cls = guest
    with pytest.raises(err_cls) as info:
        app.Demo().type(arg, 1)
    err = info.value.value
    assert type(err).__name__ == "PyError"
    assert (err.kind, err.message) == (kind, message)
    assert "Traceback" in err.traceback and "demo_externs.py" in err.traceback


def test_bad_return_value_is_an_error_not_a_trap(guest: tuple[ModuleType, ModuleType, Any]) -> None:
    app, _, err_cls = guest
    with pytest.raises(err_cls) as info:
        _method(app, "demo_get__value")()
    assert info.value.value.kind == "wasmtool_wit_values.WitValueMismatch"
    assert "expected int" in info.value.value.message


def test_app_is_deterministic() -> None:
    plan = render_package(synthetic_surface()).plan
    assert render_app(plan, externs_module="m") == render_app(plan, externs_module="m")
    with pytest.raises(ValueError, match="identifier"):
        render_app(plan, externs_module="not-valid")


def test_record_values_roundtrip_dataclass_fields(guest: tuple[ModuleType, ModuleType, Any]) -> None:
    _, types, _ = guest
    assert [f.name for f in dataclasses.fields(types.Point)] == ["list", "type", "x", "y_val"]
