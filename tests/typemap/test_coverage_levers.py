"""The type-table levers of typed-surface coverage (docs/type-table.md): class objects
(``type[X]``) as their dotted path, unannotated constants as ``any`` on a complete source,
``**kwargs: T`` as one ``map<string, T>`` parameter, ``Collection``, the buffer protocol and
``memoryview`` as bytes, ``Literal[None]`` as ``None``. Each with what ``[python] any =
"skip"`` and a partial stub source make of it.
"""

from __future__ import annotations

import textwrap

import pytest

from wasmtool.skips import SkipReason
from wasmtool.stubs.pyi import parse_stub
from wasmtool.typemap.lower import map_module
from wasmtool.typemap.surface import CLASS_PATH_PY, Function, MappedSurface, TypeRef, widened_items
from wasmtool.typemap.table import AnyPolicy, LowerContext, lower_annotation, lower_return, type_fragment

STUB = '''
import abc
from collections.abc import Buffer, Collection
from typing import IO, Any, Literal, Type, TypeVar

class Meta(type):
    def __call__(cls, *args: Any, **kwargs: Any) -> Any: ...
class PropsMeta(type):
    @property
    def kind(cls) -> str: ...
class DerivedMeta(PropsMeta): ...
class HookedMeta(PropsMeta):
    def __instancecheck__(cls, obj: object) -> bool: ...

class Base: ...
class Child(Base): ...
class Other: ...
class Modelish(metaclass=Meta): ...
class Oops(Exception): ...
class Described(metaclass=PropsMeta):
    def size(self) -> int: ...
class Derived(metaclass=DerivedMeta): ...
class Hooked(metaclass=HookedMeta): ...
class Foreign(metaclass=abc.ABCMeta): ...

B = TypeVar("B", bound=Base)
C = TypeVar("C", Base, Other)
U = TypeVar("U")

def make(cls: type[B]) -> B: ...
def make_any(cls: type) -> type: ...
def which(x: int) -> type[Base]: ...
def either(cls: type[Base | Other]) -> None: ...
def constrained(cls: type[C]) -> None: ...
def unbounded(cls: type[U]) -> None: ...
def declared_any(cls: Type[Any]) -> None: ...
def meta(cls: type[Modelish]) -> None: ...
def raises(exc: type[Oops] | None = None) -> None: ...
def builtin(cls: type[ValueError]) -> None: ...
def items(xs: Collection[int]) -> Collection[str]: ...
def buf(data: Buffer) -> memoryview: ...
def view(data: memoryview) -> int: ...
def opts(url: str, *, timeout: float = ..., **extra: int) -> None: ...
def loose(url: str, **extra) -> None: ...
def untyped_bag(**extra: IO[str]) -> None: ...
def both(*parts: str, **extra: str) -> str: ...

class Holder:
    timetuple: Literal[None]

LIMIT = compute_limit()
NAME = "x"
'''


def surface(*, tier: str = "py.typed", any_policy: AnyPolicy = "map", allow_partial: bool = False,
            text: str = STUB) -> MappedSurface:
    stub = parse_stub(textwrap.dedent(text), module="lev", file="lev/__init__.pyi", python_version=(3, 12))
    return map_module([stub], dist="lev", version="1.0", alias="lv", import_names=["lev"], tier=tier,
                      any_policy=any_policy, allow_partial=allow_partial)


def fn(s: MappedSurface, extern: str) -> Function:
    found = [f for f in s.functions if f.extern_name == extern]
    assert found, sorted(f.extern_name for f in s.functions)
    return found[0]


def skips(s: MappedSurface) -> dict[str, tuple[str, str]]:
    return {r.path: (r.reason.token, r.hint) for r in s.skips}


def class_path(*bounds: str) -> TypeRef:
    return TypeRef("str", name="|".join(bounds), py=CLASS_PATH_PY)


# -- type[X] -------------------------------------------------------------------------------------


