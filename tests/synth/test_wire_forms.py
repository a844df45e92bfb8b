"""Wire forms and checked unions (docs/value-encoding.md): the runtime's conversions both
ways for every wire form, the member choice of a checked union and its mismatch message,
and what the generators make of them: a GENERATED wrapper that converts (no ``str`` fast
path for a ``datetime``), the shim (``any`` for a union, the base kind for a wire form),
the WIT plan (a union is skipped), ``WIDENED.txt``.

Surfaces are built by hand here: what the type table produces is tested in tests/typemap.
"""

from __future__ import annotations

import datetime as dt
import decimal
import importlib
import pathlib
import re
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import wasmtool_runtime.mochi_wrap as mw

from wasmtool.skips import SkipReason
from wasmtool.synth.errors import SurfaceRenderError
from wasmtool.synth.grammar import check_shim
from wasmtool.synth.shim import mochi_type, render_shim
from wasmtool.synth.workspace import externs_module, render_workspace, surface_files
from wasmtool.synth.wrapper import render_externs, render_externs_stub
from wasmtool.typemap.surface import (
    WIRE_FORMS,
    Field,
    Function,
    MappedSurface,
    Param,
    Record,
    TypeRef,
    mochi_spelling,
    widened_items,
)
from wasmtool.wit.model import plan_surface

S, I, F, B = TypeRef("str"), TypeRef("int"), TypeRef("float"), TypeRef("bool")  # noqa: E741
DATETIME = TypeRef("str", py="datetime:datetime")
DATE = TypeRef("str", py="datetime:date")
TIME = TypeRef("str", py="datetime:time")
TIMEDELTA = TypeRef("float", py="datetime:timedelta")
DECIMAL = TypeRef("str", py="decimal:Decimal")
UUID = TypeRef("str", py="uuid:UUID")
PATH = TypeRef("str", py="pathlib:Path")
PATTERN = TypeRef("str", py="re:Pattern")
INT_OR_STR = TypeRef("union", (I, S))
HASHABLE = TypeRef("union", (S, I, F, B))

AWARE = dt.datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))
UID = uuid.UUID("12345678-1234-5678-1234-567812345678")

# (type, Python value, wire value)
ROUND_TRIPS: list[tuple[TypeRef, Any, Any]] = [
    (DATETIME, AWARE, "2024-02-29T23:59:58.123456+05:30"),
    (DATETIME, dt.datetime(2001, 1, 2, 3, 4, 5), "2001-01-02T03:04:05"),
    (DATE, dt.date(1999, 12, 31), "1999-12-31"),
    (TIME, dt.time(7, 8, 9, 10), "07:08:09.000010"),
    (TIMEDELTA, dt.timedelta(days=1, seconds=1, microseconds=500000), 86401.5),
    (TIMEDELTA, dt.timedelta(seconds=-2), -2.0),
    (DECIMAL, decimal.Decimal("1.10"), "1.10"),                     # trailing zero kept
    (DECIMAL, decimal.Decimal("-1E+3"), "-1E+3"),
    (UUID, UID, "12345678-1234-5678-1234-567812345678"),
    (PATH, pathlib.Path("a/b c/d.txt"), "a/b c/d.txt"),
    (PATTERN, re.compile(r"^(\d+)-[a-z]?$"), r"^(\d+)-[a-z]?$"),
]


def arg(t: TypeRef) -> mw.Conv:
    return mw.arg(t.to_dict(), where="fn")


def ret(t: TypeRef) -> mw.Conv:
    return mw.ret(t.to_dict(), where="fn")


@pytest.mark.parametrize(("t", "value", "wire"), ROUND_TRIPS, ids=[f"{t.py}-{w}" for t, _, w in ROUND_TRIPS])
def test_every_wire_form_converts_both_ways(t: TypeRef, value: Any, wire: Any) -> None:
    out = ret(t)(value, "return")
    assert out == wire and type(out) is type(wire)
    back = arg(t)(wire, "x")
    assert back == value and type(back) is type(value)
    assert arg(t)(value, "x") == value          # the Python value itself is accepted as an argument
    # a timedelta's wire form is a float: an int is accepted too
    if t is TIMEDELTA:
        assert arg(t)(3, "x") == dt.timedelta(seconds=3)


def test_wire_form_tables_agree() -> None:
    """The runtime (stdlib only) and the type table name the same wire forms, with the same kind."""
    assert {py: form.kind for py, form in mw.WIRE_FORMS.items()} == WIRE_FORMS


