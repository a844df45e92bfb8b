"""Tests for wasmtool.typemap.lower.map_module (typemap.md §4, acceptance tests 29-35).

A mini synthetic stub package is parsed with the real parser and mapped; expectations
are extern names with Mochi-rendered signatures (test-local renderer) and skip tokens.
"""

from __future__ import annotations

import json
import random
import textwrap

import pytest

from wasmtool.skips import SkipReason
from wasmtool.stubs.model import ModuleStub
from wasmtool.stubs.pyi import parse_stub
from wasmtool.typemap.lower import map_module, mochi_ident
from wasmtool.typemap.surface import Function, MappedSurface, TypeRef
from wasmtool.typemap.table import UNIT


def mochi(t: TypeRef | None) -> str:
    if t is None:
        return ""
    simple = {"int": "int", "float": "float", "bool": "bool", "str": "string", "bytes": "list<int>",
              "any": "any"}
    if t.kind in simple:
        return simple[t.kind]
    if t.kind in ("list", "set"):
        return f"{t.kind}<{mochi(t.args[0])}>"
    if t.kind == "map":
        return f"map<{mochi(t.args[0])}, {mochi(t.args[1])}>"
    if t.kind == "option":
        return mochi(t.args[0]) + "?"
    if t.kind == "callable":
        ret, *params = t.args
        head = f"fun({', '.join(mochi(p) for p in params)})"
        return head if ret == UNIT else f"{head}: {mochi(ret)}"
    if t.kind == "enum":
        return "string" if t.value_kind == "string" else "int"
    return t.name


def extern(f: Function) -> str:
    """``extern python fun`` line as the shim would print it."""
    params = ", ".join(f"{p.mochi_name}: {mochi(p.type)}" for p in f.params)
    ret = f": {mochi(f.returns)}" if f.returns is not None else ""
    return f"{f.extern_name}({params}){ret}"


def stubs(files: dict[str, str], version: tuple[int, int] = (3, 12)) -> list[ModuleStub]:
    out = []
    for path, text in files.items():
        module = path.removesuffix(".pyi").removesuffix("/__init__").replace("/", ".")
        out.append(parse_stub(textwrap.dedent(text), module=module, file=path, python_version=version))
    return out


def surface(files: dict[str, str], **kw: object) -> MappedSurface:
    args: dict[str, object] = {"dist": "mini", "version": "1.0", "alias": "mp", "import_names": ["mini"],
                               "tier": "py.typed"}
    args.update(kw)
    return map_module(stubs(files), **args)  # type: ignore[arg-type]


def externs(s: MappedSurface) -> dict[str, str]:
    return {f.extern_name: extern(f) for f in s.functions}


def skips(s: MappedSurface) -> dict[str, str]:
    return {r.path: r.reason.token for r in s.skips}


