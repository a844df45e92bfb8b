"""A runner for the small subset of Mochi 0.10 programs the tests and examples use.

No Mochi binary is used. The subset::

    import python "<dotted.module>" as <alias>
    type <Name> = int | float | bool | string | any
    type <Name> { <field>: <type>, ... }
    extern fun <alias>.<name>(<param>: <type>, ...)[: <type>]
    let <name> = <expr>
    print(<expr>, ...)
    <alias>.<name>(<expr>, ...)          a call whose result is dropped

Types: ``int float bool string any list<T> set<T> map<K, V> T?`` and declared names.
Expressions: string (``\\n \\t \\" \\\\`` escapes), int, float, ``true``/``false``, ``null``,
``[...]``, ``{"key": value, ...}``, names, calls ``alias.name(...)`` and indexing ``x[k]``.
Comments are ``//``. Anything else is rejected with ``file:line:column``.

:func:`load` parses and type-checks a program as Mochi's checker would before running
anything: a call must name a declared extern, with the declared number of arguments, each of
a type the parameter accepts (an int literal is accepted for a float, ``any`` accepts every
value, ``null`` only an option). :meth:`Program.run` runs it, each call through
:func:`tests.support.mochi_ffi.call`, and returns what ``print`` printed.

Command line (under ``wasmtool exec``): ``python -m tests.support.mochi_program run main.mochi``
prints one JSON array per ``print``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedInput, VisitError

from tests.support import mochi_ffi

__all__ = ["MochiProgramError", "Program", "load", "main", "run"]

GRAMMAR = r"""
start: stmt*

?stmt: import_stmt | alias_stmt | record_stmt | extern_stmt | let_stmt | print_stmt | call_stmt
import_stmt: "import" "python" STRING "as" NAME
alias_stmt: "type" NAME "=" SCALAR
record_stmt: "type" NAME "{" field ("," field)* ","? "}"
field: NAME ":" type
extern_stmt: "extern" "fun" qualified "(" [param ("," param)*] ")" [":" type]
param: NAME ":" type
let_stmt: "let" NAME "=" expr
print_stmt: "print" "(" [expr ("," expr)*] ")"
call_stmt: qualified "(" [expr ("," expr)*] ")"
qualified: NAME ("." NAME)+

?type: base_type | base_type "?" -> option_type
?base_type: SCALAR -> scalar_type
          | "list" "<" type ">" -> list_type
          | "set" "<" type ">" -> set_type
          | "map" "<" type "," type ">" -> map_type
          | NAME -> named_type

?expr: atom | expr "[" expr "]" -> index
?atom: STRING -> str_lit
     | INT -> int_lit
     | FLOAT -> float_lit
     | "true" -> true
     | "false" -> false
     | "null" -> null
     | "[" [expr ("," expr)*] "]" -> list_lit
     | "{" [entry ("," entry)*] "}" -> map_lit
     | NAME -> name
     | qualified "(" [expr ("," expr)*] ")" -> call
entry: STRING ":" expr