@pytest.mark.parametrize(("t", "bad", "message"), [
    (DATETIME, "tomorrow", "fn: when: expected an ISO 8601 datetime string, got 'tomorrow'"),
    (DATETIME, "2024-02-30T00:00:00", "expected an ISO 8601 datetime string, got '2024-02-30T00:00:00'"),
    (DATE, "31/12/1999", "expected an ISO 8601 date string, got '31/12/1999'"),
    (TIME, "25:00", "expected an ISO 8601 time string, got '25:00'"),
    (DECIMAL, "1,5", "expected a decimal number string, got '1,5'"),
    (UUID, "not-a-uuid", "expected a UUID string, got 'not-a-uuid'"),
    (PATTERN, "(unclosed", "expected a regular expression string, got '(unclosed' (missing ), unterminated"),
    (TIMEDELTA, float("nan"), "expected a duration in seconds, got nan"),
    (TIMEDELTA, 1e300, "expected a duration in seconds, got 1e+300"),
    (DATETIME, 20240229, "expected an ISO 8601 datetime string, got int"),
    (TIMEDELTA, "60", "expected a duration in seconds, got str"),
    (TIMEDELTA, True, "expected a duration in seconds, got bool"),
    (PATH, b"a/b", "expected a path string, got bytes"),
    (PATTERN, re.compile(b"x"), "expected a regular expression string, got Pattern"),
])
def test_a_bad_wire_value_names_the_form(t: TypeRef, bad: Any, message: str) -> None:
    with pytest.raises(mw.BoundaryTypeError) as info:
        arg(t)(bad, "when")
    assert message in str(info.value)
    assert info.value.where == "fn" and info.value.path == "when"


def test_a_long_bad_string_is_clipped() -> None:
    with pytest.raises(mw.BoundaryTypeError) as info:
        arg(DATE)("x" * 5000, "d")
    assert len(str(info.value)) < 120 and "...'" in str(info.value)


@pytest.mark.parametrize(("t", "bad", "message"), [
    (DATETIME, "2024-01-01", "fn: return: expected a datetime, got str"),
    (DATE, 3, "expected a date, got int"),
    (TIME, dt.datetime(2024, 1, 1), "expected a time, got datetime"),
    (TIMEDELTA, 1.5, "expected a timedelta, got float"),
    (DECIMAL, 1.5, "expected a Decimal, got float"),
    (UUID, "12345678-1234-5678-1234-567812345678", "expected a UUID, got str"),
    (PATH, 3, "expected a path, got int"),
    (PATH, None, "expected a path, got NoneType"),
    (PATTERN, re.compile(b"x"), "expected a str pattern, got Pattern"),
])
def test_a_result_of_the_wrong_python_type_is_refused(t: TypeRef, bad: Any, message: str) -> None:
    with pytest.raises(mw.BoundaryTypeError, match=re.escape(message)):
        ret(t)(bad, "return")


def test_a_path_result_may_be_a_plain_string_or_any_path_like() -> None:
    # `str | os.PathLike[str]` maps to the path form: both members are valid results
    assert ret(PATH)("plain/str", "return") == "plain/str"
    assert ret(PATH)(pathlib.PurePosixPath("/p/q"), "return") == "/p/q"
    with pytest.raises(mw.BoundaryTypeError, match="a path has no str form: a bytes path"):
        ret(PATH)(_BytesPath(), "return")


class _BytesPath:
    def __fspath__(self) -> bytes:
        return b"/x"



def test_unknown_wire_forms_fail_when_compiled() -> None:
    with pytest.raises(ValueError, match="not a known wire form"):
        mw.arg({"kind": "str", "py": "datetime:tzinfo"}, where="fn")
    with pytest.raises(ValueError, match="not a known wire form"):
        mw.ret({"kind": "str", "py": "datetime:timedelta"}, where="fn")   # a float form given as str


# -- checked unions ------------------------------------------------------------------------------


def test_union_takes_the_first_member_that_accepts() -> None:
    assert arg(INT_OR_STR)(3, "x") == 3 and arg(INT_OR_STR)("3", "x") == "3"
    assert ret(INT_OR_STR)("a", "return") == "a"
    # Hashable: str, int, float, bool in that order; a bool is neither an int nor a float here
    h = arg(HASHABLE)
    got = [h(v, "x") for v in ("s", 1, 1.5, True)]
    assert got == ["s", 1, 1.5, True] and [type(v) for v in got] == [str, int, float, bool]
    # a member with a wire form: the string that parses is taken by the first member that accepts it
    when = arg(TypeRef("union", (I, DATETIME)))
    assert when(5, "x") == 5
    assert when("2024-01-02T03:04:05", "x") == dt.datetime(2024, 1, 2, 3, 4, 5)
    assert ret(TypeRef("union", (I, DATETIME)))(dt.datetime(2024, 1, 2), "return") == "2024-01-02T00:00:00"
    # order decides when two members accept: str first keeps the string
    assert arg(TypeRef("union", (S, DATE)))("2024-01-02", "x") == "2024-01-02"
    assert arg(TypeRef("union", (DATE, S)))("2024-01-02", "x") == dt.date(2024, 1, 2)


