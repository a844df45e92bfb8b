"""Parse a ``.pyi`` stub (or a typed ``.py`` module) into a :class:`ModuleStub`.

Built on the stdlib :mod:`ast` module. The parse is evaluated for ONE target, passed in:
``python_version`` and ``platform`` decide ``if sys.version_info >= (3, N):`` and
``if sys.platform == "...":`` branches; the host interpreter is never consulted for that.
Conditions that cannot be decided statically (anything else) keep both branches, like
mypy does; ``if TYPE_CHECKING:`` is always taken.

Recognised module-level forms::

    import m [as n] | from [.]m import a [as b], ... | from m import *
    def f[T](p, /, q: A = ..., *args: B, k: C, **kw: D) -> R   (sync, async, @overload)
    class C[T](Base, metaclass=M, total=False): ...              (nested classes too)
    NAME: T [= v]        -> constant        NAME: TypeAlias = T / type NAME[T] = T -> alias
    NAME = T (a type expression) -> alias   NAME = literal -> constant (type inferred)
    NAME = TypeVar("NAME", ...) / ParamSpec / TypeVarTuple / NewType("NAME", T)
    NAME = NamedTuple("NAME", [...]) / TypedDict("NAME", {...}, total=...)
    __all__ = [...] | (...) ; __all__ += [...] | m.__all__ ; __all__.extend/append(...)
    if <cond>: ... elif ...: ... else: ...    try: ... except ...: ...

Reading a file (bytes, BOM, PEP 263 cookie) is separate: :func:`read_stub`.
"""

from __future__ import annotations

import ast
import builtins
import io
import tokenize
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from wasmtool.stubs.errors import StubDecodeError, StubReadError, StubSyntaxError
from wasmtool.stubs.model import (
    AliasDecl,
    ClassDecl,
    ConstDecl,
    EnumMember,
    FieldDecl,
    FuncDecl,
    ImportDecl,
    LiteralValue,
    ModuleStub,
    ParamDecl,
    ParamDeclKind,
    PropertyDecl,
    TypeParam,
    TypeVarDecl,
    TypeVarKind,
)

__all__ = ["decode_stub", "parse_stub", "read_stub"]

_TYPING = ("typing", "typing_extensions")
_ENUM_BASES = frozenset({"Enum", "IntEnum", "StrEnum", "Flag", "IntFlag", "ReprEnum"})
_EXCEPTION_NAMES = frozenset(
    name for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
) | {"ExceptionGroup", "BaseExceptionGroup", "PythonFinalizationError"}
_EXC_SUFFIXES = ("Error", "Exception", "Warning", "Exit", "Interrupt")
_ATTRS_DECORATORS = frozenset({
    "attr.s", "attr.attrs", "attr.define", "attr.mutable", "attr.frozen", "attr.dataclass",
    "attrs.define", "attrs.mutable", "attrs.frozen", "define", "mutable", "frozen",
})
_PROPERTY_DECORATORS = frozenset({
    "property", "builtins.property", "functools.cached_property", "cached_property",
    "abc.abstractproperty", "abstractproperty", "types.DynamicClassAttribute",
})
_FIELD_CALLS = frozenset({
    "dataclasses.field", "field", "attr.ib", "attr.attrib", "attrs.field", "ib", "attrib",
})
_PEP695_MARK = "__wasmtool_pep695__"


# ---------------------------------------------------------------------------------------------
# public API


def parse_stub(
    text: str,
    *,
    module: str,
    file: str,
    python_version: tuple[int, int],
    platform: str = "linux",
    is_package: bool | None = None,
    is_stub: bool | None = None,
) -> ModuleStub:
    """Parse stub ``text`` of ``module`` for the target ``python_version``/``platform``.

    ``is_package`` (does ``module`` name a package, i.e. an ``__init__`` file) and
    ``is_stub`` (``.pyi`` rather than ``.py``) default to what ``file`` says.
    Raises :class:`StubSyntaxError` (file, line, column, pointer) for invalid source.
    """
    base = file.replace("\\", "/").rsplit("/", 1)[-1]
    if is_package is None:
        is_package = base.startswith("__init__.")
    if is_stub is None:
        is_stub = not base.endswith(".py")
    if text.startswith("\ufeff"):
        text = text[1:]
    source, pep695 = _rewrite_pep695(text)
    tree = _parse_source(source, text, file=file, module=module)
    try:
        return _ModuleParser(
            module=module, file=file, is_package=is_package, is_stub=is_stub,
            python_version=(int(python_version[0]), int(python_version[1])),
            platform=platform, pep695=pep695,
        ).run(tree)
    except RecursionError as exc:
        raise StubSyntaxError("stub is nested too deeply to analyse", file=file, module=module) from exc


def decode_stub(data: bytes, *, file: str) -> str:
    """Decode stub bytes: UTF-8 BOM or a PEP 263 coding cookie, else UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise StubDecodeError(f"cannot determine the encoding: {exc.msg}", file=file) from exc
    try:
        text = data.decode("utf-8-sig" if encoding == "utf-8-sig" else encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise StubDecodeError(f"not valid {encoding}: {exc}", file=file) from exc
    return text


def read_stub(
    path: Path,
    *,
    module: str,
    python_version: tuple[int, int],
    platform: str = "linux",
) -> ModuleStub:
    """Read and parse one stub file (the only function here that does IO)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StubReadError(f"cannot read stub: {exc.strerror or exc}", file=str(path)) from exc
    text = decode_stub(data, file=str(path))
    return parse_stub(text, module=module, file=str(path), python_version=python_version,
                      platform=platform)


