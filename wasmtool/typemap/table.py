"""The closed type table (typemap.md §1-§3): one annotation -> a TypeRef or one SkipReport.

Pure functions. :func:`lower_annotation` takes annotation text (or a parsed
:mod:`~wasmtool.typemap.annotation` node) and a :class:`LowerContext`, and returns either
a :class:`~wasmtool.typemap.surface.TypeRef` or exactly one
:class:`~wasmtool.skips.SkipReport` (path = ``ctx.path``, detail = the annotation text,
hint = what failed). Names that are not table constructs are looked up through
``ctx.resolver`` (package classes, aliases, TypeVars, well-known standard-library types:
:mod:`~wasmtool.typemap.wellknown`); unresolved names are ``SkipForwardRef``.

Nothing ever degrades silently to ``any``. A declared ``Any``, an unbounded TypeVar and a
declared ``object`` on a complete stub tier become ``any`` only under
``any_policy="map"``, and then always tagged: ``TypeRef("any", py="typing:Any")`` /
``py="typing:TypeVar"`` (``name`` = the TypeVar) / ``py="builtins:object"``, so that every
such widening is listed (``WIDENED.txt``). A plain ``TypeRef("any")`` (no ``py``) comes
only from an explicit opt-in (allow-partial on a partial tier, allow-any). A union that
is not ``T | None`` becomes a checked ``union`` (the wrapper tries each member), also listed.

Precedence, when several rules apply to one annotation:
``complex`` anywhere -> ``SkipNoComplexType``; then the first failing sub-expression
in source order, except that a union with an ``Any`` branch is widened ``any`` (policy
``map``, complete tier) or ``SkipOpenUnion`` without lowering its other members.
"""

from __future__ import annotations

import builtins
import collections.abc
import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

from wasmtool.mochi_syntax import spell_inner_digits
from wasmtool.skips import SkipReason, SkipReport
from wasmtool.targets.profile import DEFAULT_TARGET, callables_cross
from wasmtool.typemap.annotation import (
    Const,
    Ellipsis_,
    ListExpr,
    Name,
    Node,
    Starred,
    Str,
    Subscript,
    TupleExpr,
    Union,
    Unsupported,
    names_in,
    normalise,
    parse_annotation,
    render,
)
from wasmtool.typemap.errors import TypemapSettingError
from wasmtool.typemap.surface import CLASS_PATH_PY, TypeRef
from wasmtool.typemap.wellknown import PATH, WellKnown, well_known

__all__ = [
    "ANY_DECLARED",
    "ANY_OBJECT",
    "ANY_UNANNOTATED",
    "CLASS_PATH_PY",
    "PARTIAL_TIERS",
    "UNIT",
    "AnyPolicy",
    "LowerContext",
    "LoweredReturn",
    "NarrowedMember",
    "NullResolver",
    "Resolved",
    "ResolvedAlias",
    "ResolvedSkip",
    "ResolvedTypeVar",
    "ResolvedWellKnown",
    "Resolver",
    "any_allowed",
    "any_permitted",
    "any_widens",
    "callable_targets_ok",
    "field_qualifiers",
    "lower_annotation",
    "lower_return",
    "option_of",
    "parse_monomorphise",
    "type_fragment",
    "typevar_any",
]

#: Stub tiers (formats.md §2 ``stub-provenance``) on which ``allow_partial`` may map ``Any``.
PARTIAL_TIERS = frozenset({"py.typed-partial", "stubgen"})

#: The "no value" type: returned by ``Callable[..., None]`` callables (``fun(A)``) and used
#: nowhere else. Rendered as an omitted ``: R`` (Mochi) / no result (WIT).
UNIT = TypeRef("tuple")

#: ``[python] any``: ``"map"`` widens a declared ``Any`` / unbounded TypeVar / ``object`` on a
#: complete stub tier to a tagged ``any``; ``"skip"`` skips them (the table before widening).
AnyPolicy = Literal["map", "skip"]

#: A declared ``Any`` (and a union with an ``Any`` branch), widened.
ANY_DECLARED = TypeRef("any", py="typing:Any")
#: A declared ``object``, widened.
ANY_OBJECT = TypeRef("any", py="builtins:object")
#: A parameter or return with no annotation in a complete stub source: `Any` by PEP 484, the
#: author left it open (stubgen and partial sources stay behind allow-partial).
ANY_UNANNOTATED = TypeRef("any", name="unannotated", py="typing:Any")


def typevar_any(name: str) -> TypeRef:
    """An unbounded TypeVar ``name``, widened (``name`` names it in ``WIDENED.txt``)."""
    return TypeRef("any", name=name, py="typing:TypeVar")


_SCALARS: dict[str, Literal["int", "float", "bool", "str", "bytes"]] = {
    "int": "int", "float": "float", "bool": "bool", "str": "str", "Text": "str",
    "bytes": "bytes", "bytearray": "bytes",
}
_LIST_LIKE = frozenset({"list", "List", "Sequence", "MutableSequence", "Collection"})
#: The buffer protocol (PEP 688) and ``memoryview``: ``bytes``. A ``Buffer`` parameter accepts
#: bytes (a bytes object is a buffer); a declared ``memoryview`` is passed ``memoryview(data)``
#: (``py``); a result of either is converted with ``bytes(v)``.
_BUFFER_LIKE = frozenset({"Buffer"})
_PY_MEMORYVIEW = "builtins:memoryview"

