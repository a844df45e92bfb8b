"""Render the Mochi shim ``<pkg>_shim.mochi`` from a mapped surface, in one of two dialects
(:mod:`wasmtool.synth.dialect`; docs/calling-python-from-mochi.md).

Only forms verified against a real Mochi parser are emitted:

* 0.10: ``import python "<wrapper module>" as <alias>`` then ``extern fun <alias>.<name>(...)``
  for the functions that cross the stateless FFI (and only the types they reach);
* mep-71: ``extern python fun <name>(<p>: <T>, ...)[: <R>]``;
* in both, every parameter named and typed, no defaults, no ``async``, ``: R`` omitted for
  functions returning nothing;
* ``type Name = any`` for handles, ``type Name { f: T, ... }`` for records and fixed
  tuples (fields ``t0``, ``t1``...), ``type Name = string|int`` for enums (a comment lists
  the values), ``type Name = fun(A): R`` for an optional callable (``fun(A): R?`` would
  bind the ``?`` to ``R``);
* type references ``int float bool string any list<T> set<T> map<K, V> T? fun(..): R``
  and declared names only: never ``bytes``, ``None``, ``tuple<..>``, unions. A checked
  union is ``any`` (the wrapper checks the members); a wire-form scalar (a ``datetime``,
  a ``Decimal``...) is its base kind, ``string`` or ``float``.

Output is deterministic: declarations sorted by name, externs by name.
"""

from __future__ import annotations

from wasmtool.mochi_syntax import spell_inner_digits
from wasmtool.synth.dialect import DEFAULT_DIALECT, DIALECTS, MochiDialect, ffi_split, referenced_types
from wasmtool.synth.errors import SurfaceRenderError
from wasmtool.typemap.surface import Function, MappedSurface, TypeRef, widened_items

__all__ = ["mochi_type", "render_shim"]

_SCALARS = {"int": "int", "float": "float", "bool": "bool", "str": "string", "any": "any",
            "union": "any"}   # wire forms keep their base kind; the wrapper converts


def _is_unit(t: TypeRef) -> bool:
    return t.kind == "tuple" and not t.args and not t.name


def callable_alias_name(t: TypeRef) -> str:
    """The name of the alias declared for an optional callable type."""
    from wasmtool.typemap.table import type_fragment

    return spell_inner_digits("Fn_" + type_fragment(t)[len("fun_"):])


def mochi_type(t: TypeRef, *, dist: str = "") -> str:
    """The Mochi type text of ``t`` (a type reference, never a declaration)."""
    kind = t.kind
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "bytes":
        return "list<int>"
    if kind in ("list", "set"):
        return f"{kind}<{mochi_type(t.args[0], dist=dist)}>"
    if kind == "map":
        return f"map<{mochi_type(t.args[0], dist=dist)}, {mochi_type(t.args[1], dist=dist)}>"
    if kind == "option":
        inner = t.args[0]
        while inner.kind == "option":  # Optional[Optional[T]] collapses
            inner = inner.args[0]
        if inner.kind == "callable":
            return callable_alias_name(inner) + "?"
        return mochi_type(inner, dist=dist) + "?"
    if kind == "callable":
        result, *params = t.args
        text = "fun(" + ", ".join(mochi_type(p, dist=dist) for p in params) + ")"
        return text if _is_unit(result) else f"{text}: {mochi_type(result, dist=dist)}"
    if kind in ("tuple", "record", "enum", "handle"):
        if not t.name:
            raise SurfaceRenderError(f"a {kind} type without a Mochi name cannot be rendered", package=dist)
        return t.name
    raise SurfaceRenderError(f"unknown boundary type kind {kind!r}", package=dist)



def _callable_aliases(surface: MappedSurface) -> dict[str, TypeRef]:
    """Optional callables need a named alias; collect them from every reachable type."""
    found: dict[str, TypeRef] = {}
    types: list[TypeRef] = []
    for fn in surface.functions:
        types.extend(p.type for p in fn.params)
        if fn.returns is not None:
            types.append(fn.returns)
    for rec in surface.records:
        types.extend(f.type for f in rec.fields)
    for t in types:
        for sub in t.walk():
            if sub.kind == "option" and sub.args[0].kind == "callable":
                found[callable_alias_name(sub.args[0])] = sub.args[0]
    return found


def _comment(text: str) -> str:
    """A single-line ``//`` comment body: first line of ``text``, whitespace squeezed."""
    line = " ".join(text.strip().splitlines()[0].split()) if text.strip() else ""
    return line if len(line) <= 100 else line[:97] + "..."


def _params(fn: Function, dist: str) -> str:
    params = ", ".join(f"{p.mochi_name}: {mochi_type(p.type, dist=dist)}" for p in fn.params)
    ret = "" if fn.returns is None or _is_unit(fn.returns) else f": {mochi_type(fn.returns, dist=dist)}"
    return f"({params}){ret}"