MINI = {
    "mini/__init__.pyi": """
        import sys
        from typing import Any, overload, Protocol, TypedDict, NamedTuple, Iterator, Callable, Final
        from typing_extensions import NotRequired
        from ._client import Client as Client, Response as Response
        from ._models import *
        from . import _util
        from ._util import *

        __all__ = [
            "Client", "Response", "Point", "Frozen", "Mutable", "AttrsRec", "Color", "Level", "Mixed",
            "Movie", "Closeable", "fetch", "kw_only", "type", "set", "match", "all", "lines", "VERSION",
            "MAX", "DEBUG", "__version__", "parse", "pick", "cplx", "varargs", "options", "_exported",
            "HTTPError", "apply", "Desc", "Meta", "Dyn", "Empty", "missing", "ns",
        ]
        __all__ += _util.__all__

        VERSION: str
        MAX: Final = 10
        DEBUG = False
        __version__: str
        ns: Any

        class HTTPError(Exception):
            def detail(self) -> str: ...

        class Movie(TypedDict, total=False):
            title: str
            year: NotRequired[int]
            rating: complex

        class Closeable(Protocol):
            def close(self) -> None: ...
            def __enter__(self) -> Closeable: ...
            def __exit__(self, *args: object) -> None: ...
            def write(self, data: object, /) -> int: ...

        class Point(NamedTuple):
            x: int
            y: int

        async def fetch(url: str) -> bytes: ...
        def kw_only(a: int, *, sep: str, end: str = "\\n") -> str: ...
        def type(set: int, match: str = ..., all: bool = ...) -> int: ...
        def set(x: int) -> None: ...
        def match(x: "Response") -> Response | None: ...
        def all(type: list[int]) -> bool: ...
        def lines(n: int) -> Iterator[str]: ...
        @overload
        def parse(s: str) -> int: ...
        @overload
        def parse(s: str, base: int) -> int: ...
        @overload
        def pick(x: int) -> int: ...
        @overload
        def pick(x: str) -> str: ...
        def cplx(a: int, b: complex = 1j) -> int: ...
        def varargs(*items: int) -> int: ...
        def options(url: str, **kwargs: Any) -> int: ...
        def _exported() -> int: ...
        def apply(cb: Callable[[int], str], xs: list[int]) -> list[str]: ...
        def _private_helper() -> None: ...
        def __dir__() -> list[str]: ...
        def __getattr__(name: str) -> Any: ...
        _PRIVATE_CONST: int
    """,
    "mini/_client.pyi": """
        from typing import Self
        from ._models import Frame
        class _Base:
            def ping(self) -> bool: ...
            @property
            def closed(self) -> bool: ...
        class Response:
            status_code: int
            headers: dict[str, str]
            _raw: bytes
            def __init__(self, status_code: int, content: bytes = b"") -> None: ...
            @property
            def text(self) -> str: ...
            def json(self) -> dict[str, int]: ...
            def frame(self) -> Frame: ...
            def __len__(self) -> int: ...
            def _decode(self) -> str: ...
        class Client(_Base):
            def __init__(self, *, timeout: float | None = None, base: str) -> None: ...
            def get(self, url: str, *, params: dict[str, str] | None = None) -> Response: ...
            async def aget(self, url: str) -> Response: ...
            def copy(self) -> Self: ...
            @staticmethod
            def default() -> Client: ...
            @classmethod
            def from_url(cls, url: str) -> Client: ...
    """,
    "mini/_models.pyi": """
        import attr
        from dataclasses import dataclass
        from enum import Enum, IntEnum
        __all__ = ["Frozen", "Mutable", "AttrsRec", "Color", "Level", "Mixed", "Desc", "Meta", "Dyn", "Empty"]
        @dataclass(frozen=True)
        class Frozen:
            name: str
            tags: list[str]
            pair: tuple[int, str]
        @dataclass
        class Mutable:
            count: int
            label: str = ""
            def bump(self, by: int = 1) -> int: ...
        @attr.s(frozen=True)
        class AttrsRec:
            value: float
        class Color(Enum):
            RED = "red"
            GREEN = "green"
        class Level(IntEnum):
            LOW = 1
            HIGH = 2
        class Mixed(Enum):
            A = 1
            B = "b"
        class Frame:
            def data(self) -> bytes: ...
        class Desc:
            def __get__(self, obj: object, owner: object) -> int: ...
        class MetaType(type):
            def __call__(cls, *args: Any, **kwargs: Any) -> Any: ...
        class Meta(metaclass=MetaType):
            def run(self) -> None: ...
        class Dyn:
            def __getattr__(self, name: str) -> int: ...
            def known(self) -> int: ...
        @dataclass(frozen=True)
        class Empty:
            z: complex
    """,
    "mini/_util.pyi": """
        __all__ = ["helper"]
        def helper(x: int) -> int: ...
    """,
}


@pytest.fixture(scope="module")
def mini() -> MappedSurface:
    return surface(MINI)