_SET_LIKE = frozenset({"set", "Set", "frozenset", "FrozenSet", "AbstractSet"})
_FROZEN_SETS = frozenset({"frozenset", "FrozenSet"})
#: ``py`` of a list that Python declared as ``tuple[T, ...]`` and of a set declared as a
#: frozenset: the wrapper builds that container for Python (Mochi sees a list / a set).
_PY_TUPLE = "builtins:tuple"
_PY_FROZENSET = "builtins:frozenset"
_MAP_LIKE = frozenset({"dict", "Dict", "Mapping", "MutableMapping"})
_ITER_LIKE = frozenset({"Iterator", "Iterable"})
_ASYNC_ITER_LIKE = frozenset({"AsyncIterator", "AsyncIterable"})
_UNWRAP = frozenset({"Final", "ClassVar", "Annotated", "Required", "NotRequired", "ReadOnly"})
_AWAITABLE = frozenset({"Awaitable", "Coroutine"})
_NONE_NAMES = frozenset({"None", "NoneType"})
_NEVER = frozenset({"Never", "NoReturn"})
_PARAMSPEC_FORMS = frozenset({"Concatenate", "ParamSpec", "ParamSpecArgs", "ParamSpecKwargs"})
_TYPEVARTUPLE_FORMS = frozenset({"Unpack", "TypeVarTuple"})
#: Known typing/builtin names that are not in the table: SkipUnsupportedTypingConstruct
#: (anything else unknown is SkipForwardRef).
#: (``Pattern``, ``Hashable``, ``SupportsIndex``/``SupportsInt``/``SupportsFloat`` are well-known
#: types: :mod:`~wasmtool.typemap.wellknown`.)
_KNOWN_UNSUPPORTED = frozenset({
    "AsyncContextManager", "AsyncGenerator", "BinaryIO", "ByteString", "ChainMap",
    "Container", "ContextManager", "Counter", "DefaultDict", "Deque", "ForwardRef",
    "Generic", "IO", "ItemsView", "KeysView", "LiteralString", "MappingView", "Match",
    "MutableSet", "NamedTuple", "NewType", "OrderedDict", "Protocol", "Reversible",
    "Sized", "SupportsAbs", "SupportsBytes", "SupportsComplex",
    "SupportsRound", "TextIO", "TypeAlias", "TypeAliasType", "TypeGuard", "TypeIs",
    "TypeVar", "TypedDict", "ValuesView", "TypeForm", "NoDefault", "Sentinel", "CapsuleType",
    "slice", "range", "property", "staticmethod", "classmethod", "super",
    "ellipsis", "EllipsisType", "NotImplementedType", "function", "cast", "reveal_type",
    "deque", "defaultdict",
})


# ---------------------------------------------------------------------------------------------
# resolution interface


@dataclass(frozen=True)
class ResolvedAlias:
    """A type alias to expand: its value text, the module whose names it uses, and its
    type parameters (PEP 695, else the free TypeVars in order). ``key`` identifies it for
    cycle detection."""

    module: str
    value: str
    params: tuple[str, ...] = ()
    key: str = ""
    explicit_params: bool = False


@dataclass(frozen=True)
class ResolvedTypeVar:
    """A TypeVar: its ``bound`` / ``constraints`` as annotation text, read in ``module`` (the
    module declaring it; empty: the module of the annotation)."""

    name: str
    kind: Literal["TypeVar", "ParamSpec", "TypeVarTuple"] = "TypeVar"
    bound: str | None = None
    constraints: tuple[str, ...] = ()
    module: str = ""


@dataclass(frozen=True)
class ResolvedWellKnown:
    """A standard-library type of the well-known table, by its qualified name
    (``datetime.datetime``): :func:`wasmtool.typemap.wellknown.well_known`."""

    qualname: str


@dataclass(frozen=True)
class ResolvedSkip:
    reason: SkipReason
    why: str


Resolved = TypeRef | ResolvedAlias | ResolvedTypeVar | ResolvedSkip | ResolvedWellKnown

#: TypeVars the typing module declares.
_TYPING_TYPEVARS = {"AnyStr": ResolvedTypeVar("AnyStr", constraints=("str", "bytes"))}


class Resolver(Protocol):
    """Looks up non-table names in a module's scope (package classes, aliases, TypeVars)."""

    def resolve(self, module: str, parts: tuple[str, ...]) -> Resolved | None:
        """``parts`` is the dotted name as written (after typing aliases are stripped)."""
        ...

    def typing_aliases(self, module: str) -> Mapping[str, str]:
        """Local names in ``module`` that alias typing-like modules or their members."""
        ...

    # Optional: ``class_path(module, parts) -> str | None``, the Python path (``module:QualName``,
    # or the dotted name of a class of another distribution) of the class ``parts`` names, also
    # when that class does not map as a value (``type[X]`` needs only its path).


class NullResolver:
    """Resolves nothing: for lowering annotations outside any package."""

    def resolve(self, module: str, parts: tuple[str, ...]) -> Resolved | None:
        return None

    def typing_aliases(self, module: str) -> Mapping[str, str]:
        return {}


@dataclass(frozen=True)
class LowerContext:
    """Everything lowering one annotation depends on (no globals, no host state).

    ``path`` names the item in skip reports. ``position`` is where the annotation sits
    (``object`` as a Protocol method parameter is a plain ``any``).
    ``monomorphise`` maps a TypeVar name (or ``<item path>.<TypeVar>``) to the annotation
    text it is instantiated with. ``any_policy`` decides declared ``Any`` / unbounded
    TypeVars / ``object`` on a complete tier (:data:`AnyPolicy`, :func:`any_widens`).
    ``type_param_bounds`` gives the bound text of PEP 695 type parameters in scope
    (``(name, bound)``; a tuple bound ``(A, B)`` is a constraint list).
    ``target`` names the target in skip reasons; ``callables_cross`` says whether Python
    callables can cross the boundary there (a fact of the target's profile, passed in by its
    backend; when ``None`` it is looked up by ``target``'s name:
    :func:`wasmtool.targets.profile.callables_cross`).
    """

    path: str = ""
    module: str = ""
    resolver: Resolver = field(default_factory=NullResolver)
    tier: str = "py.typed"
    allow_partial: bool = False
    allow_any: tuple[str, ...] = ()   # item patterns (fnmatch) on which `Any` maps to `any`
    target: str = DEFAULT_TARGET
    callables_cross: bool | None = None
    self_type: TypeRef | None = None
    in_protocol: bool = False
    position: Literal["param", "return", "field", "other"] = "other"
    type_params: tuple[tuple[str, str], ...] = ()  # PEP 695 (name, kind) in scope
    monomorphise: tuple[tuple[str, str], ...] = ()
    any_policy: AnyPolicy = "map"
    type_param_bounds: tuple[tuple[str, str], ...] = ()
    #: where a parameter's union records the members it does not accept (see
    #: :class:`NarrowedMember`); ``None``: a member that does not map skips the whole union
    narrowed: list[NarrowedMember] | None = field(default=None, compare=False, hash=False)


@dataclass(frozen=True)
class NarrowedMember:
    """A member left out of a parameter's union because it cannot cross (``IO[str]`` in
    ``str | IO[str]``): the parameter accepts the other members. Narrowing an input is sound
    (a caller can only pass what crosses); a result or a callback's parameter is never narrowed."""

    text: str
    reason: SkipReason
    why: str


@dataclass(frozen=True)
class LoweredReturn:
    """A lowered return annotation: ``type`` is None for "no value" (``None``, ``NoReturn``,
    ``Never``, ``tuple[()]``); ``awaitable`` when it was ``Awaitable[T]``/``Coroutine[.., T]``."""

    type: TypeRef | None
    awaitable: bool = False