SCALAR.2: /(int|float|bool|string|any)\b/
NAME: /[A-Za-z_][A-Za-z0-9_]*/
STRING: /"(\\.|[^"\\\n])*"/
FLOAT.2: /-?\d+\.\d+([eE][-+]?\d+)?/
INT: /-?\d+/
COMMENT: /\/\/[^\n]*/
%import common.WS
%ignore WS
%ignore COMMENT
"""

Pos = tuple[int, int]


class MochiProgramError(Exception):
    """A program outside the subset, one the checker rejects, or a failure while running."""


# -- types -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MType:
    """A checked type: a scalar/``null``/``void`` kind, a container with ``args``, or a record."""

    kind: str
    args: tuple[MType, ...] = ()
    name: str = ""

    def __str__(self) -> str:
        if self.kind == "option":
            return f"{self.args[0]}?"
        if self.kind == "record":
            return self.name
        if self.args:
            return f"{self.kind}<{', '.join(map(str, self.args))}>"
        return self.kind


ANY, INT, FLOAT, BOOL, STRING, NULL, VOID = (MType(k) for k in ("any", "int", "float", "bool", "string", "null",
                                                                "void"))


@dataclass(frozen=True)
class TypeSyntax:
    """A type as written (resolved once every ``type`` declaration is known)."""

    kind: str                        # scalar name, list, set, map, option or named
    args: tuple[TypeSyntax, ...] = ()
    name: str = ""
    pos: Pos = (0, 0)


# -- syntax tree -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expr:
    pos: Pos


@dataclass(frozen=True)
class Literal(Expr):
    value: Any
    type: MType


@dataclass(frozen=True)
class ListLit(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class MapLit(Expr):
    entries: tuple[tuple[str, Expr], ...]


@dataclass(frozen=True)
class Name(Expr):
    name: str


@dataclass(frozen=True)
class Call(Expr):
    qualified: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Index(Expr):
    target: Expr
    key: Expr


@dataclass(frozen=True)
class Stmt:
    kind: str                        # import, alias, record, extern, let, print, call
    pos: Pos
    name: str = ""
    value: Any = None                # module path, scalar, fields, (params, returns), Expr, args


def _pos(tok: Token) -> Pos:
    return (tok.line or 0, tok.column or 0)


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(tok: Token) -> str:
    out: list[str] = []
    body = iter(str(tok)[1:-1])
    for ch in body:
        if ch == "\\":
            esc = next(body)
            if esc not in _ESCAPES:
                raise MochiProgramError(f"{tok.line}:{tok.column}: unsupported escape \\{esc} in a string")
            ch = _ESCAPES[esc]
        out.append(ch)
    return "".join(out)


@v_args(meta=True)
class _Build(Transformer[Token, list[Stmt]]):
    """Lark tree -> :class:`Stmt` / :class:`Expr` / :class:`TypeSyntax`."""

    def start(self, meta: Any, children: list[Stmt]) -> list[Stmt]:
        return children

    def import_stmt(self, meta: Any, c: list[Token]) -> Stmt:
        return Stmt("import", _pos(c[1]), str(c[1]), _unquote(c[0]))

    def alias_stmt(self, meta: Any, c: list[Token]) -> Stmt:
        return Stmt("alias", _pos(c[0]), str(c[0]), str(c[1]))

    def record_stmt(self, meta: Any, c: list[Any]) -> Stmt:
        return Stmt("record", _pos(c[0]), str(c[0]), tuple(c[1:]))

    def field(self, meta: Any, c: list[Any]) -> tuple[str, TypeSyntax, Pos]:
        return (str(c[0]), c[1], _pos(c[0]))

    param = field

    def extern_stmt(self, meta: Any, c: list[Any]) -> Stmt:
        qual, pos = c[0]
        params = tuple(p for p in c[1:-1] if p is not None)
        return Stmt("extern", pos, qual, (params, c[-1]))

    def let_stmt(self, meta: Any, c: list[Any]) -> Stmt:
        return Stmt("let", _pos(c[0]), str(c[0]), c[1])

    def print_stmt(self, meta: Any, c: list[Any]) -> Stmt:
        return Stmt("print", (meta.line, meta.column), "print", tuple(x for x in c if x is not None))

    def call_stmt(self, meta: Any, c: list[Any]) -> Stmt:
        call = self.call(meta, c)
        return Stmt("call", call.pos, "", call)

    def qualified(self, meta: Any, c: list[Token]) -> tuple[str, Pos]:
        return ".".join(map(str, c)), _pos(c[0])

    def scalar_type(self, meta: Any, c: list[Token]) -> TypeSyntax:
        return TypeSyntax(str(c[0]), pos=_pos(c[0]))

    def named_type(self, meta: Any, c: list[Token]) -> TypeSyntax:
        return TypeSyntax("named", name=str(c[0]), pos=_pos(c[0]))

    def option_type(self, meta: Any, c: list[TypeSyntax]) -> TypeSyntax:
        return TypeSyntax("option", (c[0],), pos=c[0].pos)

    def list_type(self, meta: Any, c: list[TypeSyntax]) -> TypeSyntax:
        return TypeSyntax("list", (c[0],), pos=(meta.line, meta.column))

    def set_type(self, meta: Any, c: list[TypeSyntax]) -> TypeSyntax:
        return TypeSyntax("set", (c[0],), pos=(meta.line, meta.column))

    def map_type(self, meta: Any, c: list[TypeSyntax]) -> TypeSyntax:
        return TypeSyntax("map", (c[0], c[1]), pos=(meta.line, meta.column))

    def str_lit(self, meta: Any, c: list[Token]) -> Expr:
        return Literal(_pos(c[0]), _unquote(c[0]), STRING)

    def int_lit(self, meta: Any, c: list[Token]) -> Expr:
        return Literal(_pos(c[0]), int(c[0]), INT)

    def float_lit(self, meta: Any, c: list[Token]) -> Expr:
        return Literal(_pos(c[0]), float(c[0]), FLOAT)

    def true(self, meta: Any, c: list[Any]) -> Expr:
        return Literal((meta.line, meta.column), True, BOOL)

    def false(self, meta: Any, c: list[Any]) -> Expr:
        return Literal((meta.line, meta.column), False, BOOL)

    def null(self, meta: Any, c: list[Any]) -> Expr:
        return Literal((meta.line, meta.column), None, NULL)

    def list_lit(self, meta: Any, c: list[Expr | None]) -> Expr:
        return ListLit((meta.line, meta.column), tuple(x for x in c if x is not None))

    def entry(self, meta: Any, c: list[Any]) -> tuple[str, Expr]:
        return (_unquote(c[0]), c[1])

    def map_lit(self, meta: Any, c: list[tuple[str, Expr] | None]) -> Expr:
        return MapLit((meta.line, meta.column), tuple(x for x in c if x is not None))

    def name(self, meta: Any, c: list[Token]) -> Expr:
        return Name(_pos(c[0]), str(c[0]))

    def call(self, meta: Any, c: list[Any]) -> Expr:
        qual, pos = c[0]
        return Call(pos, qual, tuple(x for x in c[1:] if x is not None))

    def index(self, meta: Any, c: list[Expr]) -> Expr:
        return Index(c[1].pos, c[0], c[1])


@cache
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=True)


# -- the checked program -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Extern:
    module: str                      # the imported Python module
    attr: str                        # the attribute path after the alias (dotted)
    params: tuple[tuple[str, MType], ...]
    returns: MType


@dataclass
class Program:
    """A parsed and checked program (:func:`load`)."""

    file: str
    statements: list[Stmt]
    imports: dict[str, str] = field(default_factory=dict)
    records: dict[str, dict[str, MType]] = field(default_factory=dict)
    externs: dict[str, Extern] = field(default_factory=dict)

    def fail(self, pos: Pos, message: str) -> MochiProgramError:
        return MochiProgramError(f"{self.file}:{pos[0]}:{pos[1]}: {message}")

    # -- checking

    def resolve(self, t: TypeSyntax, aliases: Mapping[str, str]) -> MType:
        if t.kind == "named":
            if t.name in aliases:
                return MType(aliases[t.name])
            if t.name in self.records:
                return MType("record", name=t.name)
            raise self.fail(t.pos, f"unknown type {t.name}")
        return MType(t.kind, tuple(self.resolve(a, aliases) for a in t.args))

    def declare(self) -> None:
        names: dict[str, Pos] = {}
        for st in self.statements:
            if st.kind in ("alias", "record", "import"):
                if st.name in names:
                    raise self.fail(st.pos, f"{st.name} is declared twice (first at {names[st.name][0]}:"
                                            f"{names[st.name][1]})")
                names[st.name] = st.pos
        aliases = {st.name: st.value for st in self.statements if st.kind == "alias"}
        self.imports = {st.name: st.value for st in self.statements if st.kind == "import"}
        self.records = {st.name: {} for st in self.statements if st.kind == "record"}
        for st in self.statements:
            if st.kind == "record":
                for fname, ftype, fpos in st.value:
                    if fname in self.records[st.name]:
                        raise self.fail(fpos, f"field {fname} is declared twice in {st.name}")
                    self.records[st.name][fname] = self.resolve(ftype, aliases)
            elif st.kind == "extern":
                alias, _, attr = st.name.partition(".")
                if alias not in self.imports:
                    raise self.fail(st.pos, f"extern fun {st.name}: {alias} is not an imported python module")
                if st.name in self.externs:
                    raise self.fail(st.pos, f"extern fun {st.name} is declared twice")
                params, returns = st.value
                self.externs[st.name] = Extern(
                    self.imports[alias], attr, tuple((n, self.resolve(t, aliases)) for n, t, _ in params),
                    VOID if returns is None else self.resolve(returns, aliases))

    def check(self) -> None:
        self.declare()
        scope: dict[str, MType] = {}
        for st in self.statements:
            if st.kind == "let":
                if st.name in scope or st.name in self.imports:
                    raise self.fail(st.pos, f"{st.name} is already defined")
                scope[st.name] = self.value_type(st.value, scope)
            elif st.kind == "print":
                for arg in st.value:
                    self.value_type(arg, scope)
            elif st.kind == "call":
                self.infer(st.value, scope)

    def value_type(self, e: Expr, scope: Mapping[str, MType]) -> MType:
        t = self.infer(e, scope)
        if t == VOID:
            raise self.fail(e.pos, "this call returns no value")
        return t

    def infer(self, e: Expr, scope: Mapping[str, MType]) -> MType:
        if isinstance(e, Literal):
            return e.type
        if isinstance(e, ListLit):
            items = {self.value_type(x, scope) for x in e.items}
            return MType("list", (items.pop() if len(items) == 1 else ANY,))
        if isinstance(e, MapLit):
            values = {self.value_type(v, scope) for _, v in e.entries}
            return MType("map", (STRING, values.pop() if len(values) == 1 else ANY))
        if isinstance(e, Name):
            if e.name not in scope:
                raise self.fail(e.pos, f"undefined name {e.name}")
            return scope[e.name]
        if isinstance(e, Call):
            ext = self.externs.get(e.qualified)
            if ext is None:
                raise self.fail(e.pos, f"unknown extern {e.qualified} (declare it with `extern fun`)")
            if len(e.args) != len(ext.params):
                raise self.fail(e.pos, f"{e.qualified} takes {len(ext.params)} argument(s), got {len(e.args)}")
            for arg, (pname, ptype) in zip(e.args, ext.params, strict=True):
                self.check_arg(arg, ptype, scope, f"argument {pname} of {e.qualified}")
            return ext.returns
        if isinstance(e, Index):
            return self.index_type(e, scope)
        raise AssertionError(e)

    def index_type(self, e: Index, scope: Mapping[str, MType]) -> MType:
        target = self.value_type(e.target, scope)
        if target.kind == "option":
            raise self.fail(e.pos, f"cannot index a value of type {target} (it may be null)")
        if target == ANY:
            self.value_type(e.key, scope)
            return ANY
        if target.kind == "record":
            fields = self.records[target.name]
            if not (isinstance(e.key, Literal) and e.key.value in fields):
                raise self.fail(e.pos, f"{target.name} has the fields {', '.join(fields)}")
            return fields[e.key.value]
        if target.kind == "map":
            self.check_arg(e.key, target.args[0], scope, "the map key")
            return target.args[1]
        if target.kind in ("list", "string"):
            self.check_arg(e.key, INT, scope, "the index")
            return target.args[0] if target.kind == "list" else STRING
        raise self.fail(e.pos, f"cannot index a value of type {target}")

    def check_arg(self, e: Expr, want: MType, scope: Mapping[str, MType], what: str) -> None:
        if want.kind == "option" and not (isinstance(e, Literal) and e.value is None):
            want = want.args[0]
        if isinstance(e, ListLit) and want.kind == "list":
            for item in e.items:
                self.check_arg(item, want.args[0], scope, f"an item of {what}")
            return
        if isinstance(e, MapLit) and want.kind == "map":
            for key, value in e.entries:
                self.check_arg(Literal(value.pos, key, STRING), want.args[0], scope, f"a key of {what}")
                self.check_arg(value, want.args[1], scope, f"a value of {what}")
            return
        got = self.value_type(e, scope)
        int_literal = isinstance(e, Literal) and got == INT
        if not (assignable(got, want) or (int_literal and want == FLOAT)):
            raise self.fail(e.pos, f"{what} must be {want}, got {got}")

    # -- running

    def run(self, *, env: Mapping[str, str], cwd: Path | None = None) -> list[tuple[Any, ...]]:
        """Run the statements; each call is one :func:`mochi_ffi.call`. Returns the printed values."""
        values: dict[str, Any] = {}
        printed: list[tuple[Any, ...]] = []
        for st in self.statements:
            if st.kind == "let":
                values[st.name] = self.eval(st.value, values, env, cwd)
            elif st.kind == "print":
                printed.append(tuple(self.eval(a, values, env, cwd) for a in st.value))
            elif st.kind == "call":
                self.eval(st.value, values, env, cwd)
        return printed

    def eval(self, e: Expr, values: Mapping[str, Any], env: Mapping[str, str], cwd: Path | None) -> Any:
        if isinstance(e, Literal):
            return e.value
        if isinstance(e, ListLit):
            return [self.eval(x, values, env, cwd) for x in e.items]
        if isinstance(e, MapLit):
            return {k: self.eval(v, values, env, cwd) for k, v in e.entries}
        if isinstance(e, Name):
            return values[e.name]
        if isinstance(e, Call):
            ext = self.externs[e.qualified]
            args = [self.eval(a, values, env, cwd) for a in e.args]
            return mochi_ffi.call(ext.module, ext.attr, args, env=env, cwd=cwd)
        if isinstance(e, Index):
            target = self.eval(e.target, values, env, cwd)
            key = self.eval(e.key, values, env, cwd)
            if isinstance(target, (list, str)) and isinstance(key, float) and key.is_integer():
                key = int(key)
            try:
                return target[key]
            except (KeyError, IndexError, TypeError) as exc:
                raise self.fail(e.pos, f"index {key!r} of {type(target).__name__}: {exc!r}") from None
        raise AssertionError(e)


def assignable(got: MType, want: MType) -> bool:
    """Whether a value of static type ``got`` may be passed where ``want`` is declared."""
    if ANY in (got, want):
        return True
    if want.kind == "option":
        return got == NULL or assignable(got.args[0] if got.kind == "option" else got, want.args[0])
    if got.kind != want.kind or got.name != want.name or len(got.args) != len(want.args):
        return False
    return all(assignable(g, w) for g, w in zip(got.args, want.args, strict=True))


def load(text: str, *, file: str = "<program>") -> Program:
    """Parse ``text`` (the subset only) and type-check it; errors name ``file:line:column``."""
    try:
        tree = _parser().parse(text)
        statements = _Build().transform(tree)
    except UnexpectedInput as exc:
        context = exc.get_context(text).rstrip()
        raise MochiProgramError(f"{file}:{exc.line}:{exc.column}: not in the supported Mochi subset\n"
                                f"{context}") from None
    except VisitError as exc:
        if isinstance(exc.orig_exc, MochiProgramError):
            raise MochiProgramError(f"{file}:{exc.orig_exc}") from None
        raise
    program = Program(file, statements)
    program.check()
    return program


def run(path: Path, *, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> list[tuple[Any, ...]]:
    """Load, check and run the program in ``path``."""
    program = load(path.read_text(encoding="utf-8"), file=str(path))
    return program.run(env=os.environ if env is None else env, cwd=cwd)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tests.support.mochi_program run FILE``: one JSON array per ``print``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] != "run":
        print("usage: python -m tests.support.mochi_program run FILE.mochi", file=sys.stderr)
        return 2
    try:
        printed = run(Path(args[1]))
    except (MochiProgramError, mochi_ffi.MochiFfiError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for values in printed:
        print(json.dumps(list(values), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