def test_class_objects_cross_as_their_path_checked_against_the_bound() -> None:
    s = surface()
    assert fn(s, "lv_make").params[0].type == class_path("lev:Base")          # TypeVar bound
    assert fn(s, "lv_make").returns == TypeRef("handle", name="Base", py="lev:Base")
    assert fn(s, "lv_make_any").params[0].type == class_path()                # bare `type`: any class
    assert fn(s, "lv_make_any").returns == class_path()
    assert fn(s, "lv_which").returns == class_path("lev:Base")
    assert fn(s, "lv_either").params[0].type == class_path("lev:Base", "lev:Other")
    assert fn(s, "lv_constrained").params[0].type == class_path("lev:Base", "lev:Other")
    assert fn(s, "lv_unbounded").params[0].type == class_path()
    assert fn(s, "lv_declared_any").params[0].type == class_path()
    # only the path crosses: a class that is no value itself (a metaclass, an exception) is fine
    assert fn(s, "lv_meta").params[0].type == class_path("lev:Modelish")
    assert fn(s, "lv_raises_full").params[0].type == TypeRef("option", (class_path("lev:Oops"),))
    assert fn(s, "lv_builtin").params[0].type == class_path("builtins:ValueError")
    assert "lev.Modelish" in skips(s)   # the class itself still does not map


def test_a_class_path_is_no_widening_and_maps_alike_under_any_skip() -> None:
    mapped, strict = surface(), surface(any_policy="skip")
    names = ("lv_make", "lv_make_any", "lv_which", "lv_either", "lv_unbounded", "lv_declared_any", "lv_meta")
    for name in names:
        assert fn(strict, name) == fn(mapped, name)
    assert not [w for w in widened_items(mapped) if w.extern in names]


def test_any_class_on_a_partial_source_needs_allow_partial() -> None:
    s = surface(tier="stubgen")
    assert skips(s)["lev.declared_any"][0] == SkipReason.SkipUnsupportedTypingConstruct.token
    assert "partial stub source" in skips(s)["lev.declared_any"][1]
    assert fn(s, "lv_make").params[0].type == class_path("lev:Base")     # a named bound needs no opt-in
    assert fn(surface(tier="stubgen", allow_partial=True), "lv_declared_any").params[0].type == class_path()


@pytest.mark.parametrize(("ann", "reason", "hint"), [
    ("type[int, str]", SkipReason.SkipUnsupportedTypingConstruct, "takes one type argument"),
    ("type[None]", SkipReason.SkipUnsupportedTypingConstruct, "type[None]"),
    ("type[Missing]", SkipReason.SkipForwardRef, "unresolved class `Missing`"),
    ("type[list[int] | Literal[1]]", SkipReason.SkipUnsupportedTypingConstruct, "does not name a class"),
])
def test_what_is_not_a_class_is_skipped(ann: str, reason: SkipReason, hint: str) -> None:
    r = lower_annotation(ann, LowerContext(path="p.f", module="p"))
    assert not isinstance(r, TypeRef)
    assert r.reason == reason and hint in r.hint, r


def test_class_paths_name_overload_arms_apart_from_strings() -> None:
    assert type_fragment(class_path("lev:Base")) == "class"
    assert type_fragment(TypeRef("str")) == "string"


# -- unannotated constants ---------------------------------------------------------------------


def test_an_unannotated_constant_is_a_widened_any_on_a_complete_source() -> None:
    s = surface()
    const = fn(s, "lv_LIMIT")
    assert (const.kind, const.params, const.returns) == ("constant", (), TypeRef("any", name="unannotated",
                                                                                  py="typing:Any"))
    assert [(w.where, w.why) for w in widened_items(s) if w.extern == "lv_LIMIT"] == [("return", "unannotated")]
    assert fn(s, "lv_NAME").returns == TypeRef("str")   # a literal value still gives its type


@pytest.mark.parametrize(("tier", "policy", "allow_partial", "expected"), [
    ("py.typed", "skip", False, None),
    ("stubgen", "map", False, None),
    ("py.typed-partial", "map", False, None),
    ("stubgen", "map", True, TypeRef("any")),     # the opt-in: a plain, unlisted any
])
def test_an_unannotated_constant_elsewhere(tier: str, policy: AnyPolicy, allow_partial: bool,
                                           expected: TypeRef | None) -> None:
    s = surface(tier=tier, any_policy=policy, allow_partial=allow_partial)
    if expected is None:
        assert skips(s)["lev.LIMIT"] == (SkipReason.SkipUnsupportedTypingConstruct.token,
                                         "constant without an annotation or a literal value")
        assert not [f for f in s.functions if f.extern_name == "lv_LIMIT"]
    else:
        assert fn(s, "lv_LIMIT").returns == expected