def test_mini_package_externs(mini: MappedSurface) -> None:
    got = externs(mini)
    expected = {
        # module functions, defaults dropped + _full variants, async -> _sync
        "mp_fetch_sync": "mp_fetch_sync(url: string): list<int>",
        "mp_kw_only": "mp_kw_only(a: int, sep: string): string",
        "mp_kw_only_full": "mp_kw_only_full(a: int, sep: string, end: string?): string",
        "mp_type": "mp_type(set_: int): int",
        "mp_type_full": "mp_type_full(set_: int, match_: string?, all_: bool?): int",
        "mp_set": "mp_set(x: int)",
        "mp_match": "mp_match(x: Response): Response?",
        "mp_all": "mp_all(type_: list<int>): bool",
        "mp_lines": "mp_lines(n: int): list<string>",
        "mp_parse": "mp_parse(s: string, base: int): int",
        # overloads with no covering arm: one extern per arm, suffixed with its parameter types
        "mp_pick_int": "mp_pick_int(x: int): int",
        "mp_pick_string": "mp_pick_string(x: string): string",
        "mp_options": "mp_options(url: string): int",
        "mp_options_full": "mp_options_full(url: string, kwargs: map<string, any>?): int",
        "mp__exported": "mp__exported(): int",
        "mp_apply": "mp_apply(cb: fun(int): string, xs: list<int>): list<string>",
        "mp_helper": "mp_helper(x: int): int",
        # constants
        "mp_VERSION": "mp_VERSION(): string",
        "mp_MAX": "mp_MAX(): int",
        "mp_DEBUG": "mp_DEBUG(): bool",
        "mp_version": "mp_version(): string",
        # handles: constructor, methods, property and attribute getters (inherited ones too)
        "mp_Response_new": "mp_Response_new(status_code: int): Response",
        "mp_Response_new_full": "mp_Response_new_full(status_code: int, content: list<int>?): Response",
        "mp_Response_text": "mp_Response_text(self: Response): string",
        "mp_Response_status_code": "mp_Response_status_code(self: Response): int",
        "mp_Response_headers": "mp_Response_headers(self: Response): map<string, string>",
        "mp_Response_json": "mp_Response_json(self: Response): map<string, int>",
        "mp_Response_frame": "mp_Response_frame(self: Response): Frame",
        "mp_Client_new": "mp_Client_new(base: string): Client",
        "mp_Client_new_full": "mp_Client_new_full(timeout: float?, base: string): Client",
        "mp_Client_get": "mp_Client_get(self: Client, url: string): Response",
        "mp_Client_get_full":
            "mp_Client_get_full(self: Client, url: string, params: map<string, string>?): Response",
        "mp_Client_aget_sync": "mp_Client_aget_sync(self: Client, url: string): Response",
        "mp_Client_copy": "mp_Client_copy(self: Client): Client",
        "mp_Client_default": "mp_Client_default(): Client",
        "mp_Client_from_url": "mp_Client_from_url(url: string): Client",
        "mp_Client_ping": "mp_Client_ping(self: Client): bool",
        "mp_Client_closed": "mp_Client_closed(self: Client): bool",
        # mutable dataclass: handle + constructor from fields + get_ getters + methods
        "mp_Mutable_new": "mp_Mutable_new(count: int): Mutable",
        "mp_Mutable_new_full": "mp_Mutable_new_full(count: int, label: string?): Mutable",
        "mp_Mutable_get_count": "mp_Mutable_get_count(self: Mutable): int",
        "mp_Mutable_get_label": "mp_Mutable_get_label(self: Mutable): string",
        "mp_Mutable_bump": "mp_Mutable_bump(self: Mutable): int",
        "mp_Mutable_bump_full": "mp_Mutable_bump_full(self: Mutable, by: int?): int",
        # Protocol: methods, no constructor; `object` parameter is `any` in a Protocol
        "mp_Closeable_close": "mp_Closeable_close(self: Closeable)",
        "mp_Closeable_write": "mp_Closeable_write(self: Closeable, data: any): int",
        # referenced (not exported) class
        "mp_Frame_new": "mp_Frame_new(): Frame",
        "mp_Frame_data": "mp_Frame_data(self: Frame): list<int>",
        # dynamic class keeps its static surface
        "mp_Dyn_new": "mp_Dyn_new(): Dyn",
        "mp_Dyn_known": "mp_Dyn_known(self: Dyn): int",
        # a declared `Any` on a complete tier is the author's word: a widened `any` (rule change)
        "mp_ns": "mp_ns(): any",
        # `*items: int` crosses as one list the wrapper spreads (rule change)
        "mp_varargs": "mp_varargs(items: list<int>): int",
    }
    assert got == expected


def test_mini_package_skips(mini: MappedSurface) -> None:
    assert skips(mini) == {
        "mini.Movie.rating": "SkipNoComplexType",
        "mini.Empty.z": "SkipNoComplexType",
        "mini.cplx": "SkipNoComplexType",
        "mini._private_helper": "SkipPrivateName",
        "mini._PRIVATE_CONST": "SkipPrivateName",
        "mini.__dir__": "SkipDunder",
        "mini.__getattr__": "SkipDynamicAttribute",
        "mini.missing": "SkipDynamicAttribute",
        "mini.Closeable.__enter__": "SkipDunder",
        "mini.Closeable.__exit__": "SkipDunder",
        "mini.Response.__len__": "SkipDunder",
        "mini.Response._decode": "SkipPrivateName",
        "mini.Response._raw": "SkipPrivateName",
        "mini.Mixed": "SkipUnsupportedTypingConstruct",
        "mini.Desc": "SkipDescriptor",
        "mini.Meta": "SkipMetaclass",
        "mini.Dyn.__getattr__": "SkipDynamicAttribute",
    }