class _Skip(Exception):
    def __init__(self, reason: SkipReason, why: str) -> None:
        super().__init__(why)
        self.reason = reason
        self.why = why


@dataclass
class _State:
    subst: dict[str, TypeRef] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    typevars: tuple[str, ...] = ()
    depth: int = 0
    in_callable: bool = False   # inside a Callable's parameter list: values flow out of Python


_MAX_DEPTH = 64


# ---------------------------------------------------------------------------------------------
# public functions


def lower_annotation(ann: str | Node, ctx: LowerContext | None = None) -> TypeRef | SkipReport:
    """Lower one annotation through the table (typemap.md §1-§3)."""
    ctx = ctx or LowerContext()
    text = ann if isinstance(ann, str) else render(ann)
    try:
        node = _prepare(ann, ctx)
        _check_complex(node, ctx)
        return _lower(node, ctx, _State())
    except _Skip as skip:
        return SkipReport(ctx.path, skip.reason, text, skip.why)
    except RecursionError:
        return SkipReport(ctx.path, SkipReason.SkipUnsupportedTypingConstruct, text, "nested too deeply")


def lower_return(ann: str | None, ctx: LowerContext | None = None) -> LoweredReturn | SkipReport:
    """Lower a return annotation: ``None``/``NoReturn``/``Never``/``tuple[()]`` mean "no value";
    a top-level ``Awaitable[T]``/``Coroutine[Y, S, T]`` is unwrapped to ``T``."""
    ctx = replace(ctx or LowerContext(), position="return")
    if ann is None and any_permitted(ctx):
        ann = "Any"  # PEP 484: a missing return annotation is `Any`
    if ann is None and any_widens(ctx):
        return LoweredReturn(ANY_UNANNOTATED)
    if ann is None:
        return SkipReport(ctx.path, SkipReason.SkipUnsupportedTypingConstruct, "",
                          "missing return annotation")
    try:
        node = _prepare(ann, ctx)
        _check_complex(node, ctx)
        awaitable = False
        node = _strip_str(node, ctx)
        head = _head(node)
        if head in _AWAITABLE and isinstance(node, Subscript):
            awaitable = True
            node = _strip_str(node.args[-1], ctx)
        if _is_no_value(node):
            return LoweredReturn(None, awaitable)
        return LoweredReturn(_lower(node, ctx, _State()), awaitable)
    except _Skip as skip:
        return SkipReport(ctx.path, skip.reason, ann, skip.why)
    except RecursionError:
        return SkipReport(ctx.path, SkipReason.SkipUnsupportedTypingConstruct, ann, "nested too deeply")


def field_qualifiers(ann: str, ctx: LowerContext | None = None) -> frozenset[str]:
    """Top-level qualifiers wrapping ``ann`` (``NotRequired``, ``Required``, ``ReadOnly``,
    ``ClassVar``, ``Final``, ``Annotated``), e.g. ``ClassVar[Final[int]]`` ->
    ``{"ClassVar", "Final"}``. Used for TypedDict requiredness and dataclass fields."""
    ctx = ctx or LowerContext()
    found: set[str] = set()
    try:
        node = _strip_str(_prepare(ann, ctx), ctx)
    except _Skip:
        return frozenset()
    for _ in range(_MAX_DEPTH):
        head = _head(node)
        if head in _UNWRAP:
            found.add(head)
            if not isinstance(node, Subscript) or not node.args:
                break
            try:
                node = _strip_str(node.args[0], ctx)
            except _Skip:
                break
        else:
            break
    return frozenset(found)


def callable_targets_ok(target: str) -> bool:
    """Whether Python callables can cross the boundary on ``target`` (by its name: the
    profile's ``callables`` key; the ``subprocess`` runtime mode: never)."""
    return callables_cross(target)


def option_of(t: TypeRef) -> TypeRef:
    """``T?`` with nesting collapsed (Mochi rejects ``T??``)."""
    return t if t.kind == "option" else TypeRef("option", (t,))


def any_permitted(ctx: LowerContext) -> bool:
    """``Any`` maps to ``any`` here: allow-partial on a partial/stubgen tier, or allow-any."""
    return (ctx.allow_partial and ctx.tier in PARTIAL_TIERS) or any_allowed(ctx.path, ctx.allow_any)


def any_widens(ctx: LowerContext) -> bool:
    """A declared ``Any`` / unbounded TypeVar / ``object`` widens to a tagged ``any`` here:
    ``any_policy == "map"`` on a complete stub tier (not in :data:`PARTIAL_TIERS`)."""
    return ctx.any_policy == "map" and ctx.tier not in PARTIAL_TIERS


def any_allowed(path: str, patterns: tuple[str, ...]) -> bool:
    """Whether ``Any`` at item ``path`` (``tomli.loads``, ``tomli.loads.s``) is opted in.

    A pattern names an item or a glob of items (``yaml.*``); it covers the item's
    parameters and fields too. The opt-in is explicit, per item: never a silent ``any``.
    """
    if not patterns or not path:
        return False
    parts = path.split(".")
    prefixes = [".".join(parts[:i]) for i in range(len(parts), 0, -1)]
    return any(fnmatch.fnmatchcase(p, pat) for pat in patterns for p in prefixes)


def type_fragment(t: TypeRef) -> str:
    """Identifier fragment naming ``t`` in synthesised names (``Tup_int_string``)."""
    if t.kind in ("record", "enum", "handle", "tuple") and t.name:
        return t.name
    if t.kind == "str" and t.py == CLASS_PATH_PY:
        return "class"   # `type[X]`: told apart from a plain string in overload suffixes
    simple = {"int": "int", "float": "float", "bool": "bool", "str": "string", "bytes": "bytes",
              "any": "any", "tuple": "unit"}
    if t.kind in simple:
        return simple[t.kind]
    if t.kind == "option":
        return "opt_" + type_fragment(t.args[0])
    if t.kind == "callable":
        return "fun_" + "_".join(type_fragment(a) for a in (*t.args[1:], t.args[0]))
    return t.kind + "_" + "_".join(type_fragment(a) for a in t.args)


