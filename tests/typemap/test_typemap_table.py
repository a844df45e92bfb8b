"""Tests for the closed type table (typemap.md §1-§3) and the annotation AST.

Every row of typemap.md §1-§3 has at least one case below; acceptance tests 23-28 are
spelled out. Types are rendered to Mochi text with a tiny local renderer (the real shim
renderer lives elsewhere) so expectations read like the spec; it also shows what Mochi
does not see: a widened ``any`` as ``any[<py>]`` (``any[typing:TypeVar T]``), a wire form
as ``string[<py>]``, a checked union as ``A | B``. The rules that widen (declared ``Any``,
unbounded TypeVars, ``object``, unions) are covered in depth in test_wire_rules.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest

from wasmtool.skips import SkipReason, SkipReport
from wasmtool.typemap.annotation import (
    Const,
    Ellipsis_,
    ListExpr,
    Name,
    Starred,
    Str,
    Subscript,
    TupleExpr,
    Union,
    Unsupported,
    normalise,
    parse_annotation,
    render,
)
from wasmtool.typemap.errors import TypemapSettingError
from wasmtool.typemap.surface import TypeRef
from wasmtool.typemap.table import (
    UNIT,
    LowerContext,
    LoweredReturn,
    Resolved,
    ResolvedAlias,
    ResolvedSkip,
    ResolvedTypeVar,
    field_qualifiers,
    lower_annotation,
    lower_return,
    parse_monomorphise,
)


def mochi(t: TypeRef | None) -> str:
    """Mochi type text of ``t`` (test-local renderer, mochi-grammar.md §5)."""
    if t is None:
        return ""
    simple = {"int": "int", "float": "float", "bool": "bool", "str": "string", "bytes": "list<int>",
              "any": "any"}
    if t.kind in simple:
        tag = " ".join(x for x in (t.py, t.name) if x)
        return f"{simple[t.kind]}[{tag}]" if tag else simple[t.kind]
    if t.kind == "union":
        return " | ".join(mochi(a) for a in t.args)
    if t.kind in ("list", "set"):
        return f"{t.kind}<{mochi(t.args[0])}>"
    if t.kind == "map":
        return f"map<{mochi(t.args[0])}, {mochi(t.args[1])}>"
    if t.kind == "option":
        inner = mochi(t.args[0])
        return f"({inner})?" if t.args[0].kind == "union" else inner + "?"
    if t.kind == "callable":
        ret, *params = t.args
        head = f"fun({', '.join(mochi(p) for p in params)})"
        return head if ret == UNIT else f"{head}: {mochi(ret)}"
    if t.kind == "enum":
        return "string" if t.value_kind == "string" else "int"
    return t.name


@dataclass
class FakeResolver:
    """A package scope: classes, aliases and TypeVars by name, plus typing aliases."""

    names: dict[str, Resolved] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    def resolve(self, module: str, parts: tuple[str, ...]) -> Resolved | None:
        full = self.names.get(".".join(parts))
        if full is not None:
            return full
        head = self.names.get(parts[0])
        return head if isinstance(head, ResolvedTypeVar) else None  # P.args

    def typing_aliases(self, module: str) -> Mapping[str, str]:
        return self.aliases


RESPONSE = TypeRef("handle", name="Response", py="pkg:Response")
USER = TypeRef("record", name="User", py="pkg:User")
COLOR = TypeRef("enum", name="Color", py="pkg:Color", value_kind="string")

RESOLVER = FakeResolver(
    names={
        "Response": RESPONSE,
        "User": USER,
        "Color": COLOR,
        "models.User": USER,
        "T": ResolvedTypeVar("T"),
        "P": ResolvedTypeVar("P", "ParamSpec"),
        "Ts": ResolvedTypeVar("Ts", "TypeVarTuple"),
        "Headers": ResolvedAlias("pkg", "dict[str, str]", key="pkg.Headers"),
        "Pair": ResolvedAlias("pkg", "tuple[K, K]", ("K",), "pkg.Pair", True),
        "Json": ResolvedAlias("pkg", "dict[str, 'Json']", key="pkg.Json"),
        "Wide": ResolvedAlias("pkg", "int | complex", key="pkg.Wide"),
        "HTTPError": ResolvedSkip(SkipReason.SkipUnsupportedTypingConstruct, "exception class"),
        "datetime": ResolvedSkip(SkipReason.SkipForwardRef, "`datetime.datetime` is outside"),
    },
    aliases={"t": "typing", "te": "typing_extensions", "cabc": "collections.abc", "Opt": "typing.Optional"},
)


def ctx(**kw: object) -> LowerContext:
    base: dict[str, object] = {"path": "pkg.f", "module": "pkg", "resolver": RESOLVER}
    base.update(kw)
    return LowerContext(**base)  # type: ignore[arg-type]


def lowered(ann: str, **kw: object) -> str:
    """Mochi text, or ``skip:<token>``."""
    r = lower_annotation(ann, ctx(**kw))
    if isinstance(r, SkipReport):
        assert r.path == "pkg.f"
        assert r.detail == ann
        assert r.hint
        return f"skip:{r.reason.token}"
    return mochi(r)


# -- §1 scalars ------------------------------------------------------------------------------

SCALAR_ROWS = [
    ("int", "int"),
    ("float", "float"),
    ("bool", "bool"),
    ("str", "string"),
    ("builtins.str", "string"),
    ("bytes", "list<int>"),
    ("bytearray", "list<int>"),
    ("None", "skip:SkipUnsupportedTypingConstruct"),
    ("NoneType", "skip:SkipUnsupportedTypingConstruct"),
    ("complex", "skip:SkipNoComplexType"),
    # rule change (widened any): on a complete tier a declared `object` / `Any` is a tagged any
    ("object", "any[builtins:object]"),
    ("Any", "any[typing:Any]"),
    ("t.Any", "any[typing:Any]"),
    ("Never", "skip:SkipUnsupportedTypingConstruct"),  # only as a return
    ("Literal['a', 'b']", "string"),
    ("Literal[1, -2]", "int"),
    ("Literal[True, False]", "bool"),
    # rule change (checked unions): a Literal of mixed kinds is the union of its kinds
    ("Literal['a', 1]", "string | int"),
    ("Literal[True, 1]", "bool | int"),
    ("Literal[b'x']", "skip:SkipUnsupportedTypingConstruct"),
    ("Literal['a', None]", "string?"),
    ("Literal['a'] | Literal['b']", "string"),
    ("te.Literal['x']", "string"),
    ("Literal[Color.RED]", "string"),
]

# -- §2 containers ---------------------------------------------------------------------------

CONTAINER_ROWS = [
    ("list[int]", "list<int>"),
    ("List[str]", "list<string>"),
    ("Sequence[float]", "list<float>"),
    ("MutableSequence[bool]", "list<bool>"),
    ("cabc.Sequence[int]", "list<int>"),
    ("collections.abc.Sequence[int]", "list<int>"),
    ("tuple[int, ...]", "list<int>"),
    ("Tuple[str, ...]", "list<string>"),
    ("tuple[int, str]", "Tup_int_string"),
    ("tuple[int, list[str], Response]", "Tup_int_list_string_Response"),
    ("tuple[()]", "skip:SkipUnsupportedTypingConstruct"),  # only as "no value" return
    ("tuple[int, ...,]", "list<int>"),
    ("tuple[..., int]", "skip:SkipUnsupportedTypingConstruct"),
    ("dict[str, int]", "map<string, int>"),
    ("Dict[int, str]", "map<int, string>"),
    ("Mapping[str, float]", "map<string, float>"),
    ("MutableMapping[str, bytes]", "map<string, list<int>>"),
    ("dict[Literal['a', 'b'], int]", "map<string, int>"),
    ("dict[float, int]", "skip:SkipUnsupportedTypingConstruct"),
    ("dict[bool, int]", "skip:SkipUnsupportedTypingConstruct"),
    ("dict[tuple[int, int], int]", "skip:SkipUnsupportedTypingConstruct"),
    ("dict[Optional[str], int]", "skip:SkipUnsupportedTypingConstruct"),
    ("set[int]", "set<int>"),
    ("frozenset[str]", "set<string>"),
    ("AbstractSet[int]", "set<int>"),
    ("Set[int]", "set<int>"),
    ("FrozenSet[int]", "set<int>"),
    ("Iterator[int]", "list<int>"),
    ("Iterable[str]", "list<string>"),
    ("Generator[int, None, None]", "list<int>"),
    ("Generator[int]", "list<int>"),
    ("Generator[int, str, None]", "skip:SkipUnsupportedTypingConstruct"),
    ("Generator[int, None, str]", "skip:SkipUnsupportedTypingConstruct"),
    ("AsyncIterator[int]", "list<int>"),
    ("AsyncIterable[bytes]", "list<list<int>>"),
    ("AsyncGenerator[int, None]", "skip:SkipUnsupportedTypingConstruct"),
    ("Optional[int]", "int?"),
    ("int | None", "int?"),
    ("None | int", "int?"),
    ("Union[int, None]", "int?"),
    ("Opt[str]", "string?"),
    ("Optional[Optional[int]]", "int?"),
    ("Optional[int | None]", "int?"),
    ("list[Optional[int]] | None", "list<int?>?"),
    ("List", "skip:SkipUnsupportedTypingConstruct"),
    ("Optional", "skip:SkipUnsupportedTypingConstruct"),
    ("dict", "skip:SkipUnsupportedTypingConstruct"),
    ("Dict[str]", "skip:SkipUnsupportedTypingConstruct"),
    ("Deque[int]", "skip:SkipUnsupportedTypingConstruct"),
]

# -- §3 unions, callables, async, special forms ------------------------------------------------

SPECIAL_ROWS = [
    # rule change (checked unions; widened any): see test_wire_rules.py for the policy "skip" results
    ("int | str", "int | string"),
    ("Union[int, str]", "int | string"),
    ("int | str | None", "(int | string)?"),
    ("int | Any", "any[typing:Any]"),
    ("Optional[Any]", "any[typing:Any]"),
    ("int | int", "int"),
    ("str | Literal['a']", "string"),
    ("Callable[[int, str], bool]", "fun(int, string): bool"),
    ("Callable[[], int]", "fun(): int"),
    ("Callable[[int], None]", "fun(int)"),
    ("Callable[..., int]", "skip:SkipParamSpec"),
    ("Callable[P, int]", "skip:SkipParamSpec"),
    ("Callable[Concatenate[int, P], int]", "skip:SkipParamSpec"),
    ("Callable[[complex], int]", "skip:SkipNoComplexType"),
    ("Callable", "skip:SkipUnsupportedTypingConstruct"),
    ("Unpack[Ts]", "skip:SkipTypeVarTuple"),
    ("*Ts", "skip:SkipTypeVarTuple"),
    ("tuple[*Ts]", "skip:SkipTypeVarTuple"),
    ("Ts", "skip:SkipTypeVarTuple"),
    ("P", "skip:SkipParamSpec"),
    ("Awaitable[int]", "skip:SkipUnsupportedTypingConstruct"),  # only as a return
    ("Type[int]", "string[builtins:type builtins:int]"),
    ("type[Response]", "string[builtins:type pkg:Response]"),
    ("Final[int]", "int"),
    ("ClassVar[list[int]]", "list<int>"),
    ("Annotated[int, 'meta', 3]", "int"),
    ("Required[str]", "string"),
    ("NotRequired[str]", "string"),
    ("ReadOnly[float]", "float"),
    ("Final", "skip:SkipUnsupportedTypingConstruct"),
    # rule change (TypeVars): unbounded -> widened any; AnyStr -> its constraints' union
    ("T", "any[typing:TypeVar T]"),
    ("list[T]", "list<any[typing:TypeVar T]>"),
    ("AnyStr", "string | list<int>"),
    ("Self", "skip:SkipUnsupportedTypingConstruct"),  # outside a class
    ("'int'", "int"),
    ("'Response'", "Response"),
    ("list['Response']", "list<Response>"),
    ("Optional['User']", "User?"),
    ("'Missing'", "skip:SkipForwardRef"),
    ("Missing", "skip:SkipForwardRef"),
    ("np.ndarray", "skip:SkipForwardRef"),
    ("'not valid ]'", "skip:SkipForwardRef"),
    ("datetime", "skip:SkipForwardRef"),
    ("HTTPError", "skip:SkipUnsupportedTypingConstruct"),
    ("models.User", "User"),
    ("Response[int]", "Response"),
    ("Headers", "map<string, string>"),
    ("Pair[int]", "Tup_int_int"),
    ("Json", "skip:SkipUnsupportedTypingConstruct"),  # recursive alias
    ("Wide", "skip:SkipNoComplexType"),
    ("cast(int, x)", "skip:SkipUnsupportedTypingConstruct"),
    ("IO[str]", "skip:SkipUnsupportedTypingConstruct"),
    ("LiteralString", "skip:SkipUnsupportedTypingConstruct"),
    ("3", "skip:SkipUnsupportedTypingConstruct"),
    ("...", "skip:SkipUnsupportedTypingConstruct"),
]


@pytest.mark.parametrize(("ann", "expected"), SCALAR_ROWS + CONTAINER_ROWS + SPECIAL_ROWS)
def test_table_row(ann: str, expected: str) -> None:
    assert lowered(ann) == expected


# -- rows that depend on the context -----------------------------------------------------------


@pytest.mark.parametrize(("tier", "allow_partial", "policy", "expected", "union"), [
    ("py.typed-partial", True, "map", "any", "skip:SkipOpenUnion"),
    ("stubgen", True, "map", "any", "skip:SkipOpenUnion"),
    ("stubgen", False, "map", "skip:SkipUnsupportedTypingConstruct", "skip:SkipOpenUnion"),
    ("py.typed-partial", False, "map", "skip:SkipUnsupportedTypingConstruct", "skip:SkipOpenUnion"),
    # rule change (widened any): a complete tier maps a declared Any, tagged, whatever allow-partial says
    ("py.typed", True, "map", "any[typing:Any]", "any[typing:Any]"),
    ("stubs-package", True, "map", "any[typing:Any]", "any[typing:Any]"),
    ("typeshed", False, "map", "any[typing:Any]", "any[typing:Any]"),
    # ... and `[python] any = "skip"` keeps the table as it was
    ("py.typed", True, "skip", "skip:SkipUnsupportedTypingConstruct", "skip:SkipOpenUnion"),
    ("stubs-package", False, "skip", "skip:SkipUnsupportedTypingConstruct", "skip:SkipOpenUnion"),
    ("stubgen", True, "skip", "any", "skip:SkipOpenUnion"),
])
def test_any_by_tier_policy_and_allow_partial(tier: str, allow_partial: bool, policy: str, expected: str,
                                              union: str) -> None:
    kw: dict[str, object] = {"tier": tier, "allow_partial": allow_partial, "any_policy": policy}
    assert lowered("Any", **kw) == expected
    assert lowered("list[Any]", **kw) == (expected if expected.startswith("skip:") else f"list<{expected}>")
    # a union with an Any branch is an open union on partial tiers even with allow-partial
    assert lowered("int | Any", **kw) == union


@pytest.mark.parametrize(("target", "expected"), [
    ("native", "fun(int): string"),
    ("pyodide", "fun(int): string"),
    ("wasi-p2", "skip:SkipTargetUnrepresentable"),
    ("subprocess", "skip:SkipTargetUnrepresentable"),
])
def test_callables_are_embedded_only(target: str, expected: str) -> None:
    assert lowered("Callable[[int], str]", target=target) == expected
    assert lowered("Callable[..., str]", target=target) == "skip:SkipParamSpec"


def test_object_is_plain_any_for_protocol_parameters_and_widened_elsewhere() -> None:
    assert lowered("object", in_protocol=True, position="param") == "any"
    assert lowered("object", in_protocol=True, position="param", any_policy="skip") == "any"
    # rule change (widened any): elsewhere on a complete tier `object` is a tagged any
    assert lowered("object", in_protocol=True, position="return") == "any[builtins:object]"
    assert lowered("object", in_protocol=False, position="param") == "any[builtins:object]"
    for kw in ({"any_policy": "skip"}, {"tier": "stubgen", "allow_partial": True}):
        assert lowered("object", in_protocol=True, position="return", **kw) == "skip:SkipUnsupportedTypingConstruct"
        assert lowered("object", position="param", **kw) == "skip:SkipUnsupportedTypingConstruct"


def test_self_is_the_enclosing_class() -> None:
    assert lowered("Self", self_type=RESPONSE) == "Response"
    assert lowered("list[Self] | None", self_type=RESPONSE) == "list<Response>?"


@pytest.mark.parametrize(("settings", "expected", "skip_policy"), [
    ({"T": "int"}, "list<int>", "list<int>"),
    ({"pkg.f.T": "str", "T": "int"}, "list<string>", "list<string>"),  # item-specific wins
    # rule change (TypeVars): an unbounded TypeVar without a setting is widened (policy "map")
    ({"pkg.g.T": "str"}, "list<any[typing:TypeVar T]>", "skip:SkipUnsupportedTypingConstruct"),
    ({"T": "complex"}, "skip:SkipNoComplexType", "skip:SkipNoComplexType"),
    ({"T": "T"}, "skip:SkipUnsupportedTypingConstruct", "skip:SkipUnsupportedTypingConstruct"),
    ({}, "list<any[typing:TypeVar T]>", "skip:SkipUnsupportedTypingConstruct"),
])
def test_typevars_monomorphise(settings: dict[str, str], expected: str, skip_policy: str) -> None:
    assert lowered("list[T]", monomorphise=parse_monomorphise(settings)) == expected
    assert lowered("list[T]", monomorphise=parse_monomorphise(settings), any_policy="skip") == skip_policy


def test_pep695_type_params_in_scope() -> None:
    # rule change (TypeVars): unbounded -> widened (policy "map"), skipped (policy "skip")
    assert lowered("list[U]", type_params=(("U", "TypeVar"),)) == "list<any[typing:TypeVar U]>"
    assert lowered("list[U]", type_params=(("U", "TypeVar"),),
                   any_policy="skip") == "skip:SkipUnsupportedTypingConstruct"
    assert lowered("list[U]", type_params=(("U", "TypeVar"),), type_param_bounds=(("U", "int"),)) == "list<int>"
    assert lowered("list[U]", type_params=(("U", "TypeVar"),),
                   monomorphise=(("U", "float"),)) == "list<float>"
    assert lowered("Callable[Q, int]", type_params=(("Q", "ParamSpec"),)) == "skip:SkipParamSpec"


def test_parse_monomorphise_forms_and_errors() -> None:
    assert parse_monomorphise(["T=int", ("S", "str")]) == (("S", "str"), ("T", "int"))
    assert parse_monomorphise({"T": " list[int] "}) == (("T", "list[int]"),)
    with pytest.raises(TypemapSettingError):
        parse_monomorphise(["T"])
    with pytest.raises(TypemapSettingError):
        parse_monomorphise(["=int"])


# -- returns ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("ann", "expected", "awaitable"), [
    ("None", "", False),
    ("NoReturn", "", False),
    ("Never", "", False),
    ("tuple[()]", "", False),
    ("int", "int", False),
    ("Awaitable[int]", "int", True),
    ("Coroutine[Any, Any, bytes]", "list<int>", True),
    ("Coroutine[Any, Any, None]", "", True),
    ("'Awaitable[str]'", "string", True),
    ("Iterator[int]", "list<int>", False),
])
def test_lower_return(ann: str, expected: str, awaitable: bool) -> None:
    r = lower_return(ann, ctx())
    assert isinstance(r, LoweredReturn)
    assert (mochi(r.type), r.awaitable) == (expected, awaitable)


@pytest.mark.parametrize(("ann", "token"), [
    ("complex", "SkipNoComplexType"),   # (a missing annotation is `any` on a complete source now)
    ("Awaitable[complex]", "SkipNoComplexType"),
    ("int | Missing", "SkipForwardRef"),  # (`int | str` is a checked union now)
    ("Awaitable[Awaitable[int]]", "SkipUnsupportedTypingConstruct"),
])
def test_lower_return_skips(ann: str | None, token: str) -> None:
    r = lower_return(ann, ctx())
    assert isinstance(r, SkipReport)
    assert r.reason.token == token
    assert r.path == "pkg.f"


@pytest.mark.parametrize(("ann", "expected"), [
    ("int", set()),
    ("NotRequired[int]", {"NotRequired"}),
    ("Required[ReadOnly[int]]", {"Required", "ReadOnly"}),
    ("ClassVar[Final[int]]", {"ClassVar", "Final"}),
    ("te.NotRequired[Annotated[int, 1]]", {"NotRequired", "Annotated"}),
    ("'NotRequired[int]'", {"NotRequired"}),
])
def test_field_qualifiers(ann: str, expected: set[str]) -> None:
    assert field_qualifiers(ann, ctx()) == expected


# -- acceptance tests 23-28 ------------------------------------------------------------------


def test_acceptance_23_optional_spellings() -> None:
    for ann in ("Optional[int]", "int | None", "None | int"):
        assert lowered(ann) == "int?"


def test_acceptance_24_map_keys() -> None:
    assert lowered("dict[float, int]").startswith("skip:")
    assert lowered("dict[bool, int]").startswith("skip:")
    assert lowered("dict[str, list[int]]") == "map<string, list<int>>"
    assert lowered("Dict[str, List[Optional[int]]]") == "map<string, list<int?>>"


def test_acceptance_25_tuples() -> None:
    assert lowered("tuple[int, ...]") == "list<int>"
    r = lower_annotation("tuple[int, str]", ctx())
    assert isinstance(r, TypeRef)
    assert r.kind == "tuple"
    assert r.name == "Tup_int_string"
    assert [mochi(a) for a in r.args] == ["int", "string"]  # fields t0, t1 (see test_typemap_map)


def test_acceptance_26_callables() -> None:
    assert lowered("Callable[..., int]") == "skip:SkipParamSpec"
    assert lowered("Callable[[int], str]") == "fun(int): string"


@pytest.mark.parametrize("ann", [
    "complex", "list[complex]", "dict[str, complex]", "Optional[complex]", "int | complex",
    "Callable[[int], complex]", "'complex'", "tuple[int, 'complex']", "Any | complex",
])
def test_acceptance_27_complex_anywhere(ann: str) -> None:
    assert lowered(ann) == "skip:SkipNoComplexType"


def test_acceptance_28_literals() -> None:
    assert lowered("Literal['a', 'b']") == "string"
    # rule change (checked unions): mixed kinds were skipped, they are the union of the kinds now
    assert lowered("Literal['a', 1]") == "string | int"
    assert lowered("Literal['a', 1, None]") == "(string | int)?"
    assert lowered("Literal[b'x', 1]").startswith("skip:")


# -- annotation AST --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "node"), [
    ("int", Name(("int",))),
    ("a.b.C", Name(("a", "b", "C"))),
    ("list[int]", Subscript(Name(("list",)), (Name(("int",)),))),
    ("dict[str, int]", Subscript(Name(("dict",)), (Name(("str",)), Name(("int",))))),
    ("int | None", Union((Name(("int",)), Const(None)))),
    ("a | b | c", Union((Name(("a",)), Name(("b",)), Name(("c",))))),
    ("(int)", Name(("int",))),
    ("tuple[()]", Subscript(Name(("tuple",)), (TupleExpr(()),))),
    ("tuple[int, ...]", Subscript(Name(("tuple",)), (Name(("int",)), Ellipsis_()))),
    ("Callable[[int], str]", Subscript(Name(("Callable",)), (ListExpr((Name(("int",)),)), Name(("str",))))),
    ("'Foo'", Str("Foo")),
    ("Literal[-1, True, b'x']", Subscript(Name(("Literal",)), (Const(-1), Const(True), Const(b"x")))),
    ("*Ts", Starred(Name(("Ts",)))),
    ("f(x)", Unsupported("f(x)")),
    ("list[", Unsupported("list[")),
    ("", Unsupported("")),
])
def test_parse_annotation(text: str, node: object) -> None:
    assert parse_annotation(text) == node


@pytest.mark.parametrize(("text", "aliases", "expected"), [
    ("typing.Optional[int]", {}, "Optional[int]"),
    ("typing_extensions.Literal['a']", {}, "Literal['a']"),
    ("collections.abc.Sequence[builtins.int]", {}, "Sequence[int]"),
    ("t.Optional[t.List[int]]", {"t": "typing"}, "Optional[List[int]]"),
    ("O[int]", {"O": "typing.Optional"}, "Optional[int]"),
    ("abc.Iterable[int]", {"abc": "collections.abc"}, "Iterable[int]"),
    ("pkg.typing.Foo", {}, "pkg.typing.Foo"),
    ("types.NoneType", {}, "NoneType"),
])
def test_normalise_strips_prefixes_and_aliases(text: str, aliases: dict[str, str], expected: str) -> None:
    node = normalise(parse_annotation(text), aliases)
    assert render(node) == expected


def test_normalised_typing_names_are_never_package_classes() -> None:
    # `typing.List` must hit the table even if the package had a class named List
    resolver = FakeResolver(names={"List": RESPONSE})
    typed = lower_annotation("typing.List[int]", LowerContext(resolver=resolver))
    bare = lower_annotation("List", LowerContext(resolver=resolver))
    assert isinstance(typed, TypeRef)
    assert isinstance(bare, TypeRef)
    assert (mochi(typed), mochi(bare)) == ("list<int>", "Response")


def test_deep_nesting_is_a_skip_not_a_crash() -> None:
    ann = "list[" * 200 + "int" + "]" * 200
    r = lower_annotation(ann, ctx())
    assert isinstance(r, SkipReport)
    assert r.reason == SkipReason.SkipUnsupportedTypingConstruct
