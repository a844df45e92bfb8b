"""Tests for wasmtool.stubs.pyi: the .pyi/.py parser into the declaration model."""

from __future__ import annotations

import contextlib
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wasmtool.errors import StubError
from wasmtool.stubs.errors import StubDecodeError, StubReadError, StubSyntaxError
from wasmtool.stubs.model import ClassDecl, FuncDecl, ModuleStub
from wasmtool.stubs.pyi import decode_stub, parse_stub, read_stub


def parse(src: str, *, module: str = "pkg.mod", file: str = "pkg/mod.pyi",
          version: tuple[int, int] = (3, 12), platform: str = "linux") -> ModuleStub:
    return parse_stub(textwrap.dedent(src), module=module, file=file, python_version=version,
                      platform=platform)


def func(m: ModuleStub, name: str) -> FuncDecl:
    f = m.function(name)
    assert f is not None, f"no function {name} in {[x.name for x in m.functions]}"
    return f


def cls(m: ModuleStub, name: str) -> ClassDecl:
    c = m.class_(name)
    assert c is not None, f"no class {name} in {[x.name for x in m.classes]}"
    return c


# -- functions -------------------------------------------------------------------------------


def test_parameter_kinds_defaults_and_annotations() -> None:
    m = parse("""
        def f(a, b: int, /, c: str = ..., *args: float, d: bytes, e: "Foo" = None,
              **kw: object) -> list[int]: ...
    """)
    f = func(m, "f")
    got = [(p.name, p.kind, p.annotation, p.has_default) for p in f.params]
    assert got == [
        ("a", "positional_only", None, False),
        ("b", "positional_only", "int", False),
        ("c", "positional_or_keyword", "str", True),
        ("args", "var_positional", "float", False),
        ("d", "keyword_only", "bytes", False),
        ("e", "keyword_only", "'Foo'", True),
        ("kw", "var_keyword", "object", False),
    ]
    assert f.returns == "list[int]"
    assert not f.is_async


def test_keyword_only_after_bare_star() -> None:
    f = func(parse("def g(x: int, *, sep: str = ' ', end: str) -> None: ..."), "g")
    assert [(p.name, p.kind, p.has_default) for p in f.params] == [
        ("x", "positional_or_keyword", False), ("sep", "keyword_only", True), ("end", "keyword_only", False)]


def test_async_def_and_missing_return() -> None:
    m = parse("""
        async def fetch(url: str) -> bytes: ...
        def nothing(x: int): ...
    """)
    assert func(m, "fetch").is_async
    assert func(m, "nothing").returns is None


def test_overloads_are_grouped_in_order() -> None:
    m = parse("""
        from typing import overload
        @overload
        def get(key: str) -> str | None: ...
        @overload
        def get(key: str, default: str) -> str: ...
        def other() -> None: ...
    """)
    g = func(m, "get")
    assert [len(a.params) for a in g.overloads] == [1, 2]
    assert all(a.is_overload for a in g.overloads)
    assert func(m, "other").overloads == ()


def test_overload_implementation_in_py_keeps_arms() -> None:
    m = parse("""
        import typing as t
        @t.overload
        def f(x: int) -> int: ...
        @t.overload
        def f(x: str) -> str: ...
        def f(x):
            return x
    """, file="pkg/mod.py")
    f = func(m, "f")
    assert len(f.overloads) == 2
    assert f.params[0].annotation is None  # the implementation
    assert not m.is_stub


def test_legacy_positional_only_double_underscore_in_stubs() -> None:
    m = parse("""
        class C:
            def m(self, __x: int, y: int) -> None: ...
        def f(__a: int, __b: int, c: int) -> None: ...
    """)
    assert [p.kind for p in func(m, "f").params] == [
        "positional_only", "positional_only", "positional_or_keyword"]
    meth = cls(m, "C").method("m")
    assert meth is not None
    assert [p.kind for p in meth.params] == ["positional_only", "positional_only", "positional_or_keyword"]