def _type_decls(surface: MappedSurface, wanted: set[str] | None) -> tuple[list[str], dict[str, str]]:
    """Declaration lines (in the order Mochi's checker needs) and the declared names; with
    ``wanted``, only those names (and no callable aliases unless wanted)."""
    dist = surface.dist
    names: dict[str, str] = {}

    def claim(name: str, what: str) -> bool:
        if name in names:
            raise SurfaceRenderError(f"type name {name!r} is declared twice ({names[name]} and {what})",
                                     package=dist)
        names[name] = what
        return wanted is None or name in wanted

    decls: list[tuple[str, list[str]]] = []
    for h in surface.handles:
        if claim(h.name, f"handle {h.py}"):
            decls.append((h.name, [f"type {h.name} = any  // {h.py}"]))
    for e in surface.enums:
        if claim(e.name, f"enum {e.py}"):
            scalar = "string" if e.value_kind == "string" else "int"
            values = ", ".join(repr(v) if isinstance(v, int) else '"' + str(v) + '"' for _, v in e.members)
            decls.append((e.name, [f"type {e.name} = {scalar}  // {e.py}: {_comment(values)}"]))
    for r in surface.records:
        if not claim(r.name, f"record {r.py or r.origin}"):
            continue
        if not r.fields:
            raise SurfaceRenderError(f"record {r.name} has no fields (Mochi needs at least one)", package=dist)
        origin = f"  // {r.py} ({r.origin})" if r.py else ""
        body = [f"type {r.name} {{{origin}"]
        fields = sorted(r.fields, key=lambda f: f.mochi_name)
        for i, f in enumerate(fields):
            t = mochi_type(f.type, dist=dist)
            if not f.required and f.type.kind != "option":
                t += "?"
            body.append(f"  {f.mochi_name}: {t}" + ("," if i < len(fields) - 1 else ""))
        body.append("}")
        decls.append((r.name, body))
    for alias_name, fn_type in sorted(_callable_aliases(surface).items()):
        if claim(alias_name, "callable alias"):
            decls.append((alias_name, [f"type {alias_name} = {mochi_type(fn_type, dist=dist)}"]))

    # Mochi's checker resolves a reference to a type ALIAS only after the alias (records may
    # refer to later records): scalar aliases and handles first, callable aliases, records.
    def rank(name: str) -> int:
        what = names[name]
        return 1 if what == "callable alias" else 2 if what.startswith("record") else 0

    out: list[str] = []
    for _rank, _name, lines in sorted((rank(n), n, ls) for n, ls in decls):
        out.extend(lines)
    return out, names


def render_shim(surface: MappedSurface, dialect: MochiDialect = DEFAULT_DIALECT, *, module: str = "") -> str:
    """The shim text in ``dialect``: header, type declarations, externs, skip summary.

    ``module`` is the dotted wrapper module (``python_wrap.<alias>.<pkg>_externs``) that the
    0.10 dialect imports."""
    dist = surface.dist
    if dialect == "0.10":
        if not module:
            raise SurfaceRenderError("the 0.10 dialect needs the wrapper module path", package=dist)
        functions, ffi_skips = ffi_split(surface)
        decl_lines, names = _type_decls(surface, referenced_types(functions, surface.records))
        n_skips = len(surface.skips) + len(ffi_skips)
        out = [
            f"// wasmtool shim (Mochi 0.10): {surface.dist} {surface.version} ({surface.tier})"
            " -- generated, do not edit",
            f"// alias {surface.alias}; {len(functions)} externs, {n_skips} skipped",
            f'import python "{module}" as {surface.alias}',
            *decl_lines,
        ]
    elif dialect == "mep-71":
        functions = tuple(sorted(surface.functions, key=lambda f: f.extern_name))
        decl_lines, names = _type_decls(surface, None)
        n_skips = len(surface.skips)
        out = [
            f"// wasmtool shim: {surface.dist} {surface.version} ({surface.tier}) -- generated, do not edit",
            f"// alias {surface.alias}; {len(functions)} externs, {n_skips} skipped",
            *decl_lines,
        ]
    else:
        raise SurfaceRenderError(f"unknown Mochi dialect {dialect!r} (expected one of {', '.join(DIALECTS)})",
                                 package=dist)
    for fn in functions:
        if fn.extern_name in names:
            raise SurfaceRenderError(f"extern {fn.extern_name!r} clashes with a type of the same name", package=dist)
        doc = _comment(fn.doc)
        if doc:
            out.append(f"// {doc}")
        head = f"extern fun {surface.alias}." if dialect == "0.10" else "extern python fun "
        out.append(f"{head}{fn.extern_name}{_params(fn, dist)}")
    if n_skips:
        out.append(f"// SKIPPED {n_skips} items, see SKIPPED.txt")
    n_widened = len(widened_items(surface))
    if n_widened:
        out.append(f"// WIDENED {n_widened} types (any or a checked union), see WIDENED.txt")
    return "\n".join(out) + "\n"