def test_mini_package_types(mini: MappedSurface) -> None:
    records = {r.name: (r.origin, r.py, [(f.mochi_name, mochi(f.type), f.required) for f in r.fields])
               for r in mini.records}
    assert records == {
        "Point": ("namedtuple", "mini:Point", [("x", "int", True), ("y", "int", True)]),
        "Frozen": ("dataclass", "mini:Frozen", [("name", "string", True), ("pair", "Tup_int_string", True),
                                                ("tags", "list<string>", True)]),
        "AttrsRec": ("attrs", "mini:AttrsRec", [("value", "float", True)]),
        "Movie": ("typeddict", "mini:Movie", [("title", "string", False), ("year", "int", False)]),
        "Tup_int_string": ("tuple", "", [("t0", "int", True), ("t1", "string", True)]),
    }
    assert {(e.name, e.value_kind, e.members) for e in mini.enums} == {
        ("Color", "string", (("RED", "red"), ("GREEN", "green"))),
        ("Level", "int", (("LOW", 1), ("HIGH", 2))),
    }
    assert {(h.name, h.py) for h in mini.handles} == {
        ("Client", "mini:Client"), ("Response", "mini:Response"), ("Mutable", "mini:Mutable"),
        ("Closeable", "mini:Closeable"), ("Frame", "mini._models:Frame"), ("Dyn", "mini:Dyn"),
        ("Empty", "mini:Empty"),
    }


def test_mini_package_targets_kinds_and_owners(mini: MappedSurface) -> None:
    by = {f.extern_name: f for f in mini.functions}
    assert (by["mp_fetch_sync"].target, by["mp_fetch_sync"].kind, by["mp_fetch_sync"].is_async) == (
        "mini:fetch", "function", True)
    assert by["mp_type"].target == "mini:type"  # keyword-named item still calls the Python name
    assert [p.name for p in by["mp_type_full"].params] == ["set", "match", "all"]
    assert (by["mp_Client_get"].target, by["mp_Client_get"].kind, by["mp_Client_get"].owner) == (
        "mini:Client.get", "method", "Client")
    assert by["mp_Client_ping"].target == "mini:Client.ping"  # inherited from a private base
    assert by["mp_Client_new"].kind == "constructor"
    assert by["mp_Client_new"].target == "mini:Client"
    assert by["mp_Client_default"].kind == "function"
    assert by["mp_Response_text"].kind == "getter"
    assert by["mp_Response_text"].target == "mini:Response.text"
    assert by["mp_VERSION"].kind == "constant"
    assert by["mp_VERSION"].target == "mini:VERSION"
    assert by["mp_version"].target == "mini:__version__"
    assert by["mp_Frame_data"].target == "mini._models:Frame.data"
    assert by["mp_kw_only_full"].full
    assert not by["mp_kw_only"].full


def test_acceptance_29_dataclasses(mini: MappedSurface) -> None:
    assert "Frozen" in {r.name for r in mini.records}
    assert "Frozen" not in {h.name for h in mini.handles}
    assert "Mutable" in {h.name for h in mini.handles}
    assert {"mp_Mutable_get_count", "mp_Mutable_get_label"} <= {f.extern_name for f in mini.functions}


def test_acceptance_30_protocol_dunders_skipped_protocol_maps(mini: MappedSurface) -> None:
    assert skips(mini)["mini.Closeable.__enter__"] == "SkipDunder"
    assert "Closeable" in {h.name for h in mini.handles}
    assert "mp_Closeable_close" in {f.extern_name for f in mini.functions}
    assert "mp_Closeable_new" not in {f.extern_name for f in mini.functions}


def test_acceptance_31_async_sync_shim(mini: MappedSurface) -> None:
    assert "extern python fun " + externs(mini)["mp_fetch_sync"] == (
        "extern python fun mp_fetch_sync(url: string): list<int>")


def test_acceptance_32_keyword_only_kept(mini: MappedSurface) -> None:
    by = {f.extern_name: f for f in mini.functions}
    assert [(p.name, p.kind) for p in by["mp_kw_only"].params] == [
        ("a", "positional_or_keyword"), ("sep", "keyword_only")]
    assert [(p.name, p.kind, p.has_default) for p in by["mp_kw_only_full"].params][-1] == (
        "end", "keyword_only", True)


