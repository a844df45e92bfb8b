"""``@overload`` groups that no single arm covers: one extern per arm (docs/type-table.md,
"Functions and names"). A mini stub package is parsed with the real parser and mapped; the
wrapper test renders the workspace and calls the externs in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from wasmtool.skips import SkipReason
from wasmtool.stubs.pyi import parse_stub
from wasmtool.synth.workspace import render_workspace
from wasmtool.typemap.lower import map_module
from wasmtool.typemap.surface import Function, MappedSurface, TypeRef

HEAD = "from typing import IO, Literal, overload\n"


def surface(text: str, *, alias: str = "mp") -> MappedSurface:
    stub = parse_stub(HEAD + textwrap.dedent(text), module="mini", file="mini/__init__.pyi", python_version=(3, 12))
    return map_module([stub], dist="mini", version="1.0", alias=alias, import_names=["mini"], tier="py.typed")


def sig(f: Function) -> str:
    def t(r: TypeRef | None) -> str:
        if r is None:
            return "-"
        return r.name or (r.kind + (f"<{', '.join(t(a) for a in r.args)}>" if r.args else ""))
    return f"({', '.join(f'{p.name}: {t(p.type)}' for p in f.params)}) -> {t(f.returns)}"


def externs(s: MappedSurface) -> dict[str, str]:
    return {f.extern_name: sig(f) for f in s.functions}


def skips(s: MappedSurface) -> dict[str, tuple[str, str, str]]:
    return {r.path: (r.reason.token, r.detail, r.hint) for r in s.skips}


ZEROS = """
    @overload
    def zeros(shape: int) -> list[float]: ...
    @overload
    def zeros(shape: list[int]) -> list[list[float]]: ...