def test_decorators_static_class_methods_and_properties() -> None:
    m = parse("""
        import functools
        from abc import abstractmethod
        class C:
            @property
            def size(self) -> int: ...
            @size.setter
            def size(self, v: int) -> None: ...
            @functools.cached_property
            def cached(self) -> str: ...
            @staticmethod
            def make(x: int) -> C: ...
            @classmethod
            def build(cls, y: str) -> C: ...
            @abstractmethod
            def run(self) -> None: ...
    """)
    c = cls(m, "C")
    props = {p.name: p for p in c.properties}
    assert set(props) == {"size", "cached"}
    assert props["size"].annotation == "int"
    assert props["size"].has_setter
    assert not props["cached"].has_setter
    make, build, run = c.method("make"), c.method("build"), c.method("run")
    assert make is not None
    assert make.is_staticmethod
    assert not make.is_classmethod
    assert build is not None
    assert build.is_classmethod
    assert run is not None
    assert run.is_abstract
    assert c.method("size") is None


# -- classes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("decorator", "kind", "frozen"), [
    ("@dataclass", "dataclass", False),
    ("@dataclass(frozen=True)", "dataclass", True),
    ("@dataclasses.dataclass(frozen = True)", "dataclass", True),
    ("@dataclasses.dataclass(eq=False)", "dataclass", False),
    ("@attr.s(frozen=True)", "attrs", True),
    ("@attr.s", "attrs", False),
    ("@attrs.frozen", "attrs", True),
    ("@attrs.define", "attrs", False),
    ("@define(frozen=True)", "attrs", True),
    ("@frozen", "attrs", True),
    ("@functools.total_ordering", "", False),
])
def test_dataclass_and_attrs_detection(decorator: str, kind: str, frozen: bool) -> None:
    m = parse(f"""
        import dataclasses, functools, attr, attrs
        from dataclasses import dataclass
        from attrs import define, frozen
        {decorator}
        class P:
            x: int
            y: str = "a"
    """)
    c = cls(m, "P")
    assert (c.dataclass_kind, c.frozen) == (kind, frozen)
    assert [(f.name, f.annotation, f.has_default) for f in c.fields] == [
        ("x", "int", False), ("y", "str", True)]


def test_dataclass_field_defaults_classvar_and_kw_only() -> None:
    m = parse("""
        from dataclasses import dataclass, field, KW_ONLY
        from typing import ClassVar
        import typing as t
        @dataclass
        class D:
            a: int = field()
            b: list[int] = field(default_factory=list)
            c: ClassVar[int] = 0
            d: t.ClassVar[str]
            _: KW_ONLY
            e: str
    """)
    fields = {f.name: f for f in cls(m, "D").fields}
    assert set(fields) == {"a", "b", "c", "d", "e"}
    assert not fields["a"].has_default
    assert fields["b"].has_default
    assert fields["c"].is_classvar
    assert fields["d"].is_classvar
    assert not fields["a"].is_classvar
    assert fields["e"].kw_only
    assert not fields["a"].kw_only


@pytest.mark.parametrize(("bases", "expected"), [
    ("Protocol", {"is_protocol"}),
    ("typing.Protocol[T]", {"is_protocol", "is_generic"}),
    ("TypedDict", {"is_typeddict"}),
    ("te.TypedDict", {"is_typeddict"}),
    ("NamedTuple", {"is_namedtuple"}),
    ("Exception", {"is_exception"}),
    ("ValueError", {"is_exception"}),
    ("json.JSONDecodeError", {"is_exception"}),
    ("enum.IntEnum", {"is_enum"}),
    ("Generic[T]", {"is_generic"}),
    ("object", set()),
])
def test_class_flags(bases: str, expected: set[str]) -> None:
    m = parse(f"""
        import typing, json, enum
        import typing_extensions as te
        from typing import Protocol, TypedDict, NamedTuple, Generic, TypeVar
        T = TypeVar("T")
        class C({bases}):
            x: int
    """)
    c = cls(m, "C")
    flags = ["is_protocol", "is_typeddict", "is_namedtuple", "is_exception", "is_enum", "is_generic"]
    assert {f for f in flags if getattr(c, f)} == expected