def parse_monomorphise(
    settings: Mapping[str, str] | Sequence[tuple[str, str] | str],
) -> tuple[tuple[str, str], ...]:
    """Normalise ``monomorphise`` settings: a mapping, ``(name, type)`` pairs or
    ``"name=type"`` strings -> sorted ``(name, type)`` pairs."""
    pairs: list[tuple[str, str]] = []
    items: Sequence[tuple[str, str] | str]
    items = list(settings.items()) if isinstance(settings, Mapping) else settings
    for item in items:
        if isinstance(item, str):
            name, sep, value = item.partition("=")
            if not sep:
                raise TypemapSettingError(f"monomorphise entry {item!r} is not NAME=TYPE",
                                          field="monomorphise")
            pairs.append((name.strip(), value.strip()))
        else:
            if len(item) != 2 or not all(isinstance(x, str) for x in item):
                raise TypemapSettingError(f"monomorphise entry {item!r} is not (name, type)",
                                          field="monomorphise")
            pairs.append((item[0].strip(), item[1].strip()))
    for name, value in pairs:
        if not name or not value:
            raise TypemapSettingError(f"monomorphise entry {name}={value} is incomplete",
                                      field="monomorphise")
    return tuple(sorted(set(pairs)))


# ---------------------------------------------------------------------------------------------
# internals


def _prepare(ann: str | Node, ctx: LowerContext) -> Node:
    node = parse_annotation(ann) if isinstance(ann, str) else ann
    return normalise(node, ctx.resolver.typing_aliases(ctx.module))


def _head(node: Node) -> str:
    if isinstance(node, Name) and len(node.parts) == 1:
        return node.parts[0]
    if isinstance(node, Subscript) and len(node.base.parts) == 1:
        return node.base.parts[0]
    return ""


def _is_none(node: Node) -> bool:
    """``None`` / ``NoneType``, and ``Literal[None]`` (PEP 586: the same type as ``None``)."""
    if isinstance(node, Subscript) and _head(node) == "Literal" and node.args:
        return all(isinstance(a, Const) and a.value is None for a in node.args)
    return (isinstance(node, Const) and node.value is None) or (
        isinstance(node, Name) and len(node.parts) == 1 and node.parts[0] in _NONE_NAMES)


def _is_no_value(node: Node) -> bool:
    if _is_none(node):
        return True
    if isinstance(node, Name) and len(node.parts) == 1 and node.parts[0] in _NEVER:
        return True
    return (isinstance(node, Subscript) and _head(node) in ("tuple", "Tuple")
            and node.args == (TupleExpr(()),))


def _strip_str(node: Node, ctx: LowerContext) -> Node:
    """A string forward reference -> the annotation it contains."""
    for _ in range(8):
        if not isinstance(node, Str):
            return node
        inner = parse_annotation(node.value)
        if isinstance(inner, Unsupported):
            raise _Skip(SkipReason.SkipForwardRef, f"unparseable forward reference {node.value!r}")
        node = normalise(inner, ctx.resolver.typing_aliases(ctx.module))
    raise _Skip(SkipReason.SkipForwardRef, "nested string forward references")


def _check_complex(node: Node, ctx: LowerContext) -> None:
    stack: list[Node] = [node]
    seen = 0
    while stack and seen < 10_000:
        seen += 1
        cur = stack.pop()
        if isinstance(cur, Str):
            inner = parse_annotation(cur.value)
            if not isinstance(inner, Unsupported):
                stack.append(normalise(inner, ctx.resolver.typing_aliases(ctx.module)))
            continue
        for name in names_in(cur):
            if name.parts == ("complex",):
                raise _Skip(SkipReason.SkipNoComplexType, "`complex` has no Mochi type")
        if isinstance(cur, Subscript):
            if _head(cur) == "Literal":
                continue
            stack.extend(a for a in cur.args if isinstance(a, Str))
        elif isinstance(cur, Union | ListExpr | TupleExpr):
            stack.extend(a for a in cur.items if isinstance(a, Str | Subscript | Union | ListExpr))
        elif isinstance(cur, Starred):
            stack.append(cur.inner)


def _unsupported(why: str) -> _Skip:
    return _Skip(SkipReason.SkipUnsupportedTypingConstruct, why)


def _lower(node: Node, ctx: LowerContext, st: _State) -> TypeRef:
    if st.depth > _MAX_DEPTH:
        raise _unsupported("annotation nested too deeply")
    st = replace(st, depth=st.depth + 1)
    if isinstance(node, Str):
        return _lower(_strip_str(node, ctx), ctx, st)
    if isinstance(node, Name):
        return _lower_name(node, None, ctx, st)
    if isinstance(node, Subscript):
        return _lower_name(node.base, node.args, ctx, st)
    if isinstance(node, Union):
        return _lower_union(node.items, ctx, st)
    if isinstance(node, Const):
        if node.value is None:
            raise _unsupported("`None` outside Optional")
        raise _unsupported(f"value {node.value!r} in a type position")
    if isinstance(node, Starred):
        raise _Skip(SkipReason.SkipTypeVarTuple, f"unpacked `{render(node)}`")
    if isinstance(node, Ellipsis_):
        raise _unsupported("`...` outside tuple[T, ...] / Callable")
    if isinstance(node, ListExpr | TupleExpr):
        raise _unsupported(f"`{render(node)}` in a type position")
    raise _unsupported(f"`{node.text}` is not a type expression")


def _need_args(name: str, args: tuple[Node, ...] | None, count: int | None = None) -> tuple[Node, ...]:
    if args is None:
        raise _unsupported(f"bare `{name}` without type arguments")
    if count is not None and len(args) != count:
        raise _unsupported(f"`{name}` takes {count} type argument(s), got {len(args)}")
    return args


def _no_args(name: str, args: tuple[Node, ...] | None) -> None:
    if args is not None:
        raise _unsupported(f"`{name}` does not take type arguments")