# ---------------------------------------------------------------------------------------------
# source -> ast


def _parse_source(source: str, original: str, *, file: str, module: str) -> ast.Module:
    last: SyntaxError | None = None
    for type_comments in (True, False):
        try:
            return ast.parse(source, filename=file, type_comments=type_comments)
        except SyntaxError as exc:  # includes IndentationError / TabError
            last = exc
        except (ValueError, RecursionError, MemoryError) as exc:
            raise StubSyntaxError(f"cannot parse: {exc}", file=file, module=module) from exc
    assert last is not None
    line = last.lineno or 0
    col = last.offset or 0
    lines = original.splitlines()
    source_line = lines[line - 1] if 0 < line <= len(lines) else (last.text or "")
    raise StubSyntaxError(last.msg or "invalid syntax", file=file, module=module, line=line,
                          column=col, source_line=source_line) from last


def _rewrite_pep695(text: str) -> tuple[str, dict[tuple[int, str], tuple[TypeParam, ...]]]:
    """Make PEP 695 syntax parseable by a host ``ast`` that predates it (3.11).

    ``type A[T] = X`` becomes ``A: __wasmtool_pep695__ = X``; ``def f[T](`` and
    ``class C[T](`` lose their bracket. The removed type parameters are returned keyed
    by ``(line, name)``. Lines never move, so error positions stay right on that line.
    On a host whose ``ast`` has ``TypeAlias`` nothing is rewritten.
    """
    params: dict[tuple[int, str], tuple[TypeParam, ...]] = {}
    if hasattr(ast, "TypeAlias") or ("type" not in text and "[" not in text):
        return text, params
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, ValueError, IndentationError):
        return text, params  # ast.parse reports the real problem
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))

    def offset(pos: tuple[int, int]) -> int:
        row, col = pos
        return starts[row - 1] + col if 0 < row <= len(starts) else len(text)

    edits: list[tuple[int, int, str]] = []
    at_start = True
    i = 0
    n = len(tokens)
    while i < n:
        tok = tokens[i]
        if tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            at_start = True
            i += 1
            continue
        if tok.type in (tokenize.NL, tokenize.COMMENT):
            i += 1
            continue
        nxt = tokens[i + 1] if i + 1 < n else None
        nxt2 = tokens[i + 2] if i + 2 < n else None
        if (at_start and tok.type == tokenize.NAME and tok.string == "type" and nxt is not None
                and nxt.type == tokenize.NAME and nxt2 is not None and nxt2.string in ("=", "[")):
            end_idx, tparams = _bracket_params(tokens, i + 2) if nxt2.string == "[" else (i + 2, ())
            if end_idx < n and tokens[end_idx].string == "=":
                params[(nxt.start[0], nxt.string)] = tparams
                repl = f"{nxt.string}: {_PEP695_MARK} "
                edits.append((offset(tok.start), offset(tokens[end_idx].start), repl))
                i = end_idx
                at_start = False
                continue
        if (tok.type == tokenize.NAME and tok.string in ("def", "class") and nxt is not None
                and nxt.type == tokenize.NAME and nxt2 is not None and nxt2.string == "["):
            end_idx, tparams = _bracket_params(tokens, i + 2)
            params[(tok.start[0], nxt.string)] = tparams
            stop = offset(tokens[end_idx].start) if end_idx < n else len(text)
            edits.append((offset(nxt2.start), stop, ""))
            i = end_idx
            at_start = False
            continue
        at_start = False
        i += 1
    for start, end, repl in sorted(edits, reverse=True):
        text = text[:start] + repl + text[end:]
    return text, params


def _bracket_params(
        tokens: Sequence[tokenize.TokenInfo], open_idx: int) -> tuple[int, tuple[TypeParam, ...]]:
    """Parse ``[T: int, *Ts, **P]`` starting at ``open_idx``; return (index after ``]``, params)."""
    depth = 0
    items: list[list[str]] = [[]]
    i = open_idx
    while i < len(tokens):
        s = tokens[i].string
        if s in ("[", "(", "{"):
            depth += 1
            if depth == 1:
                i += 1
                continue
        elif s in ("]", ")", "}"):
            depth -= 1
            if depth == 0:
                i += 1
                break
        if depth == 1 and s == ",":
            items.append([])
        elif tokens[i].type not in (tokenize.NL, tokenize.COMMENT):
            items[-1].append(s)
        i += 1
    out: list[TypeParam] = []
    for item in items:
        if not item:
            continue
        if item[0] == "**" and len(item) > 1:
            out.append(TypeParam(item[1], "ParamSpec"))
        elif item[0] == "*" and len(item) > 1:
            out.append(TypeParam(item[1], "TypeVarTuple"))
        else:
            bound = None
            rest = item[1:]
            if "=" in rest:  # PEP 696 default: dropped
                rest = rest[: rest.index("=")]
            if rest and rest[0] == ":":
                bound = " ".join(rest[1:]) or None
            out.append(TypeParam(item[0], "TypeVar", bound))
    return i, tuple(out)


# ---------------------------------------------------------------------------------------------
# helpers


def _unparse(node: ast.AST | None) -> str | None:
    if node is None:
        return None
    return ast.unparse(node)


