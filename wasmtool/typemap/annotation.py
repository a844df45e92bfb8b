"""Annotation text -> a small annotation AST, and name canonicalisation.

Grammar (a subset of Python expressions, parsed with :mod:`ast` in ``eval`` mode)::

    ann     := union
    union   := primary ( "|" primary )*                      -> Union
    primary := name [ "[" args "]" ]                          -> Name / Subscript
             | "..."                                          -> Ellipsis
             | STRING                                         -> Str (forward ref or Literal value)
             | NUMBER | "-" NUMBER | True | False | None | BYTES -> Const
             | "[" [ ann ( "," ann )* ] "]"                   -> ListExpr (Callable parameters)
             | "(" [ ann ( "," ann )* ] ")"                   -> TupleExpr (``tuple[()]``)
             | "*" primary                                    -> Starred (``*Ts``)
             | "(" ann ")"
    name    := IDENT ( "." IDENT )*
    args    := ann ( "," ann )* | "(" ")"

Anything else becomes :class:`Unsupported` (never an exception): the table turns it into
a skip. :func:`normalise` rewrites module aliases (``import typing as t``) and strips
``typing.``, ``typing_extensions.``, ``collections.abc.`` and ``builtins.`` prefixes.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "STRIPPED_MODULES",
    "Const",
    "Ellipsis_",
    "ListExpr",
    "Name",
    "Node",
    "Starred",
    "Str",
    "Subscript",
    "TupleExpr",
    "Union",
    "Unsupported",
    "names_in",
    "normalise",
    "parse_annotation",
    "render",
]

#: Module prefixes removed from names (``typing.Optional`` -> ``Optional``).
STRIPPED_MODULES = ("typing_extensions", "typing", "collections.abc", "builtins")


@dataclass(frozen=True)
class Name:
    """A (dotted) name. ``typing_origin`` is set by :func:`normalise` when the name was
    spelled through a typing-like module (``t.List``, ``typing.Any``, an import from
    ``typing``), so it can never be a package class."""

    parts: tuple[str, ...]
    typing_origin: bool = False

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Subscript:
    base: Name
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Union:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Ellipsis_:
    pass


@dataclass(frozen=True)
class Str:
    """A string: a forward reference in type positions, a value inside ``Literal``."""

    value: str


@dataclass(frozen=True)
class Const:
    value: int | float | bool | bytes | None


@dataclass(frozen=True)
class ListExpr:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class TupleExpr:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Starred:
    inner: Node


@dataclass(frozen=True)
class Unsupported:
    text: str


Node = Name | Subscript | Union | Ellipsis_ | Str | Const | ListExpr | TupleExpr | Starred | Unsupported


@lru_cache(maxsize=1 << 16)
def parse_annotation(text: str) -> Node:
    """Parse annotation ``text``; never raises (invalid text -> :class:`Unsupported`).

    Memoised: the nodes are immutable, and a large surface spells the same annotations
    (``int``, ``ArrayLike``, ``str | None``) tens of thousands of times."""
    source = text.strip()
    if source.startswith("*"):
        inner = parse_annotation(source[1:])
        return inner if isinstance(inner, Unsupported) else Starred(inner)
    try:
        expr = ast.parse(source, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return Unsupported(text)
    try:
        return _convert(expr)
    except RecursionError:
        return Unsupported(text)


def _convert(node: ast.expr) -> Node:
    if isinstance(node, ast.Name):
        return Name((node.id,))
    if isinstance(node, ast.Attribute):
        parts: list[str] = []
        cur: ast.expr = node
        while isinstance(cur, ast.Attribute):
            parts.append(cur.attr)
            cur = cur.value
        if isinstance(cur, ast.Name):
            parts.append(cur.id)
            return Name(tuple(reversed(parts)))
        return Unsupported(ast.unparse(node))
    if isinstance(node, ast.Subscript):
        base = _convert(node.value)
        if not isinstance(base, Name):
            return Unsupported(ast.unparse(node))
        sl = node.slice
        if isinstance(sl, ast.Tuple):
            if not sl.elts:
                return Subscript(base, (TupleExpr(()),))
            return Subscript(base, tuple(_convert(e) for e in sl.elts))
        return Subscript(base, (_convert(sl),))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        items: list[Node] = []
        for side in (node.left, node.right):
            conv = _convert(side)
            items.extend(conv.items if isinstance(conv, Union) else (conv,))
        return Union(tuple(items))
    if isinstance(node, ast.Constant):
        value = node.value
        if value is Ellipsis:
            return Ellipsis_()
        if isinstance(value, str):
            return Str(value)
        if value is None or isinstance(value, bool | int | float | bytes):
            return Const(value)
        return Unsupported(ast.unparse(node))
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, int | float)
            and not isinstance(node.operand.value, bool)):
        return Const(-node.operand.value)
    if isinstance(node, ast.List):
        return ListExpr(tuple(_convert(e) for e in node.elts))
    if isinstance(node, ast.Tuple):
        return TupleExpr(tuple(_convert(e) for e in node.elts))
    if isinstance(node, ast.Starred):
        return Starred(_convert(node.value))
    return Unsupported(ast.unparse(node))


def normalise(node: Node, aliases: Mapping[str, str] | None = None) -> Node:
    """Rewrite module aliases and strip typing-like prefixes, recursively.

    ``aliases`` maps a local name to the dotted name it stands for: ``{"t": "typing",
    "Opt": "typing.Optional", "abc": "collections.abc"}``. Only aliases into typing-like
    modules should be passed; other names are left for the resolver.
    """
    aliases = aliases or {}
    if isinstance(node, Name):
        return _normalise_name(node, aliases)
    if isinstance(node, Subscript):
        base = _normalise_name(node.base, aliases)
        return Subscript(base, tuple(normalise(a, aliases) for a in node.args))
    if isinstance(node, Union):
        return Union(tuple(normalise(a, aliases) for a in node.items))
    if isinstance(node, ListExpr):
        return ListExpr(tuple(normalise(a, aliases) for a in node.items))
    if isinstance(node, TupleExpr):
        return TupleExpr(tuple(normalise(a, aliases) for a in node.items))
    if isinstance(node, Starred):
        return Starred(normalise(node.inner, aliases))
    return node


def _normalise_name(name: Name, aliases: Mapping[str, str]) -> Name:
    parts = name.parts
    origin = name.typing_origin
    target = aliases.get(parts[0])
    if target is not None:
        parts = (*target.split("."), *parts[1:])
    dotted = ".".join(parts)
    for mod in STRIPPED_MODULES:
        if dotted.startswith(mod + ".") and len(dotted) > len(mod) + 1:
            rest = dotted[len(mod) + 1:]
            return Name(tuple(rest.split(".")), True)
    if dotted == "types.NoneType":
        return Name(("NoneType",), True)
    return Name(parts, origin)


def render(node: Node) -> str:
    """Annotation text of ``node`` (for skip details and hints)."""
    if isinstance(node, Name):
        return node.dotted
    if isinstance(node, Subscript):
        args = ", ".join(render(a) for a in node.args)
        return f"{node.base.dotted}[{args}]"
    if isinstance(node, Union):
        return " | ".join(render(a) for a in node.items)
    if isinstance(node, Ellipsis_):
        return "..."
    if isinstance(node, Str):
        return repr(node.value)
    if isinstance(node, Const):
        return repr(node.value)
    if isinstance(node, ListExpr):
        return "[" + ", ".join(render(a) for a in node.items) + "]"
    if isinstance(node, TupleExpr):
        return "(" + ", ".join(render(a) for a in node.items) + ("," if len(node.items) == 1 else "") + ")"
    if isinstance(node, Starred):
        return "*" + render(node.inner)
    return node.text


def names_in(node: Node) -> list[Name]:
    """Every :class:`Name` in ``node`` (not inside strings), in order."""
    out: list[Name] = []
    stack: list[Node] = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, Name):
            out.append(cur)
        elif isinstance(cur, Subscript):
            out.append(cur.base)
            stack.extend(reversed(cur.args))
        elif isinstance(cur, Union | ListExpr | TupleExpr):
            stack.extend(reversed(cur.items))
        elif isinstance(cur, Starred):
            stack.append(cur.inner)
    return out