"""


def test_arms_that_map_differently_become_one_extern_each() -> None:
    s = surface(ZEROS, alias="np")
    assert externs(s) == {"np_zeros_int": "(shape: int) -> list<float>",
                          "np_zeros_list_int": "(shape: list<int>) -> list<list<float>>"}
    assert {f.target for f in s.functions} == {"mini:zeros"}
    assert s.skips == ()


def test_a_covering_arm_still_gives_one_unsuffixed_extern() -> None:
    s = surface("""
        @overload
        def get(key: str) -> str | None: ...
        @overload
        def get(key: str, default: str) -> str: ...
        @overload
        def mix(x: int) -> int: ...
        @overload
        def mix(x: complex) -> complex: ...
    """)
    # `get`: the arm taking every parameter; `mix`: the only arm of the two (same parameters) that maps
    assert externs(s) == {"mp_get": "(key: str, default: str) -> str", "mp_mix": "(x: int) -> int"}
    assert s.skips == ()


def test_shared_suffix_takes_the_defaulted_parameters_then_the_return_type() -> None:
    s = surface("""
        @overload
        def conv(x: int, *, base: int = ...) -> str: ...
        @overload
        def conv(x: int, *, fmt: str = ...) -> str: ...
        @overload
        def load(s: str, raw: Literal[True]) -> bytes: ...
        @overload
        def load(s: str, raw: Literal[False]) -> str: ...
        @overload
        def one(n: int) -> int: ...
        @overload
        def one(s: str) -> int: ...
    """)
    assert externs(s) == {
        # same required parameters (`int`): every parameter's type names them
        "mp_conv_int_int": "(x: int) -> str",
        "mp_conv_int_int_full": "(x: int, base: option<int>) -> str",
        "mp_conv_int_string": "(x: int) -> str",
        "mp_conv_int_string_full": "(x: int, fmt: option<str>) -> str",
        # same parameter types: the return type is added
        "mp_load_string_bool_bytes": "(s: str, raw: bool) -> bytes",
        "mp_load_string_bool_string": "(s: str, raw: bool) -> str",
        # distinct already: the others' collisions do not lengthen these
        "mp_one_int": "(n: int) -> int",
        "mp_one_string": "(s: str) -> int",
    }
    assert s.skips == ()


def test_an_arm_named_like_an_earlier_one_is_reported() -> None:
    s = surface("""
        @overload
        def both(x: int, y: int) -> int: ...
        @overload
        def both(x: int, z: int) -> int: ...
    """)
    assert externs(s) == {"mp_both_int_int_int": "(x: int, y: int) -> int"}
    assert skips(s) == {"mini.both#2": ("SkipOverloadAmbiguity", "def both(x: int, z: int) -> int",
                                        "maps to the same extern as arm 1 (mp_both_int_int_int)")}


def test_arms_that_do_not_map_are_reported_while_the_others_bind() -> None:
    s = surface("""
        @overload
        def mix(x: int) -> int: ...
        @overload
        def mix(y: str) -> str: ...
        @overload
        def mix(z: complex) -> int: ...
        @overload
        def mix(w: IO[str]) -> int: ...
    """)
    assert externs(s) == {"mp_mix_int": "(x: int) -> int", "mp_mix_string": "(y: str) -> str"}
    got = skips(s)
    assert set(got) == {"mini.mix#3", "mini.mix#4"}
    assert got["mini.mix#3"][0] == SkipReason.SkipNoComplexType.token
    assert got["mini.mix#4"][0] == SkipReason.SkipUnsupportedTypingConstruct.token
    assert "IO[str]" in got["mini.mix#4"][1]


def test_no_arm_mapping_is_one_report_for_the_item_as_before() -> None:
    s = surface("""
        @overload
        def bad(x: complex) -> int: ...
        @overload
        def bad(y: complex) -> int: ...
    """)
    assert externs(s) == {}
    assert skips(s) == {"mini.bad": ("SkipOverloadAmbiguity",
                                     "def bad(x: complex) -> int ; def bad(y: complex) -> int",
                                     "no arm's parameters are a superset of the others, and no arm maps")}


def test_methods_constructors_and_async_arms() -> None:
    s = surface("""
        class Box:
            @overload
            def __init__(self, size: int) -> None: ...
            @overload
            def __init__(self, name: str) -> None: ...
            @overload
            def get(self, i: int) -> int: ...
            @overload
            def get(self, key: str) -> str: ...
        @overload
        async def fetch(url: str) -> str: ...
        @overload
        async def fetch(n: int) -> int: ...
    """)
    assert externs(s) == {
        "mp_Box_new_int": "(size: int) -> Box",               # a split constructor returns its class
        "mp_Box_new_string": "(name: str) -> Box",
        "mp_Box_get_int": "(self: Box, i: int) -> int",
        "mp_Box_get_string": "(self: Box, key: str) -> str",
        "mp_fetch_int_sync": "(n: int) -> int",
        "mp_fetch_string_sync": "(url: str) -> str",
    }
    by = {f.extern_name: f for f in s.functions}
    assert by["mp_Box_new_int"].target == by["mp_Box_new_string"].target == "mini:Box"
    assert by["mp_Box_get_int"].kind == "method" and by["mp_Box_get_int"].target == "mini:Box.get"
    assert by["mp_fetch_int_sync"].is_async


def test_an_item_really_named_like_an_arm_keeps_its_name() -> None:
    s = surface(ZEROS + "    def zeros_int() -> int: ...\n")
    by = {f.extern_name: f.target for f in s.functions}
    assert by == {"mp_zeros_int": "mini:zeros_int", "mp_zeros_int_2": "mini:zeros",
                  "mp_zeros_list_int": "mini:zeros"}


def test_digits_in_a_suffix_are_spelled_and_output_is_deterministic() -> None:
    text = """
        class Vec3: ...
        @overload
        def norm(v: Vec3) -> float: ...
        @overload
        def norm(v: list[float]) -> float: ...
    """
    s = surface(text)
    assert {"mp_norm_Vec3", "mp_norm_list_float"} <= set(externs(s))
    assert json.dumps(surface(text).to_dict()) == json.dumps(s.to_dict())


FAKE = '''
from typing import overload

@overload
def zeros(shape: int) -> list[float]: ...
@overload
def zeros(shape: list[int]) -> list[list[float]]: ...
def zeros(shape):
    if isinstance(shape, int):
        return [0.0] * shape
    return [[0.0] * shape[1] for _ in range(shape[0])]

class Box:
    @overload
    def __init__(self, size: int) -> None: ...
    @overload
    def __init__(self, name: str) -> None: ...
    def __init__(self, size_or_name):
        self.label = f"box:{size_or_name}"
    def describe(self) -> str:
        return self.label
'''


def test_the_wrapper_calls_the_same_python_function_from_every_arm(tmp_path: Path) -> None:
    site = tmp_path / "site" / "fakeov"
    site.mkdir(parents=True)
    (site / "__init__.py").write_text(FAKE)
    stub = parse_stub(FAKE, module="fakeov", file="fakeov/__init__.py", python_version=(3, 12))
    s = map_module([stub], dist="fakeov", version="1.0", alias="fo", import_names=["fakeov"], tier="py.typed")
    assert {"fo_zeros_int", "fo_zeros_list_int", "fo_Box_new_int", "fo_Box_new_string"} <= set(externs(s))
    render_workspace([s]).write(tmp_path / "ws")
    script = textwrap.dedent("""
        import json
        from python_wrap.fo import fakeov_externs as w
        box = w.fo_Box_new_string("a")
        print(json.dumps([w.fo_zeros_int(2), w.fo_zeros_list_int([1, 2]), w.fo_Box_describe(box),
                          w.fo_Box_describe(w.fo_Box_new_int(3))]))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(tmp_path / "ws")])}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [[0.0, 0.0], [[0.0, 0.0]], "box:a", "box:3"]
