"""The grammar of the emitted shim subset (``grammar/shim.lark``) and its checker.

Users get the same check wasmtool's tests run: :func:`check_shim` parses a shim with
Lark (LALR) and then applies the rules a context-free grammar cannot state — Mochi
keywords are not names (mochi-grammar.md §1), every referenced type is declared (the
checker's T025), no name is declared twice. The oracles in the test suite (Mochi's own
parser and checker) must agree with it on every emitted shim.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from wasmtool.mochi_syntax import MOCHI_KEYWORDS
from wasmtool.synth.errors import ShimSyntaxError

__all__ = ["check_shim", "shim_parser"]

_BUILTIN_NAMES = frozenset({"int", "float", "bool", "string", "any"})


@cache
def shim_parser() -> Lark:
    text = resources.files("wasmtool.synth").joinpath("grammar/shim.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr", propagate_positions=True)


def _names(tree: Tree[Token], rule: str) -> list[Token]:
    return [t for sub in tree.find_data(rule) for t in sub.children if isinstance(t, Token) and t.type == "NAME"]


def check_shim(text: str, *, file: str = "<shim>") -> Tree[Token]:
    """Parse ``text``; raise :class:`ShimSyntaxError` (with line:column) if it is outside the subset."""
    try:
        tree = shim_parser().parse(text)
    except UnexpectedInput as exc:
        raise ShimSyntaxError(f"line {exc.line}, column {exc.column}: {exc.__class__.__name__}: "
                              f"{str(exc).splitlines()[0]}", file=file) from None
    except LarkError as exc:  # pragma: no cover - lark's other failures carry no position
        raise ShimSyntaxError(str(exc), file=file) from None
    declared: dict[str, int] = {}
    for rule in ("handle_decl", "alias_decl", "record_decl", "extern_decl"):
        for node in tree.find_data(rule):
            name = node.children[0]
            assert isinstance(name, Token)
            if str(name) in declared:
                raise ShimSyntaxError(f"line {name.line}: {name} is declared twice (first on line "
                                      f"{declared[str(name)]})", file=file)
            declared[str(name)] = name.line or 0
    for rule in ("handle_decl", "alias_decl", "record_decl", "extern_decl", "field", "param"):
        for tok in _names(tree, rule):
            if str(tok) in MOCHI_KEYWORDS:
                raise ShimSyntaxError(f"line {tok.line}, column {tok.column}: {tok} is a Mochi keyword",
                                      file=file)
    records = {str(n.children[0]) for n in tree.find_data("record_decl")}
    aliases: dict[str, Token] = {}
    for rule in ("handle_decl", "alias_decl"):
        for n in tree.find_data(rule):
            head = n.children[0]
            assert isinstance(head, Token)
            aliases[str(head)] = head
    for node in tree.find_data("named"):
        ref = node.children[0]
        assert isinstance(ref, Token)
        ref_name = str(ref)
        if ref_name in _BUILTIN_NAMES or ref_name in records:
            continue  # records may be referred to before their declaration
        decl = aliases.get(ref_name)
        if decl is None:
            raise ShimSyntaxError(f"line {ref.line}, column {ref.column}: unknown type {ref} (T025)", file=file)
        if (decl.line or 0) >= (ref.line or 0):
            # Mochi's checker reports T025 for a type alias used before its declaration
            raise ShimSyntaxError(f"line {ref.line}, column {ref.column}: type alias {ref} is used before its "
                                  f"declaration on line {decl.line} (T025)", file=file)
    return tree