def _lower_name(name: Name, args: tuple[Node, ...] | None, ctx: LowerContext, st: _State) -> TypeRef:
    parts = name.parts
    if len(parts) == 1 and parts[0] in st.subst:
        return st.subst[parts[0]]
    if not name.typing_origin:
        for tp_name, tp_kind in ctx.type_params:
            if parts[0] == tp_name:
                return _typevar(_type_param(tp_name, tp_kind, ctx), ctx, st)
        resolved = ctx.resolver.resolve(ctx.module, parts)
        if resolved is not None:
            return _from_resolved(resolved, name, args, ctx, st)
    if len(parts) != 1:
        wk = well_known(name.dotted)  # a qualified standard-library name no import explains
        if wk is not None:
            return _lower_well_known(wk, args, ctx, st)
        raise _Skip(SkipReason.SkipForwardRef, f"unresolved name `{name.dotted}`")
    head = parts[0]
    if head in _SCALARS:
        _no_args(head, args)
        return TypeRef(_SCALARS[head])
    if head in _BUFFER_LIKE:
        _no_args(head, args)
        return TypeRef("bytes")
    if head == "memoryview":
        return TypeRef("bytes", py=_PY_MEMORYVIEW)   # `memoryview[int]` (3.14 stubs): same bytes
    if head == "complex":
        raise _Skip(SkipReason.SkipNoComplexType, "`complex` has no Mochi type")
    if head == "object":
        if ctx.in_protocol and ctx.position == "param":
            return TypeRef("any")
        if any_widens(ctx):
            _no_args(head, args)
            return ANY_OBJECT
        raise _unsupported("`object` outside a Protocol parameter")
    if head == "Any":
        if any_permitted(ctx):
            return TypeRef("any")
        if any_widens(ctx):
            return ANY_DECLARED
        raise _unsupported("`Any` (maps to `any` only with allow-partial on a partial/stubgen tier, "
                           "or for items listed in allow-any)")
    if head in _NONE_NAMES:
        raise _unsupported("`None` outside Optional")
    if head in _NEVER:
        raise _unsupported(f"`{head}` outside a return annotation")
    if head in _LIST_LIKE:
        (item,) = _need_args(head, args, 1)
        return TypeRef("list", (_lower(item, ctx, st),))
    if head in _SET_LIKE:
        (item,) = _need_args(head, args, 1)
        return TypeRef("set", (_lower(item, ctx, st),), py=_PY_FROZENSET if head in _FROZEN_SETS else "")
    if head in _ITER_LIKE or head in _ASYNC_ITER_LIKE:
        (item,) = _need_args(head, args, 1)
        return TypeRef("list", (_lower(item, ctx, st),))
    if head == "Generator":
        gen = _need_args(head, args)
        if len(gen) not in (1, 3) or not all(_is_none(_strip_str(a, ctx)) for a in gen[1:]):
            raise _unsupported("only Generator[T, None, None] is materialised")
        return TypeRef("list", (_lower(gen[0], ctx, st),))
    if head in _MAP_LIKE:
        key, value = _need_args(head, args, 2)
        k = _lower(key, ctx, st)
        if k.kind not in ("str", "int"):
            raise _unsupported(f"map key `{render(key)}` must be string or int")
        return TypeRef("map", (k, _lower(value, ctx, st)))
    if head in ("tuple", "Tuple"):
        return _lower_tuple(_need_args(head, args), ctx, st)
    if head == "Optional":
        (item,) = _need_args(head, args, 1)
        return _lower_union((item, Const(None)), ctx, st)
    if head == "Union":
        return _lower_union(_need_args(head, args), ctx, st)
    if head == "Literal":
        return _lower_literal(_need_args(head, args), ctx, st)
    if head in _UNWRAP:
        inner = _need_args(head, args)
        if head != "Annotated" and len(inner) != 1:
            raise _unsupported(f"`{head}` takes one type argument")
        return _lower(inner[0], ctx, st)
    if head == "Self":
        _no_args(head, args)
        if ctx.self_type is None:
            raise _unsupported("`Self` outside a class")
        return ctx.self_type
    if head in ("Type", "type"):
        return _lower_class_object(head, args, ctx, st)
    if head == "Callable":
        return _lower_callable(_need_args(head, args, 2), ctx, st)
    if head in _AWAITABLE:
        raise _unsupported(f"`{head}` outside a return annotation")
    if head in _PARAMSPEC_FORMS:
        raise _Skip(SkipReason.SkipParamSpec, f"`{head}`")
    if head in _TYPEVARTUPLE_FORMS:
        raise _Skip(SkipReason.SkipTypeVarTuple, f"`{head}`")
    if head in _TYPING_TYPEVARS:
        return _typevar(_TYPING_TYPEVARS[head], ctx, st)
    wk = well_known(f"typing.{head}")
    if wk is not None:
        return _lower_well_known(wk, args, ctx, st)
    if head in _KNOWN_UNSUPPORTED or name.typing_origin:
        raise _unsupported(f"`{head}` is not in the type table")
    raise _Skip(SkipReason.SkipForwardRef, f"unresolved name `{head}`")


def _from_resolved(resolved: Resolved, name: Name, args: tuple[Node, ...] | None,
                   ctx: LowerContext, st: _State) -> TypeRef:
    if isinstance(resolved, TypeRef):
        return resolved  # a package class; type arguments of a generic class are erased
    if isinstance(resolved, ResolvedSkip):
        raise _Skip(resolved.reason, resolved.why)
    if isinstance(resolved, ResolvedTypeVar):
        return _typevar(resolved, ctx, st)
    if isinstance(resolved, ResolvedWellKnown):
        wk = well_known(resolved.qualname)
        if wk is None:
            raise _Skip(SkipReason.SkipForwardRef, f"`{resolved.qualname}` is outside the distribution")
        return _lower_well_known(wk, args, ctx, st)
    return _expand_alias(resolved, name, args, ctx, st)


def _lower_well_known(wk: WellKnown, args: tuple[Node, ...] | None, ctx: LowerContext,
                      st: _State) -> TypeRef:
    """A standard-library type of the well-known table, its type arguments checked."""
    if wk.args == "none":
        _no_args(wk.qualname, args)
    elif wk.args == "str" and args is not None:
        arg: TypeRef | None = None
        if len(args) == 1:
            try:
                arg = _lower(args[0], ctx, st)
            except _Skip:
                arg = None
        if arg != TypeRef("str"):
            raise _unsupported(f"`{wk.qualname}[{', '.join(render(a) for a in args)}]` "
                               f"(only a str pattern maps: `{wk.qualname}[str]`)")
    return wk.type


def _expand_alias(alias: ResolvedAlias, name: Name, args: tuple[Node, ...] | None,
                  ctx: LowerContext, st: _State) -> TypeRef:
    key = alias.key or f"{alias.module}.{name.dotted}"
    if key in st.aliases:
        raise _unsupported(f"recursive type alias `{name.dotted}`")
    alias_ctx = replace(ctx, module=alias.module, type_params=())
    body = normalise(parse_annotation(alias.value), ctx.resolver.typing_aliases(alias.module))
    params = alias.params
    if not alias.explicit_params and not params:
        params = _free_typevars(body, alias_ctx)
    subst: dict[str, TypeRef] = {}
    if args is not None and params:
        if len(args) != len(params):
            raise _unsupported(f"alias `{name.dotted}` takes {len(params)} type argument(s)")
        for param, arg in zip(params, args, strict=True):
            subst[param] = _lower(arg, ctx, st)
    inner = _State(subst=subst, aliases=(*st.aliases, key), typevars=st.typevars, depth=st.depth)
    return _lower(body, alias_ctx, inner)