def test_typeddict_total_metaclass_and_dynamic_flags() -> None:
    m = parse("""
        from typing import TypedDict
        class TD(TypedDict, total=False):
            a: int
        class Meta(type): ...
        class WithMeta(metaclass=Meta): ...
        class Dyn:
            def __getattr__(self, name: str) -> int: ...
            def __setattr__(self, name: str, v: int) -> None: ...
        class Desc:
            def __get__(self, obj: object, owner: object) -> int: ...
    """)
    assert not cls(m, "TD").total
    assert cls(m, "WithMeta").metaclass == "Meta"
    dyn = cls(m, "Dyn")
    assert dyn.has_getattr
    assert dyn.has_setattr
    assert not dyn.is_descriptor
    assert cls(m, "Desc").is_descriptor


def test_enum_members_literals_auto_and_unknown() -> None:
    m = parse("""
        from enum import Enum, IntEnum, StrEnum, IntFlag, auto
        class Color(Enum):
            RED = "red"
            GREEN = "green"
            _ignore_ = ["x"]
            def describe(self) -> str: ...
        class Num(IntEnum):
            A = auto()
            B = 10
            C = auto()
        class S(StrEnum):
            ALPHA = auto()
        class F(IntFlag):
            R = auto()
            W = auto()
            X = auto()
        class U(Enum):
            X = ...
            Y = -1
    """)
    assert [(e.name, e.value) for e in cls(m, "Color").enum_members] == [("RED", "red"), ("GREEN", "green")]
    assert [(e.name, e.value) for e in cls(m, "Num").enum_members] == [("A", 1), ("B", 10), ("C", 11)]
    assert [(e.name, e.value) for e in cls(m, "S").enum_members] == [("ALPHA", "alpha")]
    assert [e.value for e in cls(m, "F").enum_members] == [1, 2, 4]
    u = cls(m, "U").enum_members
    assert [(e.name, e.known, e.value) for e in u] == [("X", False, None), ("Y", True, -1)]
    assert cls(m, "Color").is_enum
    assert cls(m, "Color").enum_base == "Enum"


def test_nested_classes_get_qualnames() -> None:
    m = parse("""
        class Outer:
            class Inner:
                class Deep: ...
    """)
    outer = cls(m, "Outer")
    inner = outer.classes[0]
    assert inner.qualname == "Outer.Inner"
    assert inner.classes[0].qualname == "Outer.Inner.Deep"


def test_functional_namedtuple_and_typeddict() -> None:
    m = parse("""
        from typing import NamedTuple, TypedDict
        Point = NamedTuple("Point", [("x", int), ("y", float)])
        Movie = TypedDict("Movie", {"name": str, "year": int}, total=False)
    """)
    p = cls(m, "Point")
    assert p.is_namedtuple
    assert [(f.name, f.annotation) for f in p.fields] == [("x", "int"), ("y", "float")]
    mv = cls(m, "Movie")
    assert mv.is_typeddict
    assert not mv.total
    assert [f.name for f in mv.fields] == ["name", "year"]


# -- module level ----------------------------------------------------------------------------