def test_union_mismatch_names_every_member_in_mochi_spelling() -> None:
    with pytest.raises(mw.BoundaryTypeError) as info:
        arg(INT_OR_STR)([1, 2], "x")
    assert str(info.value) == "fn: x: expected one of int | string, got list"
    with pytest.raises(mw.BoundaryTypeError, match=r"fn: return: expected one of int \| string, got float"):
        ret(INT_OR_STR)(1.5, "return")
    with pytest.raises(mw.BoundaryTypeError, match=r"fn: x: expected one of int \| string, got bool"):
        arg(INT_OR_STR)(True, "x")
    rich = TypeRef("union", (TypeRef("list", (I,)), TypeRef("map", (S, F)), DATETIME, TypeRef("record", name="Point")))
    with pytest.raises(mw.BoundaryTypeError,
                       match=r"expected one of list<int> \| map<string, float> \| string \| Point, got float"):
        mw.arg(rich.to_dict(), where="fn", records={"Point": {"origin": "typeddict", "py": "", "fields": []}})(
            2.5, "x")
    # inside a container, the path says where
    with pytest.raises(mw.BoundaryTypeError, match=r"fn: xs\[1\]: expected one of int \| string, got NoneType"):
        arg(TypeRef("list", (INT_OR_STR,)))([1, None], "xs")
    # an optional union: None is fine, anything else goes to the members
    assert arg(TypeRef("option", (INT_OR_STR,)))(None, "x") is None


@pytest.mark.parametrize("t", [
    I, S, B, F, DATETIME, TIMEDELTA, TypeRef("bytes"), TypeRef("any", py="typing:Any"), INT_OR_STR,
    TypeRef("list", (INT_OR_STR,)), TypeRef("set", (S,)), TypeRef("map", (S, TypeRef("option", (I,)))),
    TypeRef("option", (TypeRef("option", (S,)),)), TypeRef("record", name="Point"), TypeRef("enum", name="Mode"),
    TypeRef("callable", (TypeRef("tuple"), I, S)), TypeRef("callable", (B, TypeRef("list", (F,)))),
])
def test_the_runtime_spells_types_as_the_type_table_does(t: TypeRef) -> None:
    assert mw._mochi_spelling(t.to_dict()) == mochi_spelling(t)


# -- generators ------------------------------------------------------------------------------------

WIREFAKE = '''
import dataclasses, datetime, pathlib, re

@dataclasses.dataclass(frozen=True)
class Stamp:
    at: datetime.datetime
    tag: object

def shift(d, by):
    assert isinstance(d, datetime.datetime) and isinstance(by, datetime.timedelta), (d, by)
    return d + by

def pick(x):
    return x * 2

def total(xs):
    return sum(len(x) if isinstance(x, str) else x for x in xs)

def echo_path(p):
    assert isinstance(p, pathlib.Path), p
    return p / "x"

def next_day(d=None):
    return None if d is None else d + datetime.timedelta(days=1)

def anything(x):
    return x

def later(s):
    assert isinstance(s, Stamp), s
    return Stamp(s.at + datetime.timedelta(hours=1), s.tag)

def search(p, text):
    assert isinstance(p, re.Pattern), p
    return p.search(text) is not None
'''

T_ANY = TypeRef("any", py="typing:Any")
T_VAR = TypeRef("any", name="T", py="typing:TypeVar")
T_OBJECT = TypeRef("any", py="builtins:object")
STAMP = TypeRef("record", name="Stamp", py="wirefake:Stamp")


def _p(name: str, t: TypeRef, *, default: bool = False) -> Param:
    return Param(name, name, t, "positional_or_keyword", default)