def test_acceptance_33_iterators_are_lists(mini: MappedSurface) -> None:
    ret = {f.extern_name: f for f in mini.functions}["mp_lines"].returns
    assert ret is not None
    assert ret.kind == "list"


def test_acceptance_34_constants_are_zero_arg_getters(mini: MappedSurface) -> None:
    consts = [f for f in mini.functions if f.kind == "constant"]
    assert {f.extern_name for f in consts} == {"mp_VERSION", "mp_MAX", "mp_DEBUG", "mp_version", "mp_ns"}
    assert all(f.params == () for f in consts)


def test_acceptance_35_keyword_names(mini: MappedSurface) -> None:
    by = {f.extern_name: f for f in mini.functions}
    assert [(p.name, p.mochi_name) for p in by["mp_type_full"].params] == [
        ("set", "set_"), ("match", "match_"), ("all", "all_")]
    assert [(p.name, p.mochi_name) for p in by["mp_all"].params] == [("type", "type_")]
    assert {"mp_type", "mp_set", "mp_match", "mp_all"} <= set(by)
    assert by["mp_set"].target == "mini:set"


def test_exceptions_are_not_types() -> None:
    s = surface({"mini/__init__.pyi": """
        class Boom(ValueError): ...
        class SubBoom(Boom):
            code: int
        def explode() -> Boom: ...
    """})
    assert s.handles == ()
    assert s.records == ()
    assert skips(s) == {"mini.explode": "SkipUnsupportedTypingConstruct"}


# -- determinism and naming ------------------------------------------------------------------


def test_output_is_deterministic_and_order_independent() -> None:
    base = map_module(stubs(MINI), dist="mini", version="1.0", alias="mp", import_names=["mini"],
                      tier="py.typed")
    shuffled = stubs(MINI)
    random.Random(7).shuffle(shuffled)
    other = map_module(shuffled, dist="mini", version="1.0", alias="mp", import_names=["mini"],
                       tier="py.typed")
    assert json.dumps(base.to_dict(), sort_keys=True) == json.dumps(other.to_dict(), sort_keys=True)
    assert MappedSurface.from_dict(base.to_dict()).to_dict() == base.to_dict()
    names = [f.extern_name for f in base.functions]
    assert names == sorted(names)
    assert len(names) == len(set(names))


def test_name_collisions_get_numbered_suffixes() -> None:
    s = surface({"mini/__init__.pyi": """
        from .a import Config as Config
        from .b import Config as OtherConfig
        __all__ = ["Config", "OtherConfig", "get", "get_full", "get2", "A", "A_b"]
        def get(x: int) -> int: ...
        def get_full(x: int) -> int: ...
        def get2(x: int, y: int = 0) -> int: ...
        class A:
            def b_c(self) -> int: ...
        class A_b:
            def c(self) -> int: ...
    """, "mini/a.pyi": "class Config:\n    x: int\n", "mini/b.pyi": "class Config:\n    y: int\n"})
    names = [f.extern_name for f in s.functions]
    assert len(names) == len(set(names))
    assert {"mp_A_b_c", "mp_A_b_c_2"} <= set(names)
    # `get2_full` is not a Mochi identifier (a digit run may only end a name): spelled out
    assert {"mp_get", "mp_get_full", "mp_get2", "mp_get_two_full"} <= set(names)
    assert {h.name for h in s.handles} >= {"Config", "OtherConfig", "A", "A_b"}


def test_type_names_escape_keywords_and_builtin_type_names() -> None:
    assert mochi_ident("type", type_name=True) == "type_"
    assert mochi_ident("string", type_name=True) == "string_"
    assert mochi_ident("string") == "string"
    assert mochi_ident("match") == "match_"
    assert mochi_ident("match", keywords=False) == "match"
    assert mochi_ident("x\u0301y") == "x_y"  # combining mark is not a Mochi identifier char


# -- surfaces: __all__, re-exports, private ----------------------------------------------------