def _free_typevars(body: Node, ctx: LowerContext) -> tuple[str, ...]:
    out: list[str] = []
    for n in names_in(body):
        if len(n.parts) == 1 and not n.typing_origin and n.parts[0] not in out:
            r = ctx.resolver.resolve(ctx.module, n.parts)
            if isinstance(r, ResolvedTypeVar) and r.kind == "TypeVar":
                out.append(n.parts[0])
    return tuple(out)


def _type_param(name: str, kind: str, ctx: LowerContext) -> ResolvedTypeVar:
    """A PEP 695 type parameter in scope, with its bound when the context carries it."""
    tv_kind: Literal["TypeVar", "ParamSpec", "TypeVarTuple"] = (
        "ParamSpec" if kind == "ParamSpec" else "TypeVarTuple" if kind == "TypeVarTuple" else "TypeVar")
    bound = dict(ctx.type_param_bounds).get(name)
    return ResolvedTypeVar(name, tv_kind, bound)


def _typevar(tv: ResolvedTypeVar, ctx: LowerContext, st: _State) -> TypeRef:
    """A TypeVar: its ``monomorphise`` setting; else its bound's type; else the checked union
    of its constraints; else (unbounded) a widened ``any`` or a skip (:func:`any_widens`)."""
    name = tv.name
    if tv.kind == "ParamSpec":
        raise _Skip(SkipReason.SkipParamSpec, f"ParamSpec `{name}`")
    if tv.kind == "TypeVarTuple":
        raise _Skip(SkipReason.SkipTypeVarTuple, f"TypeVarTuple `{name}`")
    settings = dict(ctx.monomorphise)
    chosen = settings.get(f"{ctx.path}.{name}") if ctx.path else None
    if chosen is None:
        chosen = settings.get(name)
    if chosen is not None:
        if name in st.typevars:
            raise _unsupported(f"monomorphise setting for `{name}` refers to itself")
        node = normalise(parse_annotation(chosen), ctx.resolver.typing_aliases(ctx.module))
        return _lower(node, ctx, replace(st, typevars=(*st.typevars, name)))
    if tv.bound is None and not tv.constraints:
        if any_widens(ctx):
            return typevar_any(name)
        raise _unsupported(f"TypeVar `{name}` (instantiate it with a monomorphise setting)")
    if name in st.typevars:
        raise _unsupported(f"the bound of TypeVar `{name}` refers to itself")
    inner = replace(st, typevars=(*st.typevars, name))
    # a module-level TypeVar's bound is read where the TypeVar is declared
    tv_ctx = replace(ctx, module=tv.module, type_params=()) if tv.module else ctx
    aliases = ctx.resolver.typing_aliases(tv_ctx.module)
    if tv.constraints:
        nodes = tuple(normalise(parse_annotation(c), aliases) for c in tv.constraints)
        return _lower_union(nodes, tv_ctx, inner)
    assert tv.bound is not None
    bound = normalise(parse_annotation(tv.bound), aliases)
    if isinstance(bound, TupleExpr):  # PEP 695 `T: (A, B)` lists constraints
        return _lower_union(bound.items, tv_ctx, inner)
    return _lower(bound, tv_ctx, inner)


def _lower_class_object(head: str, args: tuple[Node, ...] | None, ctx: LowerContext,
                        st: _State) -> TypeRef:
    """``type[X]`` / ``Type[X]``: a class object, crossing as its dotted Python path (the wire
    form :data:`CLASS_PATH_PY`). ``name`` lists the classes it must subclass (``X``'s
    ``module:QualName``; a union or a constrained TypeVar gives several, joined by ``|``);
    empty for any class (bare ``type``, ``type[Any]``, ``type[object]``, an unbounded TypeVar).
    X need not map itself: only its path crosses (``type[BaseModel]`` of a class with a metaclass)."""
    if args is None:
        bounds: list[str] = []
    elif len(args) != 1:
        raise _unsupported(f"`{head}` takes one type argument")
    else:
        bounds = _class_bounds(args[0], ctx, st, 0)
    if not bounds and ctx.tier in PARTIAL_TIERS and not any_permitted(ctx):
        # `type[Incomplete]` on a stubgen / partial source: the class is not known yet
        raise _unsupported(f"`{head}[Any]` (any class) on a partial stub source (only with allow-partial)")
    return TypeRef("str", name="|".join(dict.fromkeys(bounds)), py=CLASS_PATH_PY)