def test_constants_aliases_and_typevars() -> None:
    m = parse("""
        import typing as t
        from typing import TypeAlias, TypeVar, ParamSpec, TypeVarTuple, NewType, Final, Union
        T = TypeVar("T", bound=int)
        S = TypeVar("S", str, bytes)
        P = ParamSpec("P")
        Ts = TypeVarTuple("Ts")
        UserId = NewType("UserId", int)
        A = Union[int, str]
        B: TypeAlias = "list[int]"
        C: t.TypeAlias = dict[str, int]
        D = int | None
        VERSION: str
        COUNT: Final = 3
        RATE = 0.5
        NEG = -2
        NAME = "x"
        obj = object()
        x = ...  # type: int
    """)
    assert {tv.name: (tv.kind, tv.bound, tv.constraints) for tv in m.type_vars} == {
        "T": ("TypeVar", "int", ()), "S": ("TypeVar", None, ("str", "bytes")),
        "P": ("ParamSpec", None, ()), "Ts": ("TypeVarTuple", None, ()),
    }
    aliases = {a.name: (a.kind, a.value) for a in m.aliases}
    assert aliases == {
        "UserId": ("newtype", "int"), "A": ("implicit", "Union[int, str]"), "B": ("explicit", "'list[int]'"),
        "C": ("explicit", "dict[str, int]"), "D": ("implicit", "int | None"),
    }
    consts = {c.name: (c.annotation, c.inferred) for c in m.constants}
    assert consts == {
        "VERSION": ("str", None), "COUNT": ("Final", "int"), "RATE": (None, "float"), "NEG": (None, "int"),
        "NAME": (None, "str"), "obj": (None, None), "x": ("int", None),
    }


def test_pep695_type_alias_and_generic_syntax() -> None:
    m = parse("""
        type Pair[K] = tuple[K, K]
        type Plain = int | None
        def first[T: int, *Ts, **P](xs: list[T]) -> T: ...
        class Box[V]:
            value: V
    """)
    pair = m.alias("Pair")
    assert pair is not None
    assert pair.kind == "pep695"
    assert pair.value == "tuple[K, K]"
    assert [tp.name for tp in pair.type_params] == ["K"]
    plain = m.alias("Plain")
    assert plain is not None
    assert plain.value == "int | None"
    assert plain.type_params == ()
    first = func(m, "first")
    assert [(tp.name, tp.kind, tp.bound) for tp in first.type_params] == [
        ("T", "TypeVar", "int"), ("Ts", "TypeVarTuple", None), ("P", "ParamSpec", None)]
    assert [tp.name for tp in cls(m, "Box").type_params] == ["V"]


def test_soft_keyword_type_is_still_a_name() -> None:
    m = parse("""
        type = 3
        def f(type: int) -> type[int]: ...
    """)
    assert m.constant("type") is not None
    assert func(m, "f").params[0].name == "type"


@pytest.mark.parametrize(("src", "expected"), [
    ('__all__ = ["a", "b"]', ("a", "b")),
    ('__all__ = ("a",)', ("a",)),
    ('__all__ = ["a"]\n__all__ += ["b"]', ("a", "b")),
    ('__all__ = ["a"]\n__all__.extend(["b", "c"])\n__all__.append("d")', ("a", "b", "c", "d")),
    ('__all__: list[str] = ["a"] + ["b"]', ("a", "b")),
    ('__all__ = ["a", "a"]', ("a",)),
    ("x = 1", None),
])
def test_dunder_all_forms(src: str, expected: tuple[str, ...] | None) -> None:
    assert parse(src).all_names == expected


def test_all_from_submodule() -> None:
    m = parse("""
        from . import _sub
        from ._sub import *
        __all__ = ["x"]
        __all__ += _sub.__all__
    """, module="pkg", file="pkg/__init__.pyi")
    assert m.all_names == ("x",)
    assert m.all_from == ("pkg._sub",)
    assert m.star_imports == ("pkg._sub",)


def test_imports_relative_resolution_and_reexport_rule() -> None:
    m = parse("""
        import os
        import os.path as osp
        import numpy as numpy
        from .x import y as y, z
        from .x import w as other
        from . import sibling
        from .. import up
        from .sub.deep import k
    """, module="pkg.sub.mod", file="pkg/sub/mod.pyi")
    got = {i.local: (i.module, i.name, i.reexport) for i in m.imports}
    assert got == {
        "os": ("os", "", False), "osp": ("os.path", "", False), "numpy": ("numpy", "", True),
        "y": ("pkg.sub.x", "y", True), "z": ("pkg.sub.x", "z", False), "other": ("pkg.sub.x", "w", False),
        "sibling": ("pkg.sub", "sibling", True), "up": ("pkg", "up", True),
        "k": ("pkg.sub.sub.deep", "k", False),
    }