def _dotted(node: ast.expr) -> list[str] | None:
    """``a.b.c`` -> ["a", "b", "c"]; anything else -> None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return parts[::-1]
    return None


def _literal(node: ast.expr) -> tuple[bool, LiteralValue]:
    """(is a scalar literal, its value); handles ``-1`` and ``+1``."""
    if isinstance(node, ast.Constant) and not isinstance(node.value, complex):
        value = node.value
        if value is Ellipsis:
            return False, None
        if isinstance(value, str | bytes | bool | int | float) or value is None:
            return True, value
        return False, None
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd)
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, int | float) and not isinstance(node.operand.value, bool)):
        v = node.operand.value
        return True, (-v if isinstance(node.op, ast.USub) else v)
    return False, None


def _str_list(node: ast.expr) -> list[str] | None:
    if isinstance(node, ast.List | ast.Tuple):
        out: list[str] = []
        for elt in node.elts:
            if isinstance(elt, ast.Constant) and isinstance(elt.value, str):
                out.append(elt.value)
            else:
                return None
        return out
    return None


def _type_params(node: ast.AST) -> tuple[TypeParam, ...]:
    """PEP 695 parameters from a 3.12+ host ``ast`` node (``type_params``)."""
    out: list[TypeParam] = []
    for tp in getattr(node, "type_params", None) or ():
        kind = type(tp).__name__
        name = str(getattr(tp, "name", ""))
        if kind == "ParamSpec":
            out.append(TypeParam(name, "ParamSpec"))
        elif kind == "TypeVarTuple":
            out.append(TypeParam(name, "TypeVarTuple"))
        else:
            bound = getattr(tp, "bound", None)
            out.append(TypeParam(name, "TypeVar", _unparse(bound) if isinstance(bound, ast.expr) else None))
    return tuple(out)


@dataclass
class _Funcs:
    """Collects functions of one scope, grouping ``@overload`` arms with their implementation."""

    items: dict[str, FuncDecl] = field(default_factory=dict)
    open_overloads: set[str] = field(default_factory=set)

    def add(self, fn: FuncDecl) -> None:
        prev = self.items.get(fn.name)
        if fn.is_overload:
            if prev is not None and fn.name in self.open_overloads:
                arms = (*prev.overloads, fn)
                self.items[fn.name] = replace(prev, overloads=arms)
            else:
                self.items[fn.name] = replace(fn, overloads=(fn,))
                self.open_overloads.add(fn.name)
            return
        if prev is not None and fn.name in self.open_overloads:
            # the implementation after its overloads (typed .py): keep the arms
            self.items[fn.name] = replace(fn, overloads=prev.overloads)
        else:
            self.items[fn.name] = fn
        self.open_overloads.discard(fn.name)

    def discard(self, name: str) -> None:
        self.items.pop(name, None)
        self.open_overloads.discard(name)


class _ModuleParser:
    def __init__(
        self,
        *,
        module: str,
        file: str,
        is_package: bool,
        is_stub: bool,
        python_version: tuple[int, int],
        platform: str,
        pep695: dict[tuple[int, str], tuple[TypeParam, ...]],
    ) -> None:
        self.module = module
        self.file = file
        self.is_package = is_package
        self.is_stub = is_stub
        self.python_version = python_version
        self.platform = platform
        self.pep695 = pep695
        self.top = module.split(".", 1)[0]
        # local name -> (module, attribute) for `from m import a as local`; attribute "" = module
        self.bindings: dict[str, tuple[str, str]] = {}
        self.imports: dict[str, ImportDecl] = {}
        self.star_imports: list[str] = []
        self.funcs = _Funcs()
        self.classes: dict[str, ClassDecl] = {}
        self.constants: dict[str, ConstDecl] = {}
        self.aliases: dict[str, AliasDecl] = {}
        self.type_vars: dict[str, TypeVarDecl] = {}
        self.all_names: list[str] | None = None
        self.all_from: list[str] = []

    # -- driving ---------------------------------------------------------------------------

    def run(self, tree: ast.Module) -> ModuleStub:
        for stmt in self._flatten(tree.body):
            self._module_stmt(stmt)
        return ModuleStub(
            name=self.module,
            file=self.file,
            is_package=self.is_package,
            is_stub=self.is_stub,
            functions=tuple(self.funcs.items[k] for k in sorted(self.funcs.items)),
            classes=tuple(self.classes[k] for k in sorted(self.classes)),
            constants=tuple(self.constants[k] for k in sorted(self.constants)),
            aliases=tuple(self.aliases[k] for k in sorted(self.aliases)),
            type_vars=tuple(self.type_vars[k] for k in sorted(self.type_vars)),
            imports=tuple(self.imports[k] for k in sorted(self.imports)),
            star_imports=tuple(dict.fromkeys(self.star_imports)),
            all_names=tuple(dict.fromkeys(self.all_names)) if self.all_names is not None else None,
            all_from=tuple(dict.fromkeys(self.all_from)),
            has_getattr="__getattr__" in self.funcs.items,
            doc=ast.get_docstring(tree) or "",
        )

    def _flatten(self, body: Iterable[ast.stmt]) -> Iterator[ast.stmt]:
        """Statements of ``body`` with ``if``/``try`` resolved for the target (lazily, so
        imports seen earlier inform later conditions)."""
        for stmt in body:
            if isinstance(stmt, ast.If):
                verdict = self._eval(stmt.test)
                if verdict is None:
                    yield from self._flatten(stmt.body)
                    yield from self._flatten(stmt.orelse)
                elif verdict:
                    yield from self._flatten(stmt.body)
                else:
                    yield from self._flatten(stmt.orelse)
            elif isinstance(stmt, ast.Try | ast.TryStar):
                yield from self._flatten(stmt.body)
                for handler in stmt.handlers:
                    yield from self._flatten(handler.body)
                yield from self._flatten(stmt.orelse)
                yield from self._flatten(stmt.finalbody)
            else:
                yield stmt

    # -- condition evaluation ------------------------------------------------------------------

    def _canon(self, node: ast.expr) -> str | None:
        """Canonical dotted name of ``node`` through import bindings (``t.Optional`` ->
        ``typing.Optional``; ``Enum`` from ``enum`` -> ``enum.Enum``); None if not a name."""
        parts = _dotted(node)
        if parts is None:
            return None
        head = parts[0]
        bound = self.bindings.get(head)
        if bound is not None:
            mod, attr = bound
            prefix = f"{mod}.{attr}" if attr else mod
            return ".".join([prefix, *parts[1:]])
        return ".".join(parts)

    def _is_name(self, node: ast.expr, name: str, modules: Sequence[str]) -> bool:
        canon = self._canon(node)
        return canon is not None and (canon == name or any(canon == f"{m}.{name}" for m in modules))

    def _eval(self, node: ast.expr) -> bool | None:
        """Decide a condition for the target: True, False or None (undecidable)."""
        if isinstance(node, ast.BoolOp):
            values = [self._eval(v) for v in node.values]
            if isinstance(node.op, ast.And):
                if any(v is False for v in values):
                    return False
                return True if all(v is True for v in values) else None
            if any(v is True for v in values):
                return True
            return False if all(v is False for v in values) else None
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self._eval(node.operand)
            return None if inner is None else not inner
        if isinstance(node, ast.Constant) and isinstance(node.value, bool | int):
            return bool(node.value)
        canon = self._canon(node)
        if canon is not None and canon.rsplit(".", 1)[-1] == "TYPE_CHECKING":
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if (node.func.attr in ("startswith", "endswith") and self._operand(node.func.value) == "platform"
                    and len(node.args) == 1 and not node.keywords):
                arg = node.args[0]
                prefixes: list[str] | None = None
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    prefixes = [arg.value]
                else:
                    prefixes = _str_list(arg)
                if prefixes is None:
                    return None
                method = str.startswith if node.func.attr == "startswith" else str.endswith
                return any(method(self.platform, p) for p in prefixes)
            return None
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            return self._compare(node.left, node.ops[0], node.comparators[0])
        return None

    def _operand(self, node: ast.expr) -> str | None:
        """Classify ``sys.version_info`` (``version``), ``sys.version_info[i]`` (``version[i]``)
        and ``sys.platform`` (``platform``)."""
        canon = self._canon(node)
        if canon in ("sys.version_info",):
            return "version"
        if canon == "sys.platform":
            return "platform"
        if isinstance(node, ast.Subscript) and self._canon(node.value) == "sys.version_info":
            sl = node.slice
            if isinstance(sl, ast.Constant) and isinstance(sl.value, int) and not isinstance(sl.value, bool):
                return f"version[{sl.value}]"
            if isinstance(sl, ast.Slice) and sl.lower is None and sl.step is None:
                return "version"
        return None

    def _compare(self, left: ast.expr, op: ast.cmpop, right: ast.expr) -> bool | None:
        kind = self._operand(left)
        other = right
        if kind is None:
            kind = self._operand(right)
            other = left
            if kind is None or isinstance(op, ast.In | ast.NotIn):
                return None
            op = _FLIPPED.get(type(op), type(op))()
        if kind == "platform":
            if isinstance(other, ast.Constant) and isinstance(other.value, str):
                return _equality(op, self.platform, other.value)
            values = _str_list(other)
            return None if values is None else _equality(op, self.platform, tuple(values))
        if kind == "version":
            if not isinstance(other, ast.Tuple) or not other.elts:
                return None
            nums: list[int] = []
            for elt in other.elts:
                if not (isinstance(elt, ast.Constant) and type(elt.value) is int):
                    return None
                nums.append(elt.value)
            target = (*self.python_version, *(0,) * max(len(nums) - 2, 0))
            return _ordering(op, target[: len(nums)], tuple(nums))
        index = 0 if kind == "version[0]" else 1 if kind == "version[1]" else -1
        if index < 0 or not (isinstance(other, ast.Constant) and type(other.value) is int):
            return None
        return _ordering(op, (self.python_version[index],), (other.value,))

    # -- module statements ---------------------------------------------------------------------

    def _bind(self, name: str) -> None:
        """``name`` is being (re)bound: forget what it meant before."""
        self.funcs.discard(name)
        self.classes.pop(name, None)
        self.constants.pop(name, None)
        self.aliases.pop(name, None)
        self.type_vars.pop(name, None)
        self.imports.pop(name, None)
        self.bindings.pop(name, None)

    def _resolve_relative(self, level: int, module: str | None) -> str:
        if level == 0:
            return module or ""
        parts = self.module.split(".") if self.module else []
        base = parts if self.is_package else parts[:-1]
        up = level - 1
        base = base[: max(len(base) - up, 0)]
        if module:
            base = [*base, module]
        return ".".join(base)

    def _module_stmt(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    local, mod = alias.asname, alias.name
                    reexport = alias.asname == alias.name
                else:
                    local = mod = alias.name.split(".", 1)[0]
                    reexport = False
                self._bind(local)
                self.bindings[local] = (mod, "")
                self.imports[local] = ImportDecl(local, mod, "", reexport, stmt.lineno)
        elif isinstance(stmt, ast.ImportFrom):
            source = self._resolve_relative(stmt.level, stmt.module)
            for alias in stmt.names:
                if alias.name == "*":
                    self.star_imports.append(source)
                    continue
                local = alias.asname or alias.name
                reexport = (alias.asname == alias.name) or (stmt.level > 0 and stmt.module is None)
                self._bind(local)
                self.bindings[local] = (source, alias.name)
                self.imports[local] = ImportDecl(local, source, alias.name, reexport, stmt.lineno)
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            fn = self._function(stmt)
            if fn.name not in self.funcs.open_overloads:
                self._bind(fn.name)
            self.funcs.add(fn)
        elif isinstance(stmt, ast.ClassDef):
            cls = self._class(stmt, prefix="")
            self._bind(cls.name)
            self.classes[cls.name] = cls
        elif isinstance(stmt, ast.AnnAssign):
            self._ann_assign(stmt)
        elif isinstance(stmt, ast.Assign):
            self._assign(stmt)
        elif isinstance(stmt, ast.AugAssign):
            target = stmt.target
            if isinstance(target, ast.Name) and target.id == "__all__" and isinstance(stmt.op, ast.Add):
                self._extend_all(stmt.value)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            call = stmt.value
            func = call.func
            if (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                    and func.value.id == "__all__" and len(call.args) == 1):
                if func.attr == "extend":
                    self._extend_all(call.args[0])
                elif func.attr == "append" and isinstance(call.args[0], ast.Constant) \
                        and isinstance(call.args[0].value, str):
                    self.all_names = [*(self.all_names or []), call.args[0].value]
                elif func.attr == "remove" and isinstance(call.args[0], ast.Constant) \
                        and self.all_names is not None:
                    self.all_names = [n for n in self.all_names if n != call.args[0].value]
        elif type(stmt).__name__ == "TypeAlias":  # 3.12+ host: `type X = ...`
            name_node = getattr(stmt, "name", None)
            value = getattr(stmt, "value", None)
            if isinstance(name_node, ast.Name) and isinstance(value, ast.expr):
                self._bind(name_node.id)
                self.aliases[name_node.id] = AliasDecl(
                    name_node.id, ast.unparse(value), "pep695", _type_params(stmt), stmt.lineno)

    def _extend_all(self, value: ast.expr) -> None:
        names = _str_list(value)
        if names is not None:
            self.all_names = [*(self.all_names or []), *names]
            return
        if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
            self._extend_all(value.left)
            self._extend_all(value.right)
            return
        parts = _dotted(value)
        if parts is not None and len(parts) >= 2 and parts[-1] == "__all__":
            canon = self._canon(value)
            if canon is not None:
                self.all_from.append(canon.rsplit(".", 1)[0])
                if self.all_names is None:
                    self.all_names = []

    def _set_all(self, value: ast.expr) -> None:
        self.all_names = None
        self.all_from = []
        if isinstance(value, ast.BinOp | ast.List | ast.Tuple) or _dotted(value) is not None:
            self.all_names = []
            self._extend_all(value)

    def _ann_assign(self, stmt: ast.AnnAssign) -> None:
        if not isinstance(stmt.target, ast.Name):
            return
        name = stmt.target.id
        if name == "__all__":
            if stmt.value is not None:
                self._set_all(stmt.value)
            return
        ann = stmt.annotation
        if stmt.value is not None and self._is_name(ann, "TypeAlias", _TYPING):
            self._bind(name)
            self.aliases[name] = AliasDecl(name, ast.unparse(stmt.value), "explicit", (), stmt.lineno)
            return
        if isinstance(ann, ast.Name) and ann.id == _PEP695_MARK and stmt.value is not None:
            self._bind(name)
            self.aliases[name] = AliasDecl(name, ast.unparse(stmt.value), "pep695",
                                           self.pep695.get((stmt.lineno, name), ()), stmt.lineno)
            return
        inferred = None
        if stmt.value is not None:
            ok, value = _literal(stmt.value)
            if ok and value is not None:
                inferred = type(value).__name__
        self._bind(name)
        self.constants[name] = ConstDecl(name, ast.unparse(ann), inferred,
                                         _unparse(stmt.value) or "", stmt.lineno)

    def _assign(self, stmt: ast.Assign) -> None:
        value = stmt.value
        for target in stmt.targets:
            if not isinstance(target, ast.Name):
                continue
            name = target.id
            if name == "__all__":
                self._set_all(value)
                continue
            self._bind(name)
            if stmt.type_comment:
                self.constants[name] = ConstDecl(name, stmt.type_comment, None, ast.unparse(value),
                                                 stmt.lineno)
                continue
            if isinstance(value, ast.Call) and self._special_call(name, value, stmt.lineno):
                continue
            ok, lit = _literal(value)
            if ok:
                inferred = type(lit).__name__ if lit is not None else None
                self.constants[name] = ConstDecl(name, None, inferred, ast.unparse(value), stmt.lineno)
            elif self._is_type_expr(value):
                self.aliases[name] = AliasDecl(name, ast.unparse(value), "implicit", (), stmt.lineno)
            else:
                self.constants[name] = ConstDecl(name, None, None, ast.unparse(value), stmt.lineno)

    def _is_type_expr(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name | ast.Attribute):
            return _dotted(node) is not None
        if isinstance(node, ast.Subscript):
            return self._is_type_expr(node.value)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return all(self._is_type_expr(x) or (isinstance(x, ast.Constant) and x.value is None)
                       for x in (node.left, node.right))
        return False

    def _special_call(self, name: str, call: ast.Call, line: int) -> bool:
        """TypeVar / ParamSpec / TypeVarTuple / NewType / functional NamedTuple and TypedDict."""
        canon = self._canon(call.func) or ""
        short = canon.rsplit(".", 1)[-1]
        typing_like = canon == short or canon.startswith(("typing.", "typing_extensions."))
        if not typing_like:
            return False
        if short in ("TypeVar", "ParamSpec", "TypeVarTuple"):
            bound = None
            constraints: list[str] = []
            for kw in call.keywords:
                if kw.arg == "bound":
                    bound = ast.unparse(kw.value)
            for arg in call.args[1:]:
                constraints.append(ast.unparse(arg))
            kind: TypeVarKind = "TypeVar"
            if short == "ParamSpec":
                kind = "ParamSpec"
            elif short == "TypeVarTuple":
                kind = "TypeVarTuple"
            self.type_vars[name] = TypeVarDecl(name, kind, bound, tuple(constraints), line)
            return True
        if short == "NewType" and len(call.args) == 2:
            self.aliases[name] = AliasDecl(name, ast.unparse(call.args[1]), "newtype", (), line)
            return True
        if short == "NamedTuple":
            fields: list[FieldDecl] = []
            if len(call.args) >= 2 and isinstance(call.args[1], ast.List | ast.Tuple):
                for elt in call.args[1].elts:
                    if (isinstance(elt, ast.Tuple) and len(elt.elts) == 2
                            and isinstance(elt.elts[0], ast.Constant) and isinstance(elt.elts[0].value, str)):
                        fields.append(FieldDecl(elt.elts[0].value, ast.unparse(elt.elts[1]), line=line))
            for kw in call.keywords:
                if kw.arg:
                    fields.append(FieldDecl(kw.arg, ast.unparse(kw.value), line=line))
            self.classes[name] = ClassDecl(name, name, bases=("NamedTuple",), fields=tuple(fields),
                                           is_namedtuple=True, line=line)
            return True
        if short == "TypedDict" and len(call.args) >= 2 and isinstance(call.args[1], ast.Dict):
            fields = []
            for key, val in zip(call.args[1].keys, call.args[1].values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    fields.append(FieldDecl(key.value, ast.unparse(val), line=line))
            keywords = tuple((kw.arg, ast.unparse(kw.value)) for kw in call.keywords if kw.arg)
            self.classes[name] = ClassDecl(name, name, bases=("TypedDict",), keywords=keywords,
                                           fields=tuple(fields), is_typeddict=True, line=line)
            return True
        return False

    # -- functions -----------------------------------------------------------------------------

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> FuncDecl:
        args = node.args
        params: list[ParamDecl] = []
        positional = [*args.posonlyargs, *args.args]
        n_defaults = len(args.defaults)
        first_default = len(positional) - n_defaults
        for i, arg in enumerate(positional):
            kind: ParamDeclKind = "positional_only" if i < len(args.posonlyargs) else "positional_or_keyword"
            has_default = i >= first_default
            default = ast.unparse(args.defaults[i - first_default]) if has_default else ""
            params.append(ParamDecl(arg.arg, kind, self._arg_annotation(arg), has_default, default))
        if args.vararg is not None:
            params.append(ParamDecl(args.vararg.arg, "var_positional", self._arg_annotation(args.vararg)))
        for arg, dflt in zip(args.kwonlyargs, args.kw_defaults, strict=False):
            params.append(ParamDecl(arg.arg, "keyword_only", self._arg_annotation(arg), dflt is not None,
                                    _unparse(dflt) or ""))
        if args.kwarg is not None:
            params.append(ParamDecl(args.kwarg.arg, "var_keyword", self._arg_annotation(args.kwarg)))
        if self.is_stub and not args.posonlyargs:
            params = _legacy_positional_only(params)
        type_params = _type_params(node) or self.pep695.get((node.lineno, node.name), ())
        returns = _unparse(node.returns)
        if returns is None and node.type_comment:
            returns = _func_type_comment_return(node.type_comment)
        return FuncDecl(
            name=node.name,
            params=tuple(params),
            returns=returns,
            is_async=isinstance(node, ast.AsyncFunctionDef),
            decorators=tuple(self._decorator_text(d) for d in node.decorator_list),
            type_params=type_params,
            line=node.lineno,
            doc=ast.get_docstring(node) or "",
        )

    def _decorator_text(self, node: ast.expr) -> str:
        """Decorator as text, with typing/abc/functools aliases canonicalised for the flags
        (``t.overload`` -> ``typing.overload``)."""
        target = node.func if isinstance(node, ast.Call) else node
        canon = self._canon(target)
        if canon is None:
            return ast.unparse(node)
        if isinstance(node, ast.Call):
            return canon + ast.unparse(node)[len(ast.unparse(target)):]
        return canon

    @staticmethod
    def _arg_annotation(arg: ast.arg) -> str | None:
        if arg.annotation is not None:
            return ast.unparse(arg.annotation)
        return arg.type_comment

    # -- classes -------------------------------------------------------------------------------

    def _class(self, node: ast.ClassDef, *, prefix: str) -> ClassDecl:
        qualname = f"{prefix}.{node.name}" if prefix else node.name
        bases = tuple(ast.unparse(b) for b in node.bases)
        keywords = tuple((kw.arg, ast.unparse(kw.value)) for kw in node.keywords if kw.arg)
        decorators = tuple(self._decorator_text(d) for d in node.decorator_list)
        base_canons = [self._canon(b.value if isinstance(b, ast.Subscript) else b) or "" for b in node.bases]
        is_protocol = any(c in ("Protocol", "typing.Protocol", "typing_extensions.Protocol")
                          for c in base_canons)
        is_typeddict = any(c in ("TypedDict", "typing.TypedDict", "typing_extensions.TypedDict")
                           for c in base_canons)
        is_namedtuple = any(c in ("NamedTuple", "typing.NamedTuple", "typing_extensions.NamedTuple")
                            for c in base_canons)
        enum_base = next((c for c in base_canons
                          if c.rsplit(".", 1)[-1] in _ENUM_BASES and c.count(".") <= 1
                          and (c.count(".") == 0 or c.startswith("enum."))), "")
        is_exception = any(self._is_exception_base(c) for c in base_canons)
        is_generic = any(c in ("Generic", "typing.Generic", "typing_extensions.Generic")
                         for c in base_canons) or any(isinstance(b, ast.Subscript) for b in node.bases)
        dataclass_kind, frozen, kw_only_all = self._dataclass_info(node.decorator_list)

        funcs = _Funcs()
        props: dict[str, PropertyDecl] = {}
        fields: dict[str, FieldDecl] = {}
        nested: dict[str, ClassDecl] = {}
        members: dict[str, EnumMember] = {}
        kw_only = kw_only_all
        auto_last = 0
        for stmt in self._flatten(node.body):
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                self._class_function(stmt, funcs, props)
            elif isinstance(stmt, ast.ClassDef):
                inner = self._class(stmt, prefix=qualname)
                nested[inner.name] = inner
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                name = stmt.target.id
                ann_canon = self._canon(stmt.annotation) or ""
                if ann_canon in ("dataclasses.KW_ONLY", "KW_ONLY"):
                    kw_only = True
                    continue
                if enum_base and stmt.value is not None:
                    member, auto_last = self._enum_member(name, stmt.value, enum_base, auto_last)
                    if member is not None:
                        members[name] = member
                    continue
                ann_node = stmt.annotation
                is_classvar = self._is_name(
                    ann_node.value if isinstance(ann_node, ast.Subscript) else ann_node, "ClassVar", _TYPING)
                has_default, field_kw = self._field_default(stmt.value)
                fields[name] = FieldDecl(name, ast.unparse(stmt.annotation), has_default, is_classvar,
                                         kw_only or field_kw, stmt.lineno)
            elif isinstance(stmt, ast.Assign) and enum_base:
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        member, auto_last = self._enum_member(target.id, stmt.value, enum_base, auto_last)
                        if member is not None:
                            members[target.id] = member
            elif isinstance(stmt, ast.Assign) and stmt.type_comment:
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        fields[target.id] = FieldDecl(target.id, stmt.type_comment, True, False, kw_only,
                                                      stmt.lineno)
        methods = tuple(funcs.items[k] for k in sorted(funcs.items))
        method_names = set(funcs.items)
        return ClassDecl(
            name=node.name,
            qualname=qualname,
            bases=bases,
            keywords=keywords,
            decorators=decorators,
            methods=methods,
            properties=tuple(props[k] for k in sorted(props)),
            fields=tuple(fields.values()),
            classes=tuple(nested[k] for k in sorted(nested)),
            enum_members=tuple(members.values()),
            type_params=_type_params(node) or self.pep695.get((node.lineno, node.name), ()),
            dataclass_kind=dataclass_kind,
            frozen=frozen,
            is_protocol=is_protocol,
            is_typeddict=is_typeddict,
            is_enum=bool(enum_base),
            enum_base=enum_base.rsplit(".", 1)[-1],
            is_namedtuple=is_namedtuple,
            is_exception=is_exception,
            has_getattr=bool(method_names & {"__getattr__", "__getattribute__"}),
            has_setattr=bool(method_names & {"__setattr__", "__delattr__"}),
            is_descriptor=bool(method_names & {"__get__", "__set__", "__delete__"}),
            is_generic=is_generic,
            line=node.lineno,
            doc=ast.get_docstring(node) or "",
        )

    def _is_exception_base(self, canon: str) -> bool:
        if not canon:
            return False
        short = canon.rsplit(".", 1)[-1]
        if canon in _EXCEPTION_NAMES or (canon == f"builtins.{short}" and short in _EXCEPTION_NAMES):
            return True
        # imported from another distribution, named like an exception (json.JSONDecodeError)
        return "." in canon and canon.split(".", 1)[0] != self.top and short.endswith(_EXC_SUFFIXES)

    def _class_function(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef, funcs: _Funcs,
                        props: dict[str, PropertyDecl]) -> None:
        fn = self._function(stmt)
        for node, dec in zip(stmt.decorator_list, fn.decorators, strict=True):
            base = dec.split("(", 1)[0]
            if base in _PROPERTY_DECORATORS:
                props[fn.name] = PropertyDecl(fn.name, fn.returns, is_abstract=fn.is_abstract,
                                              line=fn.line, doc=fn.doc)
                funcs.discard(fn.name)
                return
            raw = _dotted(node)
            head = raw[0] if raw is not None and len(raw) == 2 else ""
            attr = raw[1] if raw is not None and len(raw) == 2 else ""
            if head in props and attr in ("setter", "deleter", "getter"):
                prop = props[head]
                if attr == "setter":
                    props[head] = replace(prop, has_setter=True)
                elif attr == "deleter":
                    props[head] = replace(prop, has_deleter=True)
                else:
                    props[head] = replace(prop, annotation=fn.returns)
                return
        props.pop(fn.name, None)
        funcs.add(fn)

    def _dataclass_info(
            self, decorators: list[ast.expr]) -> tuple[Literal["", "dataclass", "attrs"], bool, bool]:
        """(``dataclass``/``attrs``/``""``, frozen, kw_only) from class decorators."""
        for dec in decorators:
            target = dec.func if isinstance(dec, ast.Call) else dec
            canon = self._canon(target) or ""
            kwargs = {kw.arg: kw.value for kw in dec.keywords if kw.arg} if isinstance(dec, ast.Call) else {}

            def flag(name: str, kwargs: dict[str, ast.expr] = kwargs) -> bool:
                node = kwargs.get(name)
                return isinstance(node, ast.Constant) and node.value is True

            if canon in ("dataclass", "dataclasses.dataclass") or (
                    canon.endswith(".dataclass") and not canon.startswith(("attr.", "attrs."))):
                return "dataclass", flag("frozen"), flag("kw_only")
            if canon in _ATTRS_DECORATORS:
                frozen = canon.rsplit(".", 1)[-1] == "frozen" or flag("frozen")
                return "attrs", frozen, flag("kw_only")
        return "", False, False

    def _field_default(self, value: ast.expr | None) -> tuple[bool, bool]:
        """(has a default, kw_only) for a class-level ``x: T = value``."""
        if value is None:
            return False, False
        if isinstance(value, ast.Call):
            canon = self._canon(value.func) or ""
            if canon in _FIELD_CALLS:
                kws = {kw.arg for kw in value.keywords if kw.arg}
                kw_only = any(kw.arg == "kw_only" and isinstance(kw.value, ast.Constant)
                              and kw.value.value is True for kw in value.keywords)
                return bool(kws & {"default", "default_factory", "factory"}), kw_only
        return True, False

    def _enum_member(self, name: str, value: ast.expr, enum_base: str,
                     last: int) -> tuple[EnumMember | None, int]:
        """One enum member and the last int value seen (for ``auto()``)."""
        if (name.startswith("__") and name.endswith("__")) or name in (
                "_ignore_", "_order_", "_value_", "_name_", "_missing_", "_generate_next_value_"):
            return None, last
        if isinstance(value, ast.Lambda):
            return None, last
        ok, lit = _literal(value)
        if ok:
            if isinstance(lit, int) and not isinstance(lit, bool):
                last = lit
            return EnumMember(name, lit, True), last
        short = enum_base.rsplit(".", 1)[-1]
        if isinstance(value, ast.Call) and not value.args and not value.keywords \
                and (self._canon(value.func) or "") in ("auto", "enum.auto"):
            if short == "StrEnum":
                return EnumMember(name, name.lower(), True), last
            nxt = (1 << last.bit_length() if last > 0 else 1) if short in ("Flag", "IntFlag") else last + 1
            return EnumMember(name, nxt, True), nxt
        return EnumMember(name, None, False), last


_FLIPPED: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE,
}


def _equality(op: ast.cmpop, lhs: str, rhs: str | tuple[str, ...]) -> bool | None:
    if isinstance(op, ast.Eq) and isinstance(rhs, str):
        return lhs == rhs
    if isinstance(op, ast.NotEq) and isinstance(rhs, str):
        return lhs != rhs
    if isinstance(op, ast.In) and isinstance(rhs, tuple):
        return lhs in rhs
    if isinstance(op, ast.NotIn) and isinstance(rhs, tuple):
        return lhs not in rhs
    return None


def _ordering(op: ast.cmpop, a: tuple[int, ...], b: tuple[int, ...]) -> bool | None:
    if isinstance(op, ast.Eq):
        return a == b
    if isinstance(op, ast.NotEq):
        return a != b
    if isinstance(op, ast.Lt):
        return a < b
    if isinstance(op, ast.LtE):
        return a <= b
    if isinstance(op, ast.Gt):
        return a > b
    if isinstance(op, ast.GtE):
        return a >= b
    return None


def _legacy_positional_only(params: list[ParamDecl]) -> list[ParamDecl]:
    """PEP 484: in stubs, leading parameters named ``__x`` (not dunder) are positional-only
    (``self``/``cls`` before them too)."""
    out = list(params)
    start = 1 if out and out[0].name in ("self", "cls") else 0
    i = start
    while (i < len(out) and out[i].kind == "positional_or_keyword"
           and out[i].name.startswith("__") and not out[i].name.endswith("__")):
        out[i] = replace(out[i], kind="positional_only")
        i += 1
    if i > start and start == 1:
        out[0] = replace(out[0], kind="positional_only")
    return out


def _func_type_comment_return(comment: str) -> str | None:
    """``(int, str) -> bool`` -> ``bool``."""
    _, sep, ret = comment.partition("->")
    return ret.strip() or None if sep else None
