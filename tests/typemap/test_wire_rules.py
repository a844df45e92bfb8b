"""The type table's widening rules (docs/type-table.md): well-known standard-library types
as wire forms, checked unions, TypeVar bounds and constraints, and the widened ``any`` of a
declared ``Any`` / unbounded TypeVar / ``object`` under ``[python] any``.

Table-level cases lower single annotations; package-level cases parse real stub text and
map it with :func:`map_module`, so that every import spelling goes through the resolver.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.typemap.test_typemap_map import surface
from tests.typemap.test_typemap_table import FakeResolver, mochi
from wasmtool.skips import SkipReason, SkipReport
from wasmtool.typemap.errors import TypemapSettingError
from wasmtool.typemap.surface import WIRE_FORMS, Function, MappedSurface, TypeRef, widened_why
from wasmtool.typemap.table import (
    ANY_DECLARED,
    ANY_OBJECT,
    ANY_UNANNOTATED,
    PARTIAL_TIERS,
    LowerContext,
    LoweredReturn,
    Resolved,
    ResolvedAlias,
    ResolvedTypeVar,
    ResolvedWellKnown,
    any_widens,
    lower_annotation,
    lower_return,
    typevar_any,
)
from wasmtool.typemap.wellknown import PATH, WELL_KNOWN, well_known

RESOLVER = FakeResolver(names={
    "T": ResolvedTypeVar("T"),
    "N": ResolvedTypeVar("N", bound="int"),
    "Num": ResolvedTypeVar("Num", constraints=("int", "float")),
    "S": ResolvedTypeVar("S", constraints=("str", "bytes")),
    "Loop": ResolvedTypeVar("Loop", bound="list[Loop]"),
    "Far": ResolvedTypeVar("Far", bound="Thing", module="pkg.other"),
    "P": ResolvedTypeVar("P", "ParamSpec"),
    "IntOrStr": ResolvedAlias("pkg", "int | str", key="pkg.IntOrStr"),
    "Dyn": ResolvedAlias("pkg", "Any", key="pkg.Dyn"),
    "When": ResolvedWellKnown("datetime.datetime"),
    "Gone": ResolvedWellKnown("datetime.nothing"),
})


def lowered(ann: str, **kw: object) -> str:
    base: dict[str, object] = {"path": "pkg.f", "module": "pkg", "resolver": RESOLVER}
    base.update(kw)
    r = lower_annotation(ann, LowerContext(**base))  # type: ignore[arg-type]
    if isinstance(r, SkipReport):
        assert (r.path, r.detail) == ("pkg.f", ann)
        assert r.hint
        return f"skip:{r.reason.token}"
    return mochi(r)


# -- well-known types ----------------------------------------------------------------------------


@pytest.mark.parametrize(("ann", "expected"), [
    ("datetime.datetime", "string[datetime:datetime]"),
    ("datetime.date", "string[datetime:date]"),
    ("datetime.time", "string[datetime:time]"),
    ("datetime.timedelta", "float[datetime:timedelta]"),
    ("decimal.Decimal", "string[decimal:Decimal]"),
    ("uuid.UUID", "string[uuid:UUID]"),
    ("pathlib.Path", "string[pathlib:Path]"),
    ("pathlib.PurePath", "string[pathlib:Path]"),
    ("os.PathLike[str]", "string[pathlib:Path]"),
    ("os.PathLike", "string[pathlib:Path]"),
    ("_typeshed.StrPath", "string[pathlib:Path]"),
    ("_typeshed.StrOrBytesPath", "string[pathlib:Path]"),
    ("_typeshed.FileDescriptorOrPath", "int | string[pathlib:Path]"),
    ("re.Pattern[str]", "string[re:Pattern]"),
    ("re.Pattern", "string[re:Pattern]"),
    ("typing.Pattern[str]", "string[re:Pattern]"),
    ("Pattern['str']", "string[re:Pattern]"),
    ("re.Pattern[bytes]", "skip:SkipUnsupportedTypingConstruct"),
    ("re.Pattern[AnyStr]", "skip:SkipUnsupportedTypingConstruct"),
    ("re.Pattern[str, str]", "skip:SkipUnsupportedTypingConstruct"),
    ("SupportsIndex", "int"),
    ("typing.SupportsInt", "int"),
    ("typing_extensions.SupportsIndex", "int"),
    ("SupportsFloat", "float"),
    ("Hashable", "string | int | float | bool"),
    ("collections.abc.Hashable | None", "(string | int | float | bool)?"),
    ("datetime.datetime[int]", "skip:SkipUnsupportedTypingConstruct"),
    ("datetime.nothing", "skip:SkipForwardRef"),
    ("When", "string[datetime:datetime]"),
    ("Gone", "skip:SkipForwardRef"),
    ("list[uuid.UUID]", "list<string[uuid:UUID]>"),
    ("dict[uuid.UUID, datetime.date]", "map<string[uuid:UUID], string[datetime:date]>"),
    ("Optional[datetime.timedelta]", "float[datetime:timedelta]?"),
    ("'datetime.date'", "string[datetime:date]"),
    # still outside the table
    ("SupportsAbs[int]", "skip:SkipUnsupportedTypingConstruct"),
    ("Match[str]", "skip:SkipUnsupportedTypingConstruct"),
    ("_typeshed.BytesPath", "skip:SkipForwardRef"),
])
def test_well_known_types(ann: str, expected: str) -> None:
    assert lowered(ann) == expected
    # wire forms are no widening: the any policy does not touch them
    assert lowered(ann, any_policy="skip") == expected


def test_well_known_table_is_consistent() -> None:
    for name, entry in WELL_KNOWN.items():
        assert entry.qualname == name
        assert well_known(name) is entry
        for t in entry.type.walk():
            assert t.kind != "any"
            if t.py:
                assert t.kind in ("str", "float", "int", "bool")
                assert WIRE_FORMS.get(t.py) == t.kind, f"{name}: {t.py} is not a {t.kind} wire form"
                module, _, qual = t.py.partition(":")
                assert module and qual
    assert well_known("datetime") is None
    assert well_known("os.PathLike") is not None and well_known("os.PathLike").type == PATH  # type: ignore[union-attr]


# -- checked unions --------------------------------------------------------------------------------


@pytest.mark.parametrize(("ann", "expected"), [
    ("int | str", "int | string"),
    ("str | int", "string | int"),
    ("int | str | int", "int | string"),
    ("int | str | None", "(int | string)?"),
    ("Optional[Union[int, str]]", "(int | string)?"),
    ("None | list[int] | str", "(list<int> | string)?"),
    ("int | float", "float"),
    ("float | int", "float"),
    ("int | float | str", "float | string"),
    ("int | float | None", "float?"),
    ("bool | int", "bool | int"),
    ("str | os.PathLike[str]", "string[pathlib:Path]"),
    ("os.PathLike[str] | str | None", "string[pathlib:Path]?"),
    ("str | bytes | os.PathLike[str] | os.PathLike[bytes]", "string[pathlib:Path]"),
    ("bytes | os.PathLike[str]", "list<int> | string[pathlib:Path]"),
    ("int | str | pathlib.Path", "int | string[pathlib:Path]"),
    ("datetime.datetime | str", "string[datetime:datetime] | string"),
    ("list[int] | Sequence[int] | tuple[int, ...]", "list<int>"),
    ("str | Literal['a']", "string"),
    ("IntOrStr | bytes", "int | string | list<int>"),
    ("IntOrStr | float", "int | string | float"),  # only an int written in this union yields to float
    ("Hashable | None", "(string | int | float | bool)?"),
    ("Hashable | int", "string | int | float | bool"),
    ("IntOrStr | None", "(int | string)?"),
    ("int | Optional[str]", "(int | string)?"),
    ("int | Literal['a'] | Literal[True]", "int | string | bool"),
    ("Literal['a'] | int | Literal[1]", "string | int"),
    ("list[int | str]", "list<int | string>"),
    ("dict[str, int | None]", "map<string, int?>"),
    ("Literal['a', 1]", "string | int"),
    ("Literal['a', 1, None]", "(string | int)?"),
    ("Literal[True, 'x']", "bool | string"),
    # a member that does not map skips the whole union, with the first failing member's reason
    ("int | Missing | IO[str]", "skip:SkipForwardRef"),
    ("int | IO[str] | Missing", "skip:SkipUnsupportedTypingConstruct"),
    ("int | complex", "skip:SkipNoComplexType"),
    ("int | Callable[..., int]", "skip:SkipParamSpec"),
    ("Literal['a', b'x']", "skip:SkipUnsupportedTypingConstruct"),
])
def test_checked_unions(ann: str, expected: str) -> None:
    assert lowered(ann) == expected


def test_union_shape() -> None:
    u = lower_annotation("int | str | None", LowerContext())
    assert u == TypeRef("option", (TypeRef("union", (TypeRef("int"), TypeRef("str"))),))
    r = lower_return("int | str", LowerContext())
    assert r == LoweredReturn(TypeRef("union", (TypeRef("int"), TypeRef("str"))))
    # no union ever holds an option, an any or another union, nor fewer than two members
    for ann in ("int | (str | None) | IntOrStr", "Hashable | bytes", "Literal['a', 1] | Literal[True] | None"):
        t = lower_annotation(ann, LowerContext(resolver=RESOLVER))
        assert isinstance(t, TypeRef)
        for sub in t.walk():
            if sub.kind == "union":
                assert len(sub.args) >= 2
                assert len(set(sub.args)) == len(sub.args)
                assert all(a.kind not in ("option", "any", "union") for a in sub.args)


def test_union_in_a_fixed_tuple_names_its_record() -> None:
    t = lower_annotation("tuple[int | str, float]", LowerContext())
    assert isinstance(t, TypeRef)
    assert t.name == "Tup_union_int_string_float"


# -- widened any: declared Any, unbounded TypeVars, object ----------------------------------------


@pytest.mark.parametrize(("ann", "expected"), [
    ("Any", "any[typing:Any]"),
    ("dict[str, Any]", "map<string, any[typing:Any]>"),
    ("Callable[[Any], Any]", "fun(any[typing:Any]): any[typing:Any]"),
    ("int | Any", "any[typing:Any]"),
    ("Any | None", "any[typing:Any]"),
    ("Dyn", "any[typing:Any]"),
    ("int | Dyn", "any[typing:Any]"),
    ("object", "any[builtins:object]"),
    ("list[object]", "list<any[builtins:object]>"),
    ("int | object", "any[builtins:object]"),
    ("T", "any[typing:TypeVar T]"),
    ("T | None", "any[typing:TypeVar T]?"),
    ("int | T", "any[typing:TypeVar T]"),
    ("list[T] | T", "any[typing:TypeVar T]"),  # a union with an any member is that any
])
def test_widened_any_on_complete_tiers(ann: str, expected: str) -> None:
    for tier in ("py.typed", "stubs-package", "typeshed"):
        assert lowered(ann, tier=tier) == expected


@pytest.mark.parametrize("ann", ["Any", "dict[str, Any]", "int | Any", "object", "T", "list[T]", "int | T"])
def test_no_widening_on_partial_tiers_or_with_the_skip_policy(ann: str) -> None:
    for kw in ({"any_policy": "skip"}, {"tier": "py.typed-partial"}, {"tier": "stubgen", "allow_partial": True}):
        result = lower_annotation(ann, LowerContext(path="pkg.f", module="pkg", resolver=RESOLVER,
                                                    **kw))
        tagged = isinstance(result, TypeRef) and any(t.kind == "any" and t.py for t in result.walk())
        assert not tagged, (ann, kw, result)


def test_allow_any_and_allow_partial_still_give_a_plain_any() -> None:
    assert lowered("Any", allow_any=("pkg.f",)) == "any"
    assert lowered("Any", allow_any=("pkg.f",), any_policy="skip") == "any"
    assert lowered("list[Any]", tier="stubgen", allow_partial=True) == "list<any>"
    # the opted-in any in a union: a union with an any member is the any (policy "map", complete tier)
    assert lowered("int | Dyn", allow_any=("pkg.f",)) == "any"
    assert lowered("int | Dyn", allow_any=("pkg.f",), any_policy="skip") == "skip:SkipOpenUnion"
    assert lowered("int | object", in_protocol=True, position="param") == "any"


#: ``any_policy="skip"`` reproduces the table before widening, report for report.
OLD_REPORTS = {
    "Any": (SkipReason.SkipUnsupportedTypingConstruct, "`Any` (maps to `any` only with allow-partial on a "
            "partial/stubgen tier, or for items listed in allow-any)"),
    "dict[str, Any]": (SkipReason.SkipUnsupportedTypingConstruct, "`Any` (maps to `any` only with allow-partial "
                       "on a partial/stubgen tier, or for items listed in allow-any)"),
    "int | Any": (SkipReason.SkipOpenUnion, "union with an `Any` branch"),
    "Optional[Any]": (SkipReason.SkipOpenUnion, "union with an `Any` branch"),
    "object": (SkipReason.SkipUnsupportedTypingConstruct, "`object` outside a Protocol parameter"),
    "T": (SkipReason.SkipUnsupportedTypingConstruct, "TypeVar `T` (instantiate it with a monomorphise setting)"),
    "list[T]": (SkipReason.SkipUnsupportedTypingConstruct,
                "TypeVar `T` (instantiate it with a monomorphise setting)"),
}


@pytest.mark.parametrize("ann", sorted(OLD_REPORTS))
def test_skip_policy_gives_the_old_reports(ann: str) -> None:
    reason, hint = OLD_REPORTS[ann]
    ctx = LowerContext(path="pkg.f", module="pkg", resolver=RESOLVER, any_policy="skip")
    assert lower_annotation(ann, ctx) == SkipReport("pkg.f", reason, ann, hint)
    assert lower_return(ann, ctx) == SkipReport("pkg.f", reason, ann, hint)


def test_any_widens() -> None:
    for tier in ("py.typed", "stubs-package", "typeshed"):
        assert any_widens(LowerContext(tier=tier))
        assert not any_widens(LowerContext(tier=tier, any_policy="skip"))
    for tier in sorted(PARTIAL_TIERS):
        assert not any_widens(LowerContext(tier=tier))
    assert typevar_any("T") == TypeRef("any", name="T", py="typing:TypeVar")
    assert (ANY_DECLARED.py, ANY_OBJECT.py) == ("typing:Any", "builtins:object")


def test_missing_annotation_is_any_by_pep_484_on_a_complete_source_only() -> None:
    # a complete source: the author left it open, an `any` listed as unannotated (rule change)
    r = lower_return(None, LowerContext(path="pkg.f"))
    assert isinstance(r, LoweredReturn) and r.type == ANY_UNANNOTATED
    assert widened_why(ANY_UNANNOTATED) == "unannotated"
    # stubgen / partial sources and the skip policy: still a skip
    for ctx in (LowerContext(path="pkg.f", tier="stubgen"), LowerContext(path="pkg.f", any_policy="skip")):
        skipped = lower_return(None, ctx)
        assert isinstance(skipped, SkipReport) and skipped.reason == SkipReason.SkipUnsupportedTypingConstruct


# -- TypeVars: bounds and constraints --------------------------------------------------------------


@pytest.mark.parametrize(("ann", "expected"), [
    ("N", "int"),
    ("list[N]", "list<int>"),
    ("Num", "float"),            # constrained int, float: the union collapses to float
    ("S", "string | list<int>"),
    ("AnyStr", "string | list<int>"),
    ("AnyStr | None", "(string | list<int>)?"),
    ("Loop", "skip:SkipUnsupportedTypingConstruct"),  # its bound refers to itself
    ("P", "skip:SkipParamSpec"),
])
def test_typevar_bounds_and_constraints(ann: str, expected: str) -> None:
    assert lowered(ann) == expected
    # bounds and constraints are no widening: the policy does not change them
    assert lowered(ann, any_policy="skip") == expected


def test_typevar_bound_is_read_in_its_declaring_module() -> None:
    thing = TypeRef("handle", name="Thing", py="pkg.other:Thing")

    @dataclass
    class Scoped(FakeResolver):
        def resolve(self, module: str, parts: tuple[str, ...]) -> Resolved | None:
            if module == "pkg.other" and parts == ("Thing",):
                return thing
            return super().resolve(module, parts)

    scoped = Scoped(names=dict(RESOLVER.names))
    assert lower_annotation("Far", LowerContext(module="pkg", resolver=scoped)) == thing
    assert isinstance(lower_annotation("Far", LowerContext(module="pkg", resolver=RESOLVER)), SkipReport)


def test_monomorphise_wins_over_bounds_and_widening() -> None:
    assert lowered("N", monomorphise=(("N", "str"),)) == "string"
    assert lowered("T", monomorphise=(("pkg.f.T", "bytes"),)) == "list<int>"
    assert lowered("AnyStr", monomorphise=(("AnyStr", "str"),)) == "string"


def test_pep695_bounds_and_constraints() -> None:
    params = (("U", "TypeVar"), ("V", "TypeVar"), ("W", "TypeVar"))
    bounds = (("U", "int"), ("V", "(str, bytes)"))
    assert lowered("U", type_params=params, type_param_bounds=bounds) == "int"
    assert lowered("V", type_params=params, type_param_bounds=bounds) == "string | list<int>"
    assert lowered("W", type_params=params, type_param_bounds=bounds) == "any[typing:TypeVar W]"
    assert lowered("W", type_params=params, type_param_bounds=bounds,
                   any_policy="skip") == "skip:SkipUnsupportedTypingConstruct"


# -- property: the policy "skip" is the policy "map" minus the widening ---------------------------

_LEAVES = ["int", "str", "bytes", "float", "bool", "None", "Any", "object", "T", "N", "S", "AnyStr", "Missing",
           "datetime.date", "os.PathLike[str]", "Literal['a']", "Literal[1]", "complex", "IntOrStr", "Dyn",
           "type[T]", "type[Any]", "type[N]", "type", "Buffer", "memoryview", "Collection[int]", "Literal[None]"]


def _annotations() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            inner.map(lambda a: f"list[{a}]"),
            inner.map(lambda a: f"Optional[{a}]"),
            st.tuples(inner, inner).map(lambda ab: f"{ab[0]} | {ab[1]}"),
            st.tuples(inner, inner).map(lambda ab: f"dict[str, {ab[1]}] | {ab[0]}"),
            st.tuples(inner, inner).map(lambda ab: f"tuple[{ab[0]}, {ab[1]}]"),
            st.tuples(inner, inner).map(lambda ab: f"Callable[[{ab[0]}], {ab[1]}]"),
        )
    return st.recursive(st.sampled_from(_LEAVES), extend, max_leaves=6)


def _tagged(t: TypeRef) -> bool:
    return any(sub.kind == "any" and sub.py for sub in t.walk())


@settings(max_examples=300, deadline=None)
@given(_annotations())
def test_skip_policy_only_removes_widening(ann: str) -> None:
    base = LowerContext(path="pkg.f", module="pkg", resolver=RESOLVER)
    mapped = lower_annotation(ann, base)
    skipped = lower_annotation(ann, LowerContext(path="pkg.f", module="pkg", resolver=RESOLVER, any_policy="skip"))
    if isinstance(skipped, TypeRef):
        assert not _tagged(skipped)
        assert mapped == skipped  # whatever maps without widening maps alike with it
    if isinstance(mapped, TypeRef) and not _tagged(mapped):
        assert skipped == mapped
    if isinstance(mapped, SkipReport):
        assert isinstance(skipped, SkipReport)
    if isinstance(mapped, TypeRef):
        for sub in mapped.walk():
            if sub.kind == "union":
                assert len(sub.args) >= 2 and all(a.kind not in ("option", "any", "union") for a in sub.args)


# -- through the package resolver -------------------------------------------------------------------


def extern(f: Function) -> str:
    params = ", ".join(f"{p.mochi_name}: {mochi(p.type)}" for p in f.params)
    ret = f": {mochi(f.returns)}" if f.returns is not None else ""
    return f"({params}){ret}"


def externs(s: MappedSurface) -> dict[str, str]:
    return {f.extern_name: extern(f) for f in s.functions if not f.full}


def skips(s: MappedSurface) -> dict[str, str]:
    return {k.path: k.reason.token for k in s.skips}


WELL_KNOWN_PKG = {"mini/__init__.pyi": """
    import datetime
    import datetime as dt
    import os
    import re
    import typing
    import typing as t
    import uuid
    from collections.abc import Hashable
    from datetime import date, timedelta as TD
    from decimal import Decimal
    from os import PathLike
    from pathlib import Path, PurePath
    from re import Pattern
    from typing import SupportsFloat, SupportsIndex

    from _typeshed import FileDescriptorOrPath, StrOrBytesPath, StrPath

    def a(x: datetime.datetime) -> dt.date: ...
    def b(x: date, y: TD) -> Decimal: ...
    def c(x: uuid.UUID) -> Path: ...
    def d(p: StrPath, q: StrOrBytesPath, r: os.PathLike[str], s: PathLike[bytes],
          u: str | os.PathLike[str]) -> PurePath: ...
    def e(p: re.Pattern[str], q: Pattern[str], r: typing.Pattern[str]) -> t.Pattern[str]: ...
    def f(i: SupportsIndex, j: typing.SupportsInt, k: SupportsFloat) -> Hashable: ...
    def g(p: re.Pattern[bytes]) -> int: ...
    def h(fd: FileDescriptorOrPath) -> None: ...
    def i(x: dt.datetime | None = None) -> list[date]: ...
    def j(x: os.DirEntry[str]) -> None: ...