def test_relative_imports_in_package_init() -> None:
    m = parse("from ._api import get as get\nfrom . import models", module="pkg", file="pkg/__init__.pyi")
    assert m.is_package
    assert {i.local: i.module for i in m.imports} == {"get": "pkg._api", "models": "pkg"}


# -- conditions ------------------------------------------------------------------------------

VERSIONED = """
import sys
from typing import TYPE_CHECKING
if sys.version_info >= (3, 13):
    def new_api() -> int: ...
else:
    def old_api() -> int: ...
if sys.version_info < (3, 14):
    def before_314() -> None: ...
elif sys.version_info >= (3, 14):
    def from_314() -> None: ...
if sys.version_info[:2] == (3, 12):
    def exactly_312() -> None: ...
if sys.version_info[1] >= 14 and sys.version_info[0] == 3:
    def minor_14() -> None: ...
if not (sys.version_info >= (3, 13)):
    def negated() -> None: ...
if TYPE_CHECKING:
    def typing_only() -> None: ...
class C:
    if sys.version_info >= (3, 14):
        def meth(self) -> int: ...
    else:
        def meth(self) -> str: ...
"""


@pytest.mark.parametrize(("version", "present", "absent"), [
    ((3, 12), {"old_api", "before_314", "exactly_312", "negated", "typing_only"},
     {"new_api", "from_314", "minor_14"}),
    ((3, 14), {"new_api", "from_314", "minor_14", "typing_only"},
     {"old_api", "before_314", "exactly_312", "negated"}),
])
def test_version_branches_use_the_target_not_the_host(
        version: tuple[int, int], present: set[str], absent: set[str]) -> None:
    m = parse(VERSIONED, version=version)
    names = {f.name for f in m.functions}
    assert present <= names
    assert not (absent & names)
    meth = cls(m, "C").method("meth")
    assert meth is not None
    assert meth.returns == ("int" if version >= (3, 14) else "str")


@pytest.mark.parametrize(("platform", "expected"), [
    ("linux", {"posix", "linuxish", "not_windows"}),
    ("win32", {"windows"}),
    ("darwin", {"posix", "not_windows"}),
])
def test_platform_branches(platform: str, expected: set[str]) -> None:
    m = parse("""
        import sys
        if sys.platform == "win32":
            def windows() -> None: ...
        else:
            def posix() -> None: ...
        if sys.platform.startswith("linux"):
            def linuxish() -> None: ...
        if sys.platform != "win32":
            def not_windows() -> None: ...
    """, platform=platform)
    assert {f.name for f in m.functions} == expected


def test_undecidable_condition_keeps_both_branches_and_try_keeps_all() -> None:
    m = parse("""
        import os
        if os.environ.get("X"):
            def a() -> None: ...
        else:
            def b() -> None: ...
        try:
            from fast import c
        except ImportError:
            def c() -> None: ...
    """)
    assert {f.name for f in m.functions} == {"a", "b", "c"}


def test_later_definitions_rebind_names() -> None:
    m = parse("""
        X: int
        def X() -> None: ...
        class Y: ...
        Y = int
    """)
    assert m.constant("X") is None
    assert m.function("X") is not None
    assert m.class_("Y") is None
    assert m.alias("Y") is not None


# -- lexical ---------------------------------------------------------------------------------


def test_bom_comments_continuations_and_docstrings() -> None:
    src = (
        "\ufeff# leading comment\n"
        '"""Module doc."""\n'
        "def f(a: int,  # comment inside\n"
        "      b: str \\\n"
        "         = ...,\n"
        ") -> dict[str,\n"
        "          int]:\n"
        '    """Function doc."""\n'
        "    ...\n"
    )
    m = parse_stub(src, module="m", file="m.pyi", python_version=(3, 12))
    f = func(m, "f")
    assert [(p.name, p.annotation, p.has_default) for p in f.params] == [
        ("a", "int", False), ("b", "str", True)]
    assert f.returns == "dict[str, int]"
    assert f.doc == "Function doc."
    assert m.doc == "Module doc."