def wire_surface() -> MappedSurface:
    fns = [
        Function("wf_shift", "wirefake:shift", "function", (_p("d", DATETIME), _p("by", TIMEDELTA)), DATETIME),
        Function("wf_pick", "wirefake:pick", "function", (_p("x", INT_OR_STR),), INT_OR_STR),
        Function("wf_total", "wirefake:total", "function", (_p("xs", TypeRef("list", (INT_OR_STR,))),), I),
        Function("wf_echo_path", "wirefake:echo_path", "function", (_p("p", PATH),), PATH),
        Function("wf_next_day_full", "wirefake:next_day", "function",
                 (_p("d", TypeRef("option", (DATE,)), default=True),), TypeRef("option", (DATE,)), full=True),
        Function("wf_anything", "wirefake:anything", "function", (_p("x", T_ANY),), T_VAR),
        Function("wf_later", "wirefake:later", "function", (_p("s", STAMP),), STAMP),
        Function("wf_search", "wirefake:search", "function", (_p("p", PATTERN), _p("text", S)), B),
    ]
    stamp = Record("Stamp", "wirefake:Stamp", "dataclass",
                   (Field("tag", "tag", T_OBJECT), Field("at", "at", DATETIME)))
    return MappedSurface("wirefake", "1.0", "wf", ("wirefake",), "py.typed", functions=tuple(fns),
                         records=(stamp,))


@pytest.fixture(scope="module")
def wrapper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("wire")
    (root / "site").mkdir()
    (root / "site" / "wirefake.py").write_text(textwrap.dedent(WIREFAKE))
    render_workspace([wire_surface()]).write(root / "ws")
    sys.path[:0] = [str(root / "site"), str(root / "ws")]
    try:
        yield importlib.import_module(externs_module(wire_surface()))
    finally:
        sys.path.remove(str(root / "site"))
        sys.path.remove(str(root / "ws"))
        for name in [m for m in sys.modules if m.startswith(("wirefake", "python_wrap", "_mochi_wrap"))]:
            del sys.modules[name]


def test_generated_wrapper_converts_wire_forms_and_unions(wrapper: Any) -> None:
    assert wrapper.wf_shift("2024-02-28T12:00:00+00:00", 86400.0 + 0.5) == "2024-02-29T12:00:00.500000+00:00"
    assert wrapper.wf_pick(21) == 42 and wrapper.wf_pick("ab") == "abab"
    assert wrapper.wf_total([1, "abc", 2]) == 6
    assert wrapper.wf_echo_path("dir/sub") == "dir/sub/x"
    assert wrapper.wf_next_day_full("2024-02-28") == "2024-02-29"
    assert wrapper.wf_next_day_full(None) is None                    # None = the package's default
    assert wrapper.wf_anything({"k": [1]}) == {"k": [1]}              # widened any: passed through
    assert wrapper.wf_later({"at": "2024-01-01T23:30:00", "tag": ("t", 1)}) == {
        "at": "2024-01-02T00:30:00", "tag": ("t", 1)}
    assert wrapper.wf_search("^a+$", "aaa") is True and wrapper.wf_search("^a+$", "ab") is False


def test_generated_wrapper_refuses_with_the_form_and_the_members(wrapper: Any) -> None:
    wrap = importlib.import_module("_mochi_wrap")
    # a str argument of a wire form is never passed through unconverted
    with pytest.raises(wrap.BoundaryTypeError, match="wf_shift: d: expected an ISO 8601 datetime string, got 'x'"):
        wrapper.wf_shift("x", 1.0)
    with pytest.raises(wrap.BoundaryTypeError, match=r"wf_pick: x: expected one of int \| string, got list"):
        wrapper.wf_pick([1])
    with pytest.raises(wrap.BoundaryTypeError, match=r"wf_total: xs\[0\]: expected one of int \| string, got float"):
        wrapper.wf_total([1.5])
    with pytest.raises(wrap.BoundaryTypeError, match=r"wf_later: s.at: expected an ISO 8601 datetime string"):
        wrapper.wf_later({"at": "soon", "tag": None})


def test_annotations_are_the_wire_scalar_and_any_for_a_union() -> None:
    stub = render_externs_stub(wire_surface())
    assert "def wf_shift(d: str, by: float) -> str: ..." in stub
    assert "def wf_pick(x: _wt_t.Any) -> _wt_t.Any: ..." in stub
    assert "def wf_total(xs: list[_wt_t.Any]) -> int: ..." in stub
    assert "def wf_next_day_full(d: str | None) -> str | None: ..." in stub
    text = render_externs(wire_surface())
    assert "if d.__class__ is str" not in text and "if x.__class__ is str" not in text
    assert "def wf_search(p: str, text: str) -> bool:" in text
    assert "(text if text.__class__ is str else" in text                # a plain str keeps its fast path