# -- **kwargs ------------------------------------------------------------------------------------


def test_kwargs_cross_as_one_trailing_map() -> None:
    s = surface()
    plain, full = fn(s, "lv_opts"), fn(s, "lv_opts_full")
    extra = TypeRef("map", (TypeRef("str"), TypeRef("int")))
    # the plain extern keeps the named parameters; the map is the `_full` variant's, optional
    assert [(p.name, p.kind, p.type, p.has_default) for p in plain.params] == [
        ("url", "positional_or_keyword", TypeRef("str"), False)]
    assert [(p.name, p.kind, p.type, p.has_default) for p in full.params] == [
        ("url", "positional_or_keyword", TypeRef("str"), False),
        ("timeout", "keyword_only", TypeRef("option", (TypeRef("float"),)), True),
        ("extra", "var_keyword", TypeRef("option", (extra,)), True)]
    assert [(p.kind, p.type.kind) for p in fn(s, "lv_both").params] == [("var_positional", "list")]
    assert [(p.kind, p.type.kind) for p in fn(s, "lv_both_full").params] == [
        ("var_positional", "list"), ("var_keyword", "option")]


def test_kwargs_without_an_annotation_follow_the_any_rules() -> None:
    unannotated = TypeRef("map", (TypeRef("str"), TypeRef("any", name="unannotated", py="typing:Any")))
    assert fn(surface(), "lv_loose_full").params[-1].type == TypeRef("option", (unannotated,))
    strict = surface(any_policy="skip")
    assert [p.name for p in fn(strict, "lv_loose").params] == ["url"]    # left out, the function stays
    assert skips(strict)["lev.loose.extra"][0] == SkipReason.SkipParamSpec.token


def test_kwargs_whose_type_does_not_map_are_left_out() -> None:
    s = surface()
    assert fn(s, "lv_untyped_bag").params == ()
    reason, hint = skips(s)["lev.untyped_bag.extra"]
    assert reason == SkipReason.SkipUnsupportedTypingConstruct.token
    assert "**extra is not passed through" in hint


# -- small table gaps --------------------------------------------------------------------------


# -- metaclasses -------------------------------------------------------------------------------


def test_a_metaclass_that_only_adds_to_the_class_leaves_a_plain_handle() -> None:
    s = surface()
    handles = {h.name for h in s.handles}
    assert {"Described", "Derived", "Foreign"} <= handles
    assert fn(s, "lv_Described_size").returns == TypeRef("int")
    got = skips(s)
    # a metaclass that makes or checks instances its own way stays a skip, as does one deriving from it
    assert got["lev.Modelish"] == (SkipReason.SkipMetaclass.token, "metaclass `Meta`")
    assert got["lev.Hooked"] == (SkipReason.SkipMetaclass.token, "metaclass `HookedMeta`")


def test_collection_buffer_and_memoryview() -> None:
    s = surface()
    items = fn(s, "lv_items")
    assert items.params[0].type == TypeRef("list", (TypeRef("int"),))
    assert items.returns == TypeRef("list", (TypeRef("str"),))
    buf = fn(s, "lv_buf")
    assert buf.params[0].type == TypeRef("bytes")
    assert buf.returns == TypeRef("bytes", py="builtins:memoryview")
    assert fn(s, "lv_view").params[0].type == TypeRef("bytes", py="builtins:memoryview")


@pytest.mark.parametrize("ann", ["typing_extensions.Buffer", "collections.abc.Buffer", "Buffer"])
def test_buffer_spellings(ann: str) -> None:
    assert lower_annotation(ann) == TypeRef("bytes")


def test_a_buffer_next_to_bytes_is_one_member() -> None:
    assert lower_annotation("bytes | memoryview") == TypeRef("bytes")


def test_literal_none_is_none() -> None:
    assert lower_annotation("Literal[None] | int") == TypeRef("option", (TypeRef("int"),))
    ret = lower_return("Literal[None]")
    assert not isinstance(ret, type(None)) and getattr(ret, "type", "x") is None
    holder = fn(surface(), "lv_Holder_timetuple")
    assert holder.returns is None
