"""The grammar of the emitted shim subset (``grammar/shim.lark``) and its checks.

Users get the same check wasmtool's tests run: :func:`check_shim` parses a shim with
Lark (LALR) and then applies the rules a context-free grammar cannot state: the extern form
of the dialect, Mochi keywords are not names, and (:func:`check_declared_types`) every
referenced type is declared before use, as Mochi's checker requires (its error T025), with no
name declared twice. No Mochi binary is involved: these checks are the project's own.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from wasmtool.mochi_syntax import MOCHI_KEYWORDS
from wasmtool.synth.errors import ShimSyntaxError

__all__ = ["check_declared_types", "check_shim", "shim_parser"]

_BUILTIN_NAMES = frozenset({"int", "float", "bool", "string", "any"})


@cache
def shim_parser() -> Lark:
    text = resources.files("wasmtool.synth").joinpath("grammar/shim.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr")   # tokens carry their line and column; no tree node is asked for its position


#: A parse tree's nodes by rule name, each list in the order of ``Tree.find_data`` (one walk of
#: the tree instead of one per rule: a shim of a large package has hundreds of thousands of nodes)
_Nodes = dict[str, list[Tree[Token]]]


def _nodes_by_rule(tree: Tree[Token]) -> _Nodes:
    nodes: _Nodes = {}
    for sub in tree.iter_subtrees():
        nodes.setdefault(str(sub.data), []).append(sub)
    return nodes


def _names(nodes: _Nodes, rule: str) -> list[Token]:
    return [t for sub in nodes.get(rule, ()) for t in sub.children if isinstance(t, Token) and t.type == "NAME"]


def _fail(tok: Token, message: str, file: str) -> ShimSyntaxError:
    return ShimSyntaxError(f"line {tok.line}, column {tok.column}: {message}", file=file)


def _check_dialect(nodes: _Nodes, dialect: str, file: str) -> None:
    """The extern form and the ``import python`` header a dialect allows."""
    imports = nodes.get("import_decl", [])
    mep71 = nodes.get("extern_decl", [])
    ffi = nodes.get("extern_010", [])
    if dialect == "mep-71":
        for node in imports + ffi:
            first = node.children[0]
            assert isinstance(first, Token)
            raise _fail(first, "the mep-71 dialect has no `import python` line and no `extern fun a.b`", file)
        return
    if dialect != "0.10":
        raise ShimSyntaxError(f"unknown Mochi dialect {dialect!r}", file=file)
    for node in mep71:
        name = node.children[0]
        assert isinstance(name, Token)
        raise _fail(name, "`extern python fun` is not Mochi 0.10 syntax (use `extern fun alias.name`)", file)
    if len(imports) != 1:
        raise ShimSyntaxError(f"a 0.10 shim has exactly one `import python` line, found {len(imports)}", file=file)
    alias = imports[0].children[1]
    assert isinstance(alias, Token)
    for node in ffi:
        qual = node.children[0]
        assert isinstance(qual, Token)
        if str(qual) != str(alias):
            raise _fail(qual, f"extern fun {qual}.… does not use the imported alias {alias}", file)


def check_declared_types(tree: Tree[Token], *, file: str = "<shim>") -> None:
    """Every type the shim names is a built-in or declared in it, aliases before their first
    use (what Mochi's checker reports as T025); no name is declared twice."""
    _check_declared(_nodes_by_rule(tree), file)


def _check_declared(nodes: _Nodes, file: str) -> None:
    declared: dict[str, int] = {}
    for rule in ("handle_decl", "alias_decl", "record_decl", "extern_decl", "extern_010"):
        for node in nodes.get(rule, ()):
            parts = [t for t in node.children[:2 if rule == "extern_010" else 1] if isinstance(t, Token)]
            name = parts[-1]
            key = ".".join(str(t) for t in parts)
            if key in declared:
                raise _fail(name, f"{key} is declared twice (first on line {declared[key]})", file)
            declared[key] = name.line or 0
    records = {str(n.children[0]) for n in nodes.get("record_decl", ())}
    aliases: dict[str, Token] = {}
    for rule in ("handle_decl", "alias_decl"):
        for n in nodes.get(rule, ()):
            head = n.children[0]
            assert isinstance(head, Token)
            aliases[str(head)] = head
    for node in nodes.get("named", ()):
        ref = node.children[0]
        assert isinstance(ref, Token)
        ref_name = str(ref)
        if ref_name in _BUILTIN_NAMES or ref_name in records:
            continue  # records may be referred to before their declaration
        decl = aliases.get(ref_name)
        if decl is None:
            raise _fail(ref, f"unknown type {ref} (T025)", file)
        if (decl.line or 0) >= (ref.line or 0):
            # Mochi's checker reports T025 for a type alias used before its declaration
            raise _fail(ref, f"type alias {ref} is used before its declaration on line {decl.line} (T025)", file)


def check_shim(text: str, *, dialect: str = "0.10", file: str = "<shim>") -> Tree[Token]:
    """Parse ``text`` as a shim of ``dialect``; raise :class:`ShimSyntaxError` (with
    line:column) if it is outside the emitted subset or names an undeclared type."""
    try:
        tree = shim_parser().parse(text)
    except UnexpectedInput as exc:
        raise ShimSyntaxError(f"line {exc.line}, column {exc.column}: {exc.__class__.__name__}: "
                              f"{str(exc).splitlines()[0]}", file=file) from None
    except LarkError as exc:  # pragma: no cover - lark's other failures carry no position
        raise ShimSyntaxError(str(exc), file=file) from None
    nodes = _nodes_by_rule(tree)
    _check_dialect(nodes, dialect, file)
    for rule in ("import_decl", "handle_decl", "alias_decl", "record_decl", "extern_decl", "extern_010", "field",
                 "param"):
        for tok in _names(nodes, rule):
            if str(tok) in MOCHI_KEYWORDS:
                raise _fail(tok, f"{tok} is a Mochi keyword", file)
    _check_declared(nodes, file)
    return tree