def _class_bounds(node: Node, ctx: LowerContext, st: _State, depth: int) -> list[str]:
    """The classes ``type[node]`` must subclass, as ``module:QualName`` (or a dotted name for a
    class outside the distribution); ``[]``: any class."""
    if depth > _MAX_DEPTH:
        raise _unsupported("class object annotation nested too deeply")
    node = _strip_str(node, ctx)
    if isinstance(node, Union) or (isinstance(node, Subscript) and _head(node) in ("Union", "Optional")):
        items = node.items if isinstance(node, Union) else node.args if isinstance(node, Subscript) else ()
        if isinstance(node, Subscript) and _head(node) == "Optional":
            items = (*items, Const(None))
        out: list[str] = []
        for item in items:
            if _is_none(_strip_str(item, ctx)):
                raise _unsupported("`type[None]`: the class of None does not cross")
            more = _class_bounds(item, ctx, st, depth + 1)
            if not more:
                return []   # one member is any class: so is the union
            out += more
        return out
    if isinstance(node, Subscript):
        node = node.base   # a generic class: its type arguments are erased
    if not isinstance(node, Name):
        raise _unsupported(f"`type[{render(node)}]` does not name a class")
    parts = node.parts
    if parts in (("Any",), ("object",)):
        return []
    if len(parts) == 1 and parts[0] in st.subst:
        sub = st.subst[parts[0]]
        if sub.kind in ("handle", "record", "enum") and sub.py:
            return [sub.py]
        if sub.kind == "any":
            return []
        raise _unsupported(f"`type[{parts[0]}]`: `{sub.name or sub.kind}` is not a class of the package")
    resolved: Resolved | None = None
    if not node.typing_origin:
        for tp_name, tp_kind in ctx.type_params:
            if parts[0] == tp_name:
                resolved = _type_param(tp_name, tp_kind, ctx)
                break
        else:
            resolved = ctx.resolver.resolve(ctx.module, parts)
    if isinstance(resolved, TypeRef):
        if resolved.kind in ("handle", "record", "enum") and resolved.py:
            return [resolved.py]
        raise _unsupported(f"`type[{node.dotted}]` does not name a class")
    if isinstance(resolved, ResolvedTypeVar):
        return _typevar_class_bounds(resolved, ctx, st, depth)
    if isinstance(resolved, ResolvedAlias):
        key = resolved.key or f"{resolved.module}.{node.dotted}"
        if key in st.aliases or resolved.params:
            raise _unsupported(f"`type[{node.dotted}]`: a recursive or generic type alias")
        body = normalise(parse_annotation(resolved.value), ctx.resolver.typing_aliases(resolved.module))
        return _class_bounds(body, replace(ctx, module=resolved.module, type_params=()),
                             replace(st, aliases=(*st.aliases, key)), depth + 1)
    if isinstance(resolved, ResolvedWellKnown | ResolvedSkip) or resolved is None:
        # a class that does not map as a value (a metaclass, an exception, a class of another
        # distribution) still has a path
        path = _class_path(ctx, parts) if not node.typing_origin else None
        if path is not None:
            return [path]
        qualname = resolved.qualname if isinstance(resolved, ResolvedWellKnown) else node.dotted
        wk = _well_known_class(qualname)
        if wk is not None:
            return [wk]
        if isinstance(resolved, ResolvedSkip):
            raise _Skip(resolved.reason, resolved.why)
    name = _TYPING_BUILTINS.get(parts[0], parts[0]) if len(parts) == 1 else ""
    if name and isinstance(getattr(builtins, name, None), type) and not name.startswith("_"):
        return [f"builtins:{name}"]   # `type[int]`, `type[Exception]`, `type[List[int]]`
    if len(parts) == 1 and isinstance(getattr(collections.abc, parts[0], None), type):
        return [f"collections.abc:{parts[0]}"]   # `type[Mapping[str, Any]]`: an abstract base class
    if node.typing_origin or parts[0] in _KNOWN_UNSUPPORTED or parts[0] in _TYPING_FORMS:
        raise _unsupported(f"`type[{node.dotted}]` does not name a class")
    raise _Skip(SkipReason.SkipForwardRef, f"unresolved class `{node.dotted}` in `type[...]`")


#: typing's aliases of builtin classes.
_TYPING_BUILTINS = {"List": "list", "Dict": "dict", "Set": "set", "FrozenSet": "frozenset", "Tuple": "tuple",
                    "Type": "type", "Text": "str"}
#: Typing special forms that are no class (``type[Literal[1]]``).
_TYPING_FORMS = frozenset({"Literal", "Callable", "Union", "Optional", "Self", "Never", "NoReturn", "Final",
                           "ClassVar", "Annotated", "Required", "NotRequired", "ReadOnly", "Unpack",
                           "Concatenate", "Awaitable", "Coroutine"})


def _typevar_class_bounds(tv: ResolvedTypeVar, ctx: LowerContext, st: _State, depth: int) -> list[str]:
    """``type[T]``: the classes of ``T``'s bound or constraints; unbounded: any class."""
    if tv.kind != "TypeVar":
        raise _Skip(SkipReason.SkipParamSpec if tv.kind == "ParamSpec" else SkipReason.SkipTypeVarTuple,
                    f"{tv.kind} `{tv.name}` in `type[...]`")
    if tv.name in st.typevars:
        raise _unsupported(f"the bound of TypeVar `{tv.name}` refers to itself")
    inner = replace(st, typevars=(*st.typevars, tv.name))
    tv_ctx = replace(ctx, module=tv.module, type_params=()) if tv.module else ctx
    aliases = ctx.resolver.typing_aliases(tv_ctx.module)
    texts = tv.constraints or ((tv.bound,) if tv.bound is not None else ())
    out: list[str] = []
    for text in texts:
        more = _class_bounds(normalise(parse_annotation(text), aliases), tv_ctx, inner, depth + 1)
        if not more:
            return []
        out += more
    return out


def _class_path(ctx: LowerContext, parts: tuple[str, ...]) -> str | None:
    """The Python path of the class ``parts`` names in ``ctx.module``, also when it does not map
    as a value, if the resolver knows it (``class_path``: optional in :class:`Resolver`)."""
    find = getattr(ctx.resolver, "class_path", None)
    if find is None:
        return None
    path = find(ctx.module, parts)
    return path if isinstance(path, str) and path else None


#: Standard-library modules whose well-known types are classes a class path may name.
_CLASS_MODULES = frozenset({"datetime", "decimal", "_decimal", "uuid", "pathlib", "os", "re"})


def _well_known_class(qualname: str) -> str | None:
    module, _, name = qualname.rpartition(".")
    if well_known(qualname) is None or module not in _CLASS_MODULES:
        return None
    return f"{module.lstrip('_')}:{name}"


def _lower_tuple(args: tuple[Node, ...], ctx: LowerContext, st: _State) -> TypeRef:
    if args == (TupleExpr(()),):
        raise _unsupported("`tuple[()]` carries no value")
    if len(args) == 2 and isinstance(args[1], Ellipsis_):
        # a list in Mochi; the wrapper hands Python the tuple it declared
        return TypeRef("list", (_lower(args[0], ctx, st),), py=_PY_TUPLE)
    if any(isinstance(a, Ellipsis_) for a in args):
        raise _unsupported("`...` only allowed as tuple[T, ...]")
    items = tuple(_lower(a, ctx, st) for a in args)
    name = spell_inner_digits("Tup_" + "_".join(type_fragment(t) for t in items))
    return TypeRef("tuple", items, name=name)


def _container_free(t: TypeRef) -> TypeRef:
    """``t`` without the Python container a list or set was declared as (``py``)."""
    return TypeRef(t.kind, t.args, t.name, "", t.value_kind) if t.kind in ("list", "set", "bytes") and t.py else t


def _flatten_union(items: Sequence[Node], ctx: LowerContext, out: list[Node], depth: int = 0) -> None:
    if depth > _MAX_DEPTH:
        raise _unsupported("union nested too deeply")
    for item in items:
        item = _strip_str(item, ctx)
        head = _head(item)
        if isinstance(item, Union):
            _flatten_union(item.items, ctx, out, depth + 1)
        elif head == "Optional" and isinstance(item, Subscript) and len(item.args) == 1:
            _flatten_union((item.args[0], Const(None)), ctx, out, depth + 1)
        elif head == "Union" and isinstance(item, Subscript):
            _flatten_union(item.args, ctx, out, depth + 1)
        else:
            out.append(item)