def test_the_generator_refuses_a_wire_form_the_runtime_lacks() -> None:
    bad = MappedSurface("x", "1", "x", ("x",), "py.typed", functions=(
        Function("x_f", "x:f", "function", (_p("a", TypeRef("int", py="datetime:date")),), None),))
    with pytest.raises(SurfaceRenderError, match="x_f: int type with py 'datetime:date' is not a known wire form"):
        render_externs(bad)
    lone = MappedSurface("x", "1", "x", ("x",), "py.typed", functions=(
        Function("x_f", "x:f", "function", (_p("a", TypeRef("union", (I,))),), None),))
    with pytest.raises(SurfaceRenderError, match="a union needs two or more members"):
        render_externs(lone)


def test_shim_spells_a_union_any_and_a_wire_form_its_scalar() -> None:
    assert mochi_type(INT_OR_STR) == "any"
    assert mochi_type(TypeRef("option", (INT_OR_STR,))) == "any?"
    assert mochi_type(TypeRef("list", (INT_OR_STR,))) == "list<any>"
    assert mochi_type(DATETIME) == "string" and mochi_type(TIMEDELTA) == "float"
    surface = wire_surface()
    for dialect in ("0.10", "mep-71"):
        shim = render_shim(surface, dialect, module=externs_module(surface))
        check_shim(shim, dialect=dialect)
        assert "// WIDENED 6 types (any or a checked union), see WIDENED.txt" in shim
    shim = render_shim(surface, "0.10", module=externs_module(surface))
    assert "extern fun wf.wf_shift(d: string, by: float): string" in shim
    assert "extern fun wf.wf_pick(x: any): any" in shim
    assert "extern fun wf.wf_next_day_full(d: string?): string?" in shim
    assert "  at: string," in shim


def test_wit_plan_keeps_wire_forms_and_skips_unions() -> None:
    plan = plan_surface(wire_surface())
    assert {"wf_shift", "wf_echo_path", "wf_next_day_full", "wf_search"} <= set(plan.exported)
    shift = next(fn for _, fn in plan.functions() if fn.extern_name == "wf_shift")
    assert shift.result == DATETIME and [p.type for p in shift.params] == [DATETIME, TIMEDELTA]
    skipped = {s.detail: s.reason for s in plan.skips}
    # a whole union parameter crosses as its `string` member; the union result has no WIT form
    assert skipped["wf_pick: return: checked union int | string has no WIT form yet"] \
        is SkipReason.SkipTargetUnrepresentable
    assert skipped["wf_total: parameter xs: checked union int | string has no WIT form yet"] \
        is SkipReason.SkipTargetUnrepresentable
    assert {"wf_anything", "wf_later"} <= set(plan.exported)          # `any` (its record's `tag: object`): dyn-value


def test_widened_items_and_widened_txt() -> None:
    surface = wire_surface()
    items = widened_items(surface)
    assert [w.tsv_line() for w in items] == [
        "Stamp\twirefake.Stamp\tfield tag\tdeclared object",
        "wf_anything\twirefake.anything\tparam x\tdeclared Any",
        "wf_anything\twirefake.anything\treturn\tunbounded TypeVar T",
        "wf_pick\twirefake.pick\tparam x\tchecked union int | string",
        "wf_pick\twirefake.pick\treturn\tchecked union int | string",
        "wf_total\twirefake.total\tparam xs\tchecked union int | string",
    ]
    assert items[0].to_dict() == {"extern": "Stamp", "path": "wirefake.Stamp", "where": "field tag",
                                  "why": "declared object"}
    files = surface_files(surface)
    lines = files["WIDENED.txt"].splitlines()
    assert lines[0] == "# wasmtool WIDENED wirefake 1.0 tier=py.typed"
    assert lines[1:] == [w.tsv_line() for w in items]
    assert surface_files(surface) == files                                         # deterministic
    # an opted-in bare `any` (allow-partial / allow-any) and wire forms are not widening
    plain = MappedSurface("p", "1", "p", ("p",), "partial", functions=(
        Function("p_f", "p:f", "function", (_p("a", TypeRef("any")), _p("d", DATETIME)), TypeRef("any")),))
    assert widened_items(plain) == ()
    assert surface_files(plain)["WIDENED.txt"] == "# wasmtool WIDENED p 1 tier=partial\n"
    assert "WIDENED" not in surface_files(plain)["p_shim.mochi"]


def test_widened_txt_is_a_recorded_workspace_file(tmp_path: Path) -> None:
    ws = render_workspace([wire_surface()])
    assert "python_wrap/wf/WIDENED.txt" in ws.files
    ws.write(tmp_path)
    record = (tmp_path / ".wasmtool-files.json").read_text()
    assert "python_wrap/wf/WIDENED.txt" in record
    # unbinding the alias prunes it with the other generated files
    render_workspace([]).write(tmp_path)
    assert not (tmp_path / "python_wrap" / "wf").exists()