def test_public_names_without_all_follow_pep484_reexports() -> None:
    s = surface({
        "mini/__init__.pyi": """
            from ._impl import shown as shown, hidden
            from ._impl import renamed as alias_name
            from .sub import *
            from . import helpers
            import os
            def local(x: int) -> int: ...
            def _private() -> None: ...
        """,
        "mini/_impl.pyi": "def shown() -> int: ...\ndef hidden() -> int: ...\ndef renamed() -> int: ...\n",
        "mini/sub.pyi": "__all__ = ['star']\ndef star() -> str: ...\ndef not_star() -> str: ...\n",
        "mini/helpers.pyi": "def h() -> None: ...\n",
    })
    assert set(externs(s)) == {"mp_shown", "mp_local", "mp_star"}
    assert skips(s) == {"mini._private": "SkipPrivateName"}
    assert {f.extern_name: f.target for f in s.functions}["mp_shown"] == "mini:shown"


def test_reexport_from_another_distribution_is_forward_ref() -> None:
    s = surface({"mini/__init__.pyi": "from httpcore import Thing as Thing\n__all__ = ['Thing']\n"})
    assert skips(s) == {"mini.Thing": "SkipForwardRef"}


def test_multiple_import_names_prefix_the_secondary() -> None:
    s = map_module(stubs({"attr/__init__.pyi": "def s() -> int: ...\n",
                          "attrs/__init__.pyi": "def define() -> int: ...\n"}),
                   dist="attrs", version="1", alias="attrs", import_names=["attr", "attrs"], tier="py.typed")
    assert set(externs(s)) == {"attrs_define", "attrs_attr_s"}


# -- classes -----------------------------------------------------------------------------------


def test_typeddict_requiredness_and_inheritance() -> None:
    s = surface({"mini/__init__.pyi": """
        from typing import TypedDict, Required, NotRequired
        class Base(TypedDict):
            a: int
            b: NotRequired[str]
        class Child(Base, total=False):
            c: float
            d: Required[bool]
        class NoFields(TypedDict): ...
        def f(x: Child, y: NoFields) -> Base: ...
    """})
    rec = {r.name: {f.name: f.required for f in r.fields} for r in s.records}
    assert rec == {"Base": {"a": True, "b": False}, "Child": {"a": True, "b": False, "c": False, "d": True}}
    assert "NoFields" in {h.name for h in s.handles}
    assert externs(s)["mp_f"] == "mp_f(x: Child, y: NoFields): Base"


def test_unpack_typeddict_kwargs_become_keyword_only_params() -> None:
    s = surface({"mini/__init__.pyi": """
        from typing import TypedDict, NotRequired, Unpack
        class Opts(TypedDict):
            timeout: float
            retries: NotRequired[int]
        def call(url: str, **kw: Unpack[Opts]) -> int: ...
    """})
    by = {f.extern_name: f for f in s.functions}
    assert [(p.name, p.kind) for p in by["mp_call"].params] == [
        ("url", "positional_or_keyword"), ("timeout", "keyword_only")]
    assert externs(s)["mp_call_full"] == "mp_call_full(url: string, timeout: float, retries: int?): int"
    assert not any(r.reason == SkipReason.SkipParamSpec for r in s.skips)


def test_callables_skip_the_function_on_wasi() -> None:
    files = {"mini/__init__.pyi":
             "from typing import Callable\ndef apply(cb: Callable[[int], int]) -> int: ...\n"}
    assert "mp_apply" in externs(surface(files))
    s = surface(files, target="wasi-p2")
    assert externs(s) == {}
    assert skips(s) == {"mini.apply": "SkipTargetUnrepresentable"}


def test_typevar_monomorphise_and_allow_partial() -> None:
    files = {"mini/__init__.pyi": """
        from typing import Any, TypeVar
        T = TypeVar("T")
        def first(xs: list[T]) -> T: ...
        def loose(x: Any) -> int: ...
    """}
    s = surface(files, any_policy="skip")
    assert skips(s) == {"mini.first": "SkipUnsupportedTypingConstruct",
                        "mini.loose": "SkipUnsupportedTypingConstruct"}
    # the default (rule change): a declared `Any` and an unbounded TypeVar are widened `any`
    assert externs(surface(files)) == {"mp_first": "mp_first(xs: list<any>): any", "mp_loose": "mp_loose(x: any): int"}
    s = surface(files, monomorphise={"T": "int"}, allow_partial=True, tier="py.typed-partial")
    assert externs(s) == {"mp_first": "mp_first(xs: list<int>): int", "mp_loose": "mp_loose(x: any): int"}
    s = surface(files, monomorphise=["mini.first.T=str"])
    assert externs(s)["mp_first"] == "mp_first(xs: list<string>): string"