def test_string_annotations_kept_as_text() -> None:
    f = func(parse("def f(x: 'Foo[int]') -> \"list[Bar]\": ..."), "f")
    assert f.params[0].annotation == "'Foo[int]'"
    assert f.returns == "'list[Bar]'"


def test_type_comment_that_is_not_a_type_does_not_break_parsing() -> None:
    m = parse("x = 1  # type: ignore[misc]\ny = 2\n")
    assert m.constant("y") is not None


@pytest.mark.parametrize(("src", "line", "col"), [
    ("def f(:\n    ...\n", 1, 7),
    ("x = 1\nclass C\n", 2, 8),
    ("def f():\nreturn 1\n", 2, 1),
])
def test_syntax_error_names_file_line_column(src: str, line: int, col: int) -> None:
    with pytest.raises(StubSyntaxError) as info:
        parse_stub(src, module="pkg.mod", file="pkg/mod.pyi", python_version=(3, 12))
    err = info.value
    assert isinstance(err, StubError)
    assert err.code == "WT501"
    assert (err.line, err.column) == (line, col)
    assert f"pkg/mod.pyi:{line}:{col}" in str(err)
    assert err.pointer.endswith("^")


def test_null_bytes_are_a_stub_error() -> None:
    with pytest.raises(StubSyntaxError):
        parse_stub("x = 1\x00\n", module="m", file="m.pyi", python_version=(3, 12))


def test_decode_and_read(tmp_path: Path) -> None:
    p = tmp_path / "m.pyi"
    p.write_bytes(b"\xef\xbb\xbfX: int\n")
    m = read_stub(p, module="m", python_version=(3, 12))
    assert m.constant("X") is not None
    assert m.file == str(p)
    assert decode_stub(b"# -*- coding: latin-1 -*-\nX: '\xe9'\n", file="x").endswith("'\u00e9'\n")
    with pytest.raises(StubDecodeError):
        decode_stub(b"X = '\xff\xfe'\n", file="bad.pyi")
    with pytest.raises(StubReadError):
        read_stub(tmp_path / "missing.pyi", module="m", python_version=(3, 12))


# -- fuzz ------------------------------------------------------------------------------------

_SNIPPETS = [
    "import sys", "import typing as t", "from . import x", "from .y import z as z", "from m import *",
    "if sys.version_info >= (3, 13):", "if sys.platform == 'win32':", "else:",
    "elif sys.version_info < (3,):",
    "def f(a, /, b: int = 1, *c, d, **e) -> None: ...", "async def g() -> t.Awaitable[int]: ...",
    "class C(t.Protocol):", "class E(Enum):", "@overload", "@dataclass(frozen=True)", "@property",
    "    x: int", "    def m(self) -> int: ...", "    A = 1", "    B = auto()", "pass", "...",
    "__all__ = ['a']", "__all__ += x.__all__", "__all__.append(1)", "T = TypeVar('T')",
    "type A[T] = list[T]", "X: t.TypeAlias = int", "N = NamedTuple('N', [('a', int)])", "    pass",
    "try:", "except ImportError:", "    ...", "if TYPE_CHECKING:", "x = 1  # type: int", "class D[T](C):",
    "if sys.version_info >= ('a',):", "if sys.version_info[5] > 1:", "__all__ = 5", "del x",
]


@pytest.mark.property
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_fuzz_arbitrary_text_only_raises_stub_error(text: str) -> None:
    with contextlib.suppress(StubError):
        parse_stub(text, module="pkg.m", file="pkg/m.pyi", python_version=(3, 12))


@pytest.mark.property
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_SNIPPETS), max_size=15), st.sampled_from([(3, 11), (3, 12), (3, 14)]))
def test_fuzz_stub_like_text_only_raises_stub_error(lines: list[str], version: tuple[int, int]) -> None:
    try:
        m = parse_stub("\n".join(lines) + "\n", module="pkg.m", file="pkg/__init__.pyi",
                       python_version=version)
    except StubError:
        return
    assert isinstance(m, ModuleStub)
