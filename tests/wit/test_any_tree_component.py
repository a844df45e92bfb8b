"""`any` crossing a real component as a `dyn-value` tree (issue 18): a module whose functions
take and return `any` (tests/wit/fixtures/any_ext, with tomli bundled) is built once, and
every answer is compared, as wire JSON, with the same module called natively: nested tables,
arrays of tables and datetimes from `tomli.loads`; integers beyond s64, NaN and infinities,
bytes, tuples, sets, dicts with other keys, frozen dataclasses and objects with no value form
(handles, numbered as natively). A value over the depth limit fails with WT890 on both
sides of the boundary.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.wit.conftest import native_module
from tests.wit.surfaces import FIXTURES, fn, lst
from wasmtool.run.codec import HandleTable, encode_value
from wasmtool.run.wasi import WasiComponentRuntime
from wasmtool.typemap.surface import MappedSurface, TypeRef
from wasmtool.wit.build import BuiltComponent, build_component
from wasmtool.wit.errors import DynamicValueLimitError, GuestPythonError
from wasmtool.wit.values import ANY_MAX_DEPTH

pytestmark = pytest.mark.slow

ANY_EXTERNS_DIR = FIXTURES / "any_ext"
A = TypeRef("any")
S = TypeRef("str")

TOML = """\
title = "TOML Example"
when = 1979-05-27T07:32:00-08:00
local = 1979-05-27T07:32:00
day = 1979-05-27
lunch = 12:30:00.5
big = 9007199254740993
ratio = inf
nothing = nan

[owner]
name = "Tom"
dob = 1979-05-27T07:32:00Z

[database.limits]
ports = [8000, 8001, 8002]
matrix = [[1, 2], ["a", "b"], []]

[[products]]
name = "Hammer"
sku = 738594937

[[products]]