def test_aliases_across_modules_and_version_targets() -> None:
    files = {
        "mini/__init__.pyi": """
            import sys
            from ._types import Headers, Pair
            if sys.version_info >= (3, 14):
                def only_new(h: Headers) -> Pair[int]: ...
            def both(h: Headers) -> int: ...
        """,
        "mini/_types.pyi": """
            from typing import TypeAlias
            Headers: TypeAlias = dict[str, "list[str]"]
            type Pair[K] = tuple[K, K]
        """,
    }
    old = map_module(stubs(files, (3, 12)), dist="mini", version="1", alias="mp", import_names=["mini"],
                     tier="py.typed")
    new = map_module(stubs(files, (3, 14)), dist="mini", version="1", alias="mp", import_names=["mini"],
                     tier="py.typed")
    assert set(externs(old)) == {"mp_both"}
    assert externs(new) == {"mp_both": "mp_both(h: map<string, list<string>>): int",
                            "mp_only_new": "mp_only_new(h: map<string, list<string>>): Tup_int_int"}
    assert {r.name for r in new.records} == {"Tup_int_int"}


def test_overload_ambiguity_and_superset_choice() -> None:
    s = surface({"mini/__init__.pyi": """
        from typing import overload
        @overload
        def get(key: str) -> str | None: ...
        @overload
        def get(key: str, default: str) -> str: ...
        @overload
        def both(x: int, y: int) -> int: ...
        @overload
        def both(x: int, z: int) -> int: ...
        @overload
        def bad(x: complex) -> int: ...
        @overload
        def bad(x: complex, y: int) -> int: ...
    """})
    # `both`: no arm covers the other, so each arm is its own extern; both arms are named
    # `int_int` (then `int_int_int` with the return type): the first binds, the second is reported
    assert externs(s) == {"mp_get": "mp_get(key: string, default: string): string",
                          "mp_both_int_int_int": "mp_both_int_int_int(x: int, y: int): int"}
    assert skips(s) == {"mini.both#2": "SkipOverloadAmbiguity", "mini.bad": "SkipNoComplexType"}
    both = next(r for r in s.skips if r.path == "mini.both#2")
    assert both.detail == "def both(x: int, z: int) -> int"
    assert both.hint == "maps to the same extern as arm 1 (mp_both_int_int_int)"


def test_defaulted_param_that_does_not_map_is_dropped_from_full_only() -> None:
    s = surface({"mini/__init__.pyi": """
        from typing import Any
        def f(a: int, b: Any = ..., c: str = ...) -> int: ...
        def g(a: Any, b: int = ...) -> int: ...
        def h(a: int, b=1) -> int: ...
    """}, any_policy="skip")
    assert externs(s) == {"mp_f": "mp_f(a: int): int", "mp_f_full": "mp_f_full(a: int, c: string?): int",
                          "mp_h": "mp_h(a: int): int"}
    assert skips(s) == {"mini.f.b": "SkipUnsupportedTypingConstruct",
                        "mini.g": "SkipUnsupportedTypingConstruct",
                        "mini.h.b": "SkipUnsupportedTypingConstruct"}
    g = next(r for r in s.skips if r.path == "mini.g")
    assert g.detail == "Any"  # the failing annotation


def test_inherited_constructor_from_external_base_is_reported() -> None:
    s = surface({"mini/__init__.pyi": """
        from collections import OrderedDict
        class Plain: ...
        class Derived(OrderedDict):
            def extra(self) -> int: ...
        class Abstract:
            from abc import abstractmethod
            @abstractmethod
            def run(self) -> None: ...
    """})
    assert set(externs(s)) == {"mp_Plain_new", "mp_Derived_extra", "mp_Abstract_run"}
    assert skips(s) == {"mini.Derived.__init__": "SkipForwardRef"}


def test_attrs_private_field_init_names_and_kw_only() -> None:
    s = surface({"mini/__init__.pyi": """
        import attrs
        from dataclasses import dataclass, KW_ONLY
        @attrs.define
        class A:
            _secret: int
        @dataclass
        class D:
            a: int
            _: KW_ONLY
            b: str
    """})
    by = {f.extern_name: f for f in s.functions}
    assert [p.name for p in by["mp_A_new"].params] == ["secret"]
    assert [(p.name, p.kind) for p in by["mp_D_new"].params] == [
        ("a", "positional_or_keyword"), ("b", "keyword_only")]