def _lower_union(items: Sequence[Node], ctx: LowerContext, st: _State) -> TypeRef:
    """``A | B | ...``: ``T | None`` -> ``T?``; two or more members -> a checked ``union``
    (:func:`_collapse`); a union with an ``Any`` branch -> widened ``any`` or SkipOpenUnion."""
    flat: list[Node] = []
    _flatten_union(items, ctx, flat)
    has_none = any(_is_none(i) for i in flat)
    rest = [i for i in flat if not _is_none(i)]
    if any(isinstance(i, Name) and i.parts == ("Any",) for i in rest):
        if any_widens(ctx):
            return ANY_DECLARED  # the author said anything goes
        raise _Skip(SkipReason.SkipOpenUnion, "union with an `Any` branch")
    literals = [i for i in rest if isinstance(i, Subscript) and _head(i) == "Literal"]
    if len(literals) > 1:  # Literal["a"] | Literal["b"] == Literal["a", "b"], where the first stood
        merged = Subscript(Name(("Literal",), True), tuple(a for lit in literals for a in lit.args))
        at = rest.index(literals[0])
        rest = [i for i in rest[:at] if i not in literals] + [merged] + [i for i in rest[at:] if i not in literals]
    members: list[TypeRef] = []
    spliced: set[TypeRef] = set()  # members of a union named inside this one (Hashable, an alias)
    narrow = ctx.narrowed is not None and ctx.position == "param" and not st.in_callable
    dropped: list[NarrowedMember] = []
    for item in rest:
        if narrow:
            try:
                t = _lower(item, ctx, st)
            except _Skip as skip:
                dropped.append(NarrowedMember(render(item), skip.reason, skip.why))
                if len(dropped) == len(rest):
                    raise
                continue
        else:
            t = _lower(item, ctx, st)
        if t.kind == "option":
            has_none = True
            t = t.args[0]
        if t.kind == "union":
            spliced.update(t.args)
        for m in t.args if t.kind == "union" else (t,):
            # `list[int] | tuple[int, ...]` is one Mochi type: the first container stands
            if _container_free(m) not in map(_container_free, members):
                members.append(m)
    if not members:
        raise _unsupported("`None` outside Optional")
    if dropped and ctx.narrowed is not None:
        ctx.narrowed.extend(dropped)
    members = _collapse(members, spliced)
    if len(members) == 1:
        return option_of(members[0]) if has_none else members[0]
    anys = [m for m in members if m.kind == "any"]
    if anys:
        if any_widens(ctx):
            return anys[0]
        raise _Skip(SkipReason.SkipOpenUnion, "union with an `any` member")
    union = TypeRef("union", tuple(members))
    return option_of(union) if has_none else union


def _collapse(members: list[TypeRef], spliced: set[TypeRef]) -> list[TypeRef]:
    """The special unions: a path with ``str`` (and then ``bytes``) is a path; an ``int``
    written next to ``float`` is ``float`` (a float parameter accepts an int; an ``int`` of a
    union named inside, like ``Hashable``'s, stays)."""
    out = list(members)
    plain_str, plain_bytes, plain_int = TypeRef("str"), TypeRef("bytes"), TypeRef("int")
    if PATH in out:
        had_str = plain_str in out
        out = [m for m in out if m != plain_str and not (had_str and m == plain_bytes)]
    if TypeRef("float") in out and plain_int in out and plain_int not in spliced:
        out.remove(plain_int)
    return out


def _lower_literal(args: tuple[Node, ...], ctx: LowerContext, st: _State) -> TypeRef:
    kinds: list[TypeRef] = []
    has_none = False
    stack = list(args)
    while stack:
        arg = stack.pop(0)
        if isinstance(arg, Subscript) and _head(arg) == "Literal":
            stack[:0] = list(arg.args)
            continue
        if isinstance(arg, Str):
            t = TypeRef("str")
        elif isinstance(arg, Const):
            if arg.value is None:
                has_none = True
                continue
            if isinstance(arg.value, bool):
                t = TypeRef("bool")
            elif isinstance(arg.value, int):
                t = TypeRef("int")
            else:
                raise _unsupported(f"Literal value {arg.value!r} is not a string/int/bool")
        elif isinstance(arg, Name) and len(arg.parts) >= 2:
            owner = ctx.resolver.resolve(ctx.module, arg.parts[:-1])
            if not (isinstance(owner, TypeRef) and owner.kind == "enum"):
                raise _unsupported(f"Literal member `{arg.dotted}` is not an enum member")
            t = owner
        else:
            raise _unsupported(f"Literal value `{render(arg)}` is not a string/int/bool")
        if t not in kinds:
            kinds.append(t)
    if not kinds:
        raise _unsupported("`Literal[None]` outside Optional")
    t = kinds[0] if len(kinds) == 1 else TypeRef("union", tuple(kinds))  # mixed kinds: checked union
    return option_of(t) if has_none else t


def _lower_callable(args: tuple[Node, ...], ctx: LowerContext, st: _State) -> TypeRef:
    params_node, ret_node = args
    params_node = _strip_str(params_node, ctx)
    if isinstance(params_node, Ellipsis_):
        raise _Skip(SkipReason.SkipParamSpec, "`Callable[..., R]`")
    if _head(params_node) == "Concatenate":
        raise _Skip(SkipReason.SkipParamSpec, "`Concatenate`")
    if isinstance(params_node, Name):
        resolved = None
        if not params_node.typing_origin:
            resolved = ctx.resolver.resolve(ctx.module, params_node.parts)
        is_ps = isinstance(resolved, ResolvedTypeVar) and resolved.kind == "ParamSpec"
        is_ps = is_ps or any(n == params_node.parts[0] and k == "ParamSpec" for n, k in ctx.type_params)
        if is_ps:
            raise _Skip(SkipReason.SkipParamSpec, f"ParamSpec `{params_node.dotted}`")
    if not isinstance(params_node, ListExpr):
        raise _unsupported("Callable parameters must be a list `[A, B]`")
    params = tuple(_lower(p, ctx, replace(st, in_callable=True)) for p in params_node.items)
    ret_node = _strip_str(ret_node, ctx)
    ret = UNIT if _is_no_value(ret_node) else _lower(ret_node, ctx, st)
    if not (ctx.callables_cross if ctx.callables_cross is not None else callable_targets_ok(ctx.target)):
        raise _Skip(SkipReason.SkipTargetUnrepresentable,
                    f"callables cannot cross the boundary on target {ctx.target}")
    return TypeRef("callable", (ret, *params))