[[products]]
name = "Nail"
color = "gray"
tags = { inline = true, nested = { deep = [1.5, -0.0] } }
"""


def any_surface() -> MappedSurface:
    return MappedSurface(
        dist="anyx", version="1.0", alias="anyx", import_names=("anyx_externs",), tier="inline",
        functions=(
            fn("anyx_loads", "tomli:loads", [("s", S)], TypeRef("map", (S, A))),
            fn("anyx_echo", "anyx_externs:anyx_echo", [("x", A)], A),
            fn("anyx_kinds", "anyx_externs:anyx_kinds", [("x", A)], lst(S)),
            fn("anyx_odd", "anyx_externs:anyx_odd", [], A),
            fn("anyx_deep", "anyx_externs:anyx_deep", [("n", TypeRef("int"))], A),
            fn("anyx_cyclic", "anyx_externs:anyx_cyclic", [], A),
        ),
    )


@pytest.fixture(scope="module")
def any_component(wit_tools: None, tomli_wheel: Path, component_cache: Path) -> BuiltComponent:
    return build_component(any_surface(), externs_dir=ANY_EXTERNS_DIR, wheels=[tomli_wheel],
                           cache_dir=component_cache)


@pytest.fixture(scope="module")
def native(tomli_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with native_module([tomli_wheel], ANY_EXTERNS_DIR, "anyx_externs", tmp_path_factory.mktemp("any-native-site"),
                       ("anyx_externs", "tomli")) as module:
        yield module


def _native_answers(module: Any, calls: list[tuple[str, list[Any]]]) -> list[Any]:
    """What the native runtimes print: the wire encoding with one handle table per alias."""
    table = HandleTable()
    return [encode_value(getattr(module, name)(*args), table) for name, args in calls]


CALLS: list[tuple[str, list[Any]]] = [
    ("anyx_loads", [TOML]),
    ("anyx_odd", []),
    ("anyx_loads", ['again = 2024-01-02T03:04:05+01:00\n[t]\nx = 1\n']),
    ("anyx_echo", [{"a": [1, {"b": None}], "n": 2**64, "f": 0.25, "s": "é\u2603", "t": True}]),
    ("anyx_echo", [{1: "int key", (1, 2): [b"\x01"], None: float("inf")}]),
    ("anyx_echo", [[[[]]]]),
    ("anyx_kinds", [[1, 2**70, 1.5, "s", b"b", None, True, [], {}]]),
]


def test_any_results_and_arguments_match_native(any_component: BuiltComponent, native: Any) -> None:
    expected = _native_answers(native, CALLS)
    with WasiComponentRuntime(any_component) as rt:
        got = [encode_value(rt.call(name, args)) for name, args in CALLS]
    assert got == expected
    doc = got[0]
    # tomli's datetimes (an object with no value form) are handles, numbered as natively
    assert doc["when"] == {"$handle": 1} and doc["day"] == {"$handle": 3} and doc["owner"]["dob"] == {"$handle": 5}
    assert doc["big"] == {"$int": "9007199254740993"} and doc["ratio"] == {"$float": "inf"}
    assert doc["nothing"] == {"$float": "nan"}
    assert doc["database"] == {"limits": {"ports": [8000, 8001, 8002], "matrix": [[1, 2], ["a", "b"], []]}}
    assert [p.get("name") for p in doc["products"]] == ["Hammer", None, "Nail"]
    assert doc["products"][2]["tags"] == {"inline": True, "nested": {"deep": [1.5, -0.0]}}
    odd = got[1]
    assert odd["big"] == {"$int": str(2**64 + 1)} and odd["s64_max"] == {"$int": str(2**63 - 1)}
    assert odd["nan"] == {"$float": "nan"} and odd["inf"] == {"$float": "-inf"}
    assert odd["bytes"] == {"$bytes": "AP9oaQ=="} and odd["set"] == [1, 2, 3] and odd["frozen"] == ["a", "b"]
    assert odd["int_keys"] == {"$map": [[1, "a"], [2, [True]]]} and odd["tuple_keys"] == {"$map": [[[1, "x"], 2.5]]}
    assert odd["tag_key"] == {"$map": [["$int", "1"]]} and odd["point"] == {"x": 1, "y": "p"}
    assert odd["object"] == odd["again"][0] == {"$handle": 6}           # the same object twice: one handle
    assert got[6] == ["int", "int", "float", "str", "bytes", "NoneType", "bool", "list", "dict"]


def test_any_over_the_depth_limit_fails_with_wt890(any_component: BuiltComponent) -> None:
    with WasiComponentRuntime(any_component) as rt:
        assert rt.call("anyx_deep", [ANY_MAX_DEPTH]) is not None          # exactly the limit crosses
        with pytest.raises(DynamicValueLimitError) as out:                 # a result: the guest refuses
            rt.call("anyx_deep", [ANY_MAX_DEPTH + 1])
        assert out.value.code == "WT890" and "anyx_deep" in str(out.value)
        assert f"more than {ANY_MAX_DEPTH} levels" in str(out.value)
        with pytest.raises(DynamicValueLimitError, match=r"anyx_cyclic: .*or is cyclic"):
            rt.call("anyx_cyclic", [])
        deep: list[Any] = []
        for _ in range(ANY_MAX_DEPTH):
            deep = [deep]
        with pytest.raises(DynamicValueLimitError, match=f"anyx_echo: x: .*more than {ANY_MAX_DEPTH} levels"):
            rt.call("anyx_echo", [deep])                                    # an argument: the host refuses
        assert rt.call("anyx_echo", [[1]]) == [1]                          # the instance still answers


def test_a_handle_inside_an_any_argument_is_refused(any_component: BuiltComponent) -> None:
    with WasiComponentRuntime(any_component) as rt:
        doc = rt.call("anyx_loads", ["d = 1979-05-27"])
        with pytest.raises(Exception, match="cannot cross inside an `any` value") as out:
            rt.call("anyx_echo", [doc])
        assert not isinstance(out.value, GuestPythonError) and out.value.code == "WT876"  # type: ignore[attr-defined]