"""}


def test_well_known_spellings_through_imports() -> None:
    s = surface(WELL_KNOWN_PKG)
    assert externs(s) == {
        "mp_a": "(x: string[datetime:datetime]): string[datetime:date]",
        "mp_b": "(x: string[datetime:date], y: float[datetime:timedelta]): string[decimal:Decimal]",
        "mp_c": "(x: string[uuid:UUID]): string[pathlib:Path]",
        "mp_d": "(p: string[pathlib:Path], q: string[pathlib:Path], r: string[pathlib:Path], "
                "s: string[pathlib:Path], u: string[pathlib:Path]): string[pathlib:Path]",
        "mp_e": "(p: string[re:Pattern], q: string[re:Pattern], r: string[re:Pattern]): string[re:Pattern]",
        "mp_f": "(i: int, j: int, k: float): string | int | float | bool",
        "mp_h": "(fd: int | string[pathlib:Path])",
        "mp_i": "(): list<string[datetime:date]>",
    }
    full = {f.extern_name: extern(f) for f in s.functions if f.full}
    assert full == {"mp_i_full": "(x: string[datetime:datetime]?): list<string[datetime:date]>"}
    assert skips(s) == {"mini.g": "SkipUnsupportedTypingConstruct", "mini.j": "SkipForwardRef"}
    j = next(k for k in s.skips if k.path == "mini.j")
    assert "os.DirEntry" in j.hint


TYPEVAR_PKG = {
    "mini/__init__.pyi": """
        from typing import Any, AnyStr, TypeVar
        from .kinds import K, Thing

        T = TypeVar("T")
        N = TypeVar("N", bound=int)
        S = TypeVar("S", str, bytes)
        B = TypeVar("B", bound="Base")
        R = TypeVar("R", bound="list[R]")

        class Base: ...

        def ident(x: T) -> T: ...
        def num(x: N) -> N: ...
        def strs(x: S) -> S: ...
        def base(x: B) -> B: ...
        def anystr(x: AnyStr) -> AnyStr: ...
        def kind(x: K) -> list[K]: ...
        def loop(x: R) -> int: ...
        def loose(x: Any, y: object) -> dict[str, Any]: ...
        def union(x: int | str, y: int | Any) -> list[int] | str | None: ...
        def pep695[U, V: float](x: U, y: V) -> U: ...
    """,
    "mini/kinds.pyi": """
        from typing import TypeVar
        class Thing: ...
        K = TypeVar("K", bound=Thing)
    """,
}


def test_typevars_and_widening_through_the_mapper() -> None:
    s = surface(TYPEVAR_PKG)
    got = externs(s)
    assert got["mp_ident"] == "(x: any[typing:TypeVar T]): any[typing:TypeVar T]"
    assert got["mp_num"] == "(x: int): int"
    assert got["mp_strs"] == "(x: string | list<int>): string | list<int>"
    assert got["mp_base"] == "(x: Base): Base"
    assert got["mp_anystr"] == "(x: string | list<int>): string | list<int>"
    assert got["mp_kind"] == "(x: Thing): list<Thing>"     # the bound is read in mini.kinds
    assert got["mp_loose"] == "(x: any[typing:Any], y: any[builtins:object]): map<string, any[typing:Any]>"
    assert got["mp_union"] == "(x: int | string, y: any[typing:Any]): (list<int> | string)?"
    # PEP 695 parameters are unbounded until the mapper passes their bounds (type_param_bounds)
    assert got["mp_pep695"].startswith("(x: any[typing:TypeVar U], y: ")
    assert skips(s) == {"mini.loop": "SkipUnsupportedTypingConstruct"}


def test_skip_policy_through_the_mapper() -> None:
    s = surface(TYPEVAR_PKG, any_policy="skip")
    got = externs(s)
    for name in ("mp_ident", "mp_loose", "mp_pep695"):
        assert name not in got
    assert got["mp_num"] == "(x: int): int"
    assert got["mp_strs"] == "(x: string | list<int>): string | list<int>"
    assert skips(s) == {
        "mini.ident": "SkipUnsupportedTypingConstruct",
        "mini.loose": "SkipUnsupportedTypingConstruct",
        "mini.loop": "SkipUnsupportedTypingConstruct",
        "mini.union": "SkipOpenUnion",
        "mini.pep695": "SkipUnsupportedTypingConstruct",
    }
    for f in s.functions:
        for t in (*(p.type for p in f.params), *((f.returns,) if f.returns else ())):
            assert not _tagged(t)


def test_partial_tier_keeps_any_behind_allow_partial() -> None:
    s = surface(TYPEVAR_PKG, tier="py.typed-partial")
    assert {p: skips(s).get(p) for p in ("mini.ident", "mini.loose", "mini.union")} == {
        "mini.ident": "SkipUnsupportedTypingConstruct", "mini.loose": "SkipUnsupportedTypingConstruct",
        "mini.union": "SkipOpenUnion"}
    s = surface(TYPEVAR_PKG, tier="py.typed-partial", allow_partial=True)
    # `Any` is a plain any now, but `object` and the union with an Any branch still skip
    loose = next(k for k in s.skips if k.path == "mini.loose")
    assert (loose.reason, loose.hint) == (SkipReason.SkipUnsupportedTypingConstruct,
                                          "`object` outside a Protocol parameter")
    assert skips(s)["mini.union"] == "SkipOpenUnion"
    assert "mp_ident" not in externs(s)


def test_typeshed_incomplete_is_a_declared_any() -> None:
    files = {"mini/__init__.pyi": """
        from _typeshed import Incomplete
        def f(x: Incomplete) -> int: ...
    """}
    assert externs(surface(files, tier="typeshed")) == {"mp_f": "(x: any[typing:Any]): int"}
    assert externs(surface(files, tier="stubgen")) == {}
    assert externs(surface(files, tier="stubgen", allow_partial=True)) == {"mp_f": "(x: any): int"}


def test_typing_names_re_exported_inside_the_package() -> None:
    files = {
        "mini/__init__.pyi": """
            from .compat import Literal, MaybeNone, Optional, Self
            class Node:
                def me(self) -> Self: ...
                def mode(self) -> Literal["r", "w"]: ...
                def label(self) -> str | MaybeNone: ...
            def parent(n: Node) -> Optional[Node]: ...
        """,
        "mini/compat.pyi": """
            from typing import Literal as Literal
            from typing_extensions import Optional as Optional, Self as Self
            from _typeshed import MaybeNone as MaybeNone
        """,
    }
    s = surface(files)
    assert externs(s) == {
        "mp_Node_new": "(): Node",
        "mp_Node_me": "(self: Node): Node",
        "mp_Node_mode": "(self: Node): string",
        "mp_Node_label": "(self: Node): any[typing:Any]",
        "mp_parent": "(n: Node): Node?",
    }
    assert skips(s) == {}


def test_bad_any_policy_is_a_setting_error() -> None:
    with pytest.raises(TypemapSettingError) as err:
        surface(WELL_KNOWN_PKG, any_policy="maybe")
    assert err.value.code == "WT601"


# -- a parameter's union is narrowed to the members that cross ---------------------------------


def test_parameter_union_is_narrowed_to_the_members_that_cross() -> None:
    from tests.typemap.test_typemap_map import externs, skips, surface

    s = surface({"mini/__init__.pyi": """
        from typing import IO, Callable
        def load(stream: str | IO[str]) -> int: ...
        def dump(data: int, out: IO[str] | None = None) -> str: ...
        def cb(f: Callable[[int | IO[str]], int]) -> int: ...
        def result() -> str | IO[str]: ...
        def none_cross(x: IO[str] | IO[bytes]) -> int: ...
    """})
    assert externs(s) == {"mp_load": "mp_load(stream_: string): int", "mp_dump": "mp_dump(data: int): string"}
    narrowed = next(r for r in s.skips if r.path == "mini.load.stream")
    assert (narrowed.detail, narrowed.reason) == ("IO[str]", SkipReason.SkipUnsupportedTypingConstruct)
    assert "the parameter takes the union's other members" in narrowed.hint
    # never narrowed: a result, a callback's parameter (values flowing out of Python), or a
    # union none of whose members cross
    assert {"mini.cb", "mini.result", "mini.none_cross", "mini.dump.out"} <= set(skips(s))
