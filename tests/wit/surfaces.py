"""Hand-built mapped surfaces for the WIT tests (synth's wrapper is not needed for these)."""

from __future__ import annotations

from pathlib import Path

from wasmtool.skips import SkipReason, SkipReport
from wasmtool.typemap.surface import (
    EnumDecl,
    Field,
    Function,
    Handle,
    MappedSurface,
    Param,
    ParamKind,
    Record,
    TypeRef,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TOMLI_EXTERNS_DIR = FIXTURES / "tomli_ext"

S = TypeRef("str")
I = TypeRef("int")  # noqa: E741
F = TypeRef("float")
B = TypeRef("bool")


def lst(t: TypeRef) -> TypeRef:
    return TypeRef("list", (t,))


def opt(t: TypeRef) -> TypeRef:
    return TypeRef("option", (t,))


def fn(extern: str, target: str, params: list[tuple[str, TypeRef] | tuple[str, TypeRef, ParamKind]],
       returns: TypeRef | None, **kw: object) -> Function:
    ps = []
    for p in params:
        kind: ParamKind = p[2] if len(p) == 3 else "positional_or_keyword"  # type: ignore[misc]
        ps.append(Param(p[0], p[0], p[1], kind))
    return Function(extern, target, "function", tuple(ps), returns, **kw)  # type: ignore[arg-type]


KIND = TypeRef("enum", name="ValueKind", py="tomli_externs:ValueKind", value_kind="string")
SIZE = TypeRef("tuple", (I, I), name="Tup_int_int")
SUMMARY = TypeRef("record", name="Summary", py="tomli_externs:Summary")


def tomli_surface() -> MappedSurface:
    """The functions of tests/wit/fixtures/tomli_ext/tomli_externs.py."""
    return MappedSurface(
        dist="tomli", version="2.5.0", alias="tomli", import_names=("tomli",), tier="inline",
        functions=(
            fn("tomli_loads_json", "tomli:loads", [("s", S)], S, doc="Parse TOML; the document as JSON."),
            fn("tomli_keys", "tomli:loads", [("s", S)], lst(S)),
            fn("tomli_has_key", "tomli:loads", [("s", S), ("key", S)], B),
            fn("tomli_get_int", "tomli:loads", [("s", S), ("key", S)], opt(I)),
            fn("tomli_get_int_full", "tomli:loads", [("s", S), ("key", S), ("default", opt(I), "keyword_only")],
               opt(I), full=True),
            fn("tomli_kind_of", "tomli:loads", [("s", S), ("key", S)], KIND),
            fn("tomli_summary", "tomli:loads", [("s", S)], SUMMARY),
            fn("tomli_describe", "tomli:loads", [("summary", SUMMARY)], S),
            fn("tomli_count_kinds", "tomli:loads", [("kinds", lst(KIND))], TypeRef("map", (KIND, I))),
            fn("tomli_loads_bytes", "tomli:loads", [("data", TypeRef("bytes"))], TypeRef("bytes")),
            fn("tomli_scale", "tomli:loads", [("x", F), ("factor", F)], F),
            fn("tomli_pair", "tomli:loads", [("s", S), ("key", S)], TypeRef("tuple", (S, I), name="Tup_string_int")),
            fn("tomli_fail", "tomli:loads", [("kind", S)], S),
            fn("tomli_spin", "tomli:loads", [], I),
            fn("tomli_parse_float", "tomli._parser:loads", [("s", S)], F),
            # a handle: a WIT resource, borrowed as a whole parameter
            fn("tomli_Parser_new", "tomli:Parser", [("prefix", S)], TypeRef("handle", name="Parser")),
            fn("tomli_Parser_keys", "tomli:Parser.keys", [("self", TypeRef("handle", name="Parser")), ("s", S)],
               lst(S)),
            fn("tomli_Parser_pair", "tomli:Parser.pair", [("self", TypeRef("handle", name="Parser"))],
               lst(TypeRef("handle", name="Parser"))),
            # not exportable on wasi-p2
            fn("tomli_on_key", "tomli:loads", [("cb", TypeRef("callable", (B, S)))], None),
            fn("tomli_Parser_count", "tomli:Parser.count", [("parsers", lst(TypeRef("handle", name="Parser")))], I),
        ),
        records=(
            Record("Summary", "tomli_externs:Summary", "typeddict", (
                Field("keys", "keys", lst(S)),
                Field("tables", "tables", I),
                Field("first_key", "first_key", opt(S)),
                Field("kinds", "kinds", TypeRef("map", (S, KIND))),
                Field("size", "size", SIZE),
                Field("title", "title", S, required=False),
            )),
        ),
        enums=(
            EnumDecl("ValueKind", "tomli_externs:ValueKind", "string", (
                ("BOOLEAN", "boolean"), ("INTEGER", "integer"), ("FLOAT", "float"), ("STRING", "string"),
                ("TABLE", "table"), ("ARRAY", "array"), ("OTHER", "other"),
            )),
        ),
        handles=(Handle("Parser", "tomli:Parser"),),
        skips=(SkipReport("tomli.TOMLDecodeError", SkipReason.SkipDunder, "example"),),
    )


def synthetic_surface() -> MappedSurface:
    """Covers records, enums (string and int), options, lists, sets, maps, tuples, bytes, keywords,
    collisions, a recursive record, handles and callables."""
    color = TypeRef("enum", name="Color", value_kind="string")
    level = TypeRef("enum", name="Level", value_kind="int")
    point = TypeRef("record", name="Point")
    node = TypeRef("record", name="Node")
    return MappedSurface(
        dist="Demo_Pkg", version="1.0rc1", alias="demo", import_names=("demo",), tier="inline",
        functions=(
            fn("demo_type", "demo:type", [("from", S), ("self", I)], point),
            fn("demo_f", "demo.sub:f", [("p", opt(opt(S)))], TypeRef("map", (S, lst(I)))),
            fn("demo_g", "demo.sub:g", [("b", TypeRef("bytes")), ("t", TypeRef("tuple", (I, S), name="T"))], None),
            fn("demo_sets", "demo.sub:sets", [("s", TypeRef("set", (F,)))], TypeRef("set", (color,))),
            fn("demo_levels", "demo:levels", [("lv", level), ("c", opt(color))], lst(opt(point))),
            fn("demo_import", "demo._impl:import", [("class", B)], TypeRef("bytes")),
            # collide after kebab-casing: get-value / getValue / get_value
            fn("demo_get_value", "demo:get_value", [], I),
            fn("demo_getValue", "demo:getValue", [], I),
            fn("demo_get__value", "demo:get__value", [], I),
            fn("demo_cb", "demo:cb", [("cb", TypeRef("callable", (I, I)))], I),
            fn("demo_ret_cb", "demo:ret_cb", [], TypeRef("callable", (I,))),
            fn("demo_handle", "demo:h", [("x", TypeRef("handle", name="Client"))], None),
            fn("demo_client", "demo:client", [("name", S)], TypeRef("handle", name="Client")),
            fn("demo_handles", "demo:hs", [("xs", opt(TypeRef("handle", name="Client")))], None),
            fn("demo_tree", "demo:tree", [("n", node)], I),
            fn("demo_any", "demo:any", [("x", TypeRef("any"))], I),
        ),
        records=(
            Record("Point", "demo:Point", "dataclass", (
                Field("x", "x", I), Field("y_val", "y_val", F, False), Field("type", "type_", color),
                Field("list", "list_", lst(TypeRef("tuple", (S, opt(I)), name="T2")))),
            ),
            Record("Node", "demo:Node", "dataclass", (Field("child", "child", opt(node)),)),
        ),
        enums=(
            EnumDecl("Color", "demo:Color", "string", (("RED", "red"), ("GREEN_BLUE", "gb"), ("type", "t"))),
            EnumDecl("Level", "demo:Level", "int", (("LOW", 1), ("HIGH", 2))),
        ),
        handles=(Handle("Client", "demo:Client"),),
    )
