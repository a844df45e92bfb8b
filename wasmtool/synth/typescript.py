"""Render ``<alias>.d.ts``: the TypeScript types of one bound alias, for JavaScript callers of
a Pyodide bundle (``runtime/pyodide/bindings.mjs``; docs/typescript.md).

The file describes what ``bindAlias(bundle, "<alias>")`` returns: one method per extern,
named like ``wasmtool call ALIAS.FUNC`` names it (the extern without its ``<alias>_``
prefix), taking the extern's parameters and resolving to its result, in the JSON forms of
docs/value-encoding.md as ``bindings.mjs`` encodes and decodes them:

============ ==================================================================
TypeRef       TypeScript
============ ==================================================================
int           ``number | bigint`` (beyond 2^53 a result is a ``bigint``)
float         ``number`` (NaN and infinities included)
bool / str    ``boolean`` / ``string`` (a wire form keeps its scalar: a datetime
              is an ISO 8601 ``string``, a timedelta seconds as ``number``)
bytes         ``number[]``
any           ``unknown``
list / set    ``T[]``
map           ``Record<string, V>`` for string keys, else ``Map<K, V>``
option        ``T | null``
union         ``A | B`` (the checked members)
tuple/record  an exported ``interface`` (a tuple's fields ``t0``, ``t1``...)
enum          the union of its values' literal types
handle        ``WasmtoolHandle`` (``{ readonly $handle: number }``)
callable      ``never`` (a Python callable cannot cross as JSON)
============ ==================================================================

The file exports the alias's interface ``<Alias>Bindings`` and adds it to the global
``WasmtoolAliases`` interface, so ``bindAlias(bundle, "<alias>")`` is typed as soon as the
file is part of the program. It is self-contained (it imports nothing), pure and
deterministic: declarations sorted by name, methods by name.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from wasmtool.mochi_syntax import spell_inner_digits
from wasmtool.synth.errors import SurfaceRenderError
from wasmtool.typemap.surface import CLASS_PATH_PY, WIRE_FORMS, Function, MappedSurface, Param, Record, TypeRef

__all__ = [
    "METHOD_TABLE_FILE",
    "METHOD_TABLE_FORMAT",
    "METHOD_TABLE_VERSION",
    "RESERVED_WORDS",
    "bindings_interface_name",
    "declaration_file",
    "method_names",
    "method_table",
    "render_method_table",
    "render_typescript",
    "ts_type",
]

#: ECMAScript's reserved words, its strict-mode reserved words, ``await``, ``arguments`` and
#: ``eval``: never a parameter or type name in the file (escaped with a trailing ``_``; ``this``
#: would declare the method's this-type instead of a parameter).
RESERVED_WORDS = frozenset({
    "break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do", "else",
    "enum", "export", "extends", "false", "finally", "for", "function", "if", "import", "in", "instanceof",
    "new", "null", "return", "super", "switch", "this", "throw", "true", "try", "typeof", "var", "void",
    "while", "with", "implements", "interface", "let", "package", "private", "protected", "public",
    "static", "yield", "await", "arguments", "eval",
})

#: Names a declared type (record, enum, handle) never takes besides :data:`RESERVED_WORDS`:
#: TypeScript's predefined types and type operators, and the global types the file refers to.
_TAKEN_TYPE_NAMES = frozenset({
    "any", "unknown", "never", "object", "string", "number", "boolean", "bigint", "symbol", "undefined",
    "infer", "keyof", "readonly", "unique", "Array", "Map", "Record", "Promise",
    "WasmtoolHandle", "WasmtoolAliases",
})

#: What a wire form's value is, for the JSDoc (docs/value-encoding.md#wire-forms).
_WIRE_DOC = {
    "datetime:datetime": "an ISO 8601 datetime string",
    "datetime:date": "an ISO 8601 date string",
    "datetime:time": "an ISO 8601 time string",
    "datetime:timedelta": "a duration in seconds",
    "decimal:Decimal": "a decimal number string",
    "uuid:UUID": "a UUID string",
    "pathlib:Path": "a path string",
    "re:Pattern": "a regular expression string",
    "numpy:float64": "a number (a numpy floating-point scalar in Python)",
    "numpy:int64": "an integer (a numpy integer scalar in Python)",
    "numpy:bool": "a boolean (a numpy bool in Python)",
}

_SCALARS = {"float": "number", "bool": "boolean", "str": "string", "any": "unknown"}
_MAX_SAFE_INTEGER = 2**53 - 1
_DOC_LINES = 12


def _is_unit(t: TypeRef) -> bool:
    return t.kind == "tuple" and not t.args and not t.name


def _is_identifier(name: str) -> bool:
    return name.isidentifier() and name.isascii()


def _unique(name: str, taken: Iterable[str]) -> str:
    used = set(taken)
    while name in used:
        name += "_"
    return name


def _escape(name: str, reserved: frozenset[str], taken: Iterable[str] = ()) -> str:
    """``name``, with ``_`` appended while it is reserved or already ``taken``."""
    used = set(taken)
    while name in reserved or name in used:
        name += "_"
    return name


def _group(text: str) -> str:
    """``text`` parenthesised when it is a union or a function type (inside ``T[]``)."""
    return f"({text})" if " | " in text or "=>" in text else text


def _union(parts: Iterable[str]) -> str:
    seen: list[str] = []
    for part in parts:
        for member in _split_union(part):
            if member not in seen:
                seen.append(member)
    if "unknown" in seen:
        return "unknown"
    if len(seen) > 1 and "never" in seen:   # an optional callable: only null crosses
        seen.remove("never")
    return " | ".join(seen)


def _split_union(text: str) -> list[str]:
    """The top-level members of a union text (``A | B[] | Map<K, V | W>``)."""
    out: list[str] = []
    depth = 0
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "(<[{":
            depth += 1
        elif ch in ")>]}":
            depth -= 1
        elif text.startswith(" | ", i) and depth == 0:
            out.append(text[start:i])
            start = i + 3
            i += 3
            continue
        i += 1
    out.append(text[start:])
    return out


def _string_keyed(t: TypeRef) -> bool:
    """Whether a map with key type ``t`` is a JSON object (every key a string)."""
    if t.kind == "str":
        return True
    if t.kind == "enum":
        return t.value_kind == "string"
    if t.kind == "union":
        return all(_string_keyed(a) for a in t.args)
    return False


def ts_type(t: TypeRef, names: dict[str, str] | None = None, *, dist: str = "") -> str:
    """The TypeScript text of ``t`` as a value (a parameter, field or result); ``names`` maps
    declared Mochi type names to their (escaped) names in the file."""
    names = names or {}
    kind = t.kind
    if kind == "int":
        return "number | bigint"
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "bytes":
        return "number[]"
    if kind in ("list", "set"):
        return f"{_group(ts_type(t.args[0], names, dist=dist))}[]"
    if kind == "map":
        key, value = t.args
        if _string_keyed(key):
            return f"Record<string, {ts_type(value, names, dist=dist)}>"
        return f"Map<{ts_type(key, names, dist=dist)}, {ts_type(value, names, dist=dist)}>"
    if kind == "option":
        return _union([ts_type(t.args[0], names, dist=dist), "null"])
    if kind == "union":
        return _union(ts_type(a, names, dist=dist) for a in t.args)
    if kind == "callable":
        return "never"
    if _is_unit(t):
        return "null"
    if kind in ("tuple", "record", "enum", "handle"):
        if not t.name:
            raise SurfaceRenderError(f"a {kind} type without a name cannot be rendered in TypeScript", package=dist)
        return names.get(t.name, t.name)
    raise SurfaceRenderError(f"unknown boundary type kind {kind!r}", package=dist)


def _ts_literal(value: str | int) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"not an enum value: {value!r}")
    if isinstance(value, str):
        return json.dumps(value)
    return f"{value}n" if abs(value) > _MAX_SAFE_INTEGER else str(value)


def _property(name: str) -> str:
    return name if _is_identifier(name) else json.dumps(name)


def _jsdoc(lines: list[str], indent: str) -> list[str]:
    body = [line.replace("*/", "*\\/").rstrip() for line in lines]
    while body and not body[-1]:
        body.pop()
    if not body:
        return []
    if len(body) == 1:
        return [f"{indent}/** {body[0]} */"]
    return [f"{indent}/**", *(f"{indent} *{' ' + line if line else ''}" for line in body), f"{indent} */"]


def _doc_paragraph(doc: str) -> list[str]:
    """The docstring's first paragraph, dedented, at most :data:`_DOC_LINES` lines."""
    out: list[str] = []
    for raw in doc.strip().splitlines():
        line = " ".join(raw.split())
        if not line:
            if out:
                break
            continue
        out.append(line)
    if len(out) > _DOC_LINES:
        out = [*out[:_DOC_LINES - 1], out[_DOC_LINES - 1] + " ..."]
    return out


def _wire_notes(t: TypeRef) -> list[str]:
    notes: list[str] = []
    for sub in t.walk():
        if sub.py == CLASS_PATH_PY and sub.kind == "str":
            bounds = " or ".join(b.replace(":", ".") for b in sub.name.split("|") if b)
            note = f"a class object as its dotted path ({f'a subclass of {bounds}' if bounds else 'any class'})"
            if note not in notes:
                notes.append(note)
        elif sub.py in WIRE_FORMS and sub.kind == WIRE_FORMS[sub.py]:
            note = f"{sub.py.replace(':', '.')} as {_WIRE_DOC.get(sub.py, sub.kind)}"
            if note not in notes:
                notes.append(note)
        if sub.kind == "callable":
            note = "a Python callable, which cannot cross from JavaScript"
            if note not in notes:
                notes.append(note)
    return notes


def _pascal(alias: str) -> str:
    parts = [p for p in alias.split("_") if p]
    return "".join(p[0].upper() + p[1:] for p in parts) or "Alias"


def bindings_interface_name(surface: MappedSurface, taken: Iterable[str] = ()) -> str:
    """``<Alias>Bindings`` (PascalCase alias), escaped against the declared ``taken`` names."""
    return _escape(_pascal(surface.alias) + "Bindings", _TAKEN_TYPE_NAMES, taken)


def method_names(alias: str, externs: Iterable[str]) -> dict[str, str]:
    """Extern name -> method name: the extern without ``<alias>_`` (with the alias's digits
    as written or as the externs spell them, like ``wasmtool call``), else the extern itself;
    two externs that would get one name both keep their extern names, and so does an extern
    whose short name is another extern's name.
    ``runtime/pyodide/bindings.mjs`` (``methodNames``) applies the same rule."""
    prefixes = list(dict.fromkeys((f"{alias}_", spell_inner_digits(f"{alias}_"))))
    wanted: dict[str, str] = {}
    for extern in sorted(set(externs)):
        name = extern
        for prefix in prefixes:
            if extern.startswith(prefix) and len(extern) > len(prefix):
                name = extern[len(prefix):]
                break
        wanted[extern] = name
    counts: dict[str, int] = {}
    for name in wanted.values():
        counts[name] = counts.get(name, 0) + 1
    return {extern: (name if counts[name] == 1 and (name == extern or name not in wanted) else extern)
            for extern, name in wanted.items()}


#: ``python_wrap/<alias>/<METHOD_TABLE_FILE>`` in a Pyodide bundle's bindings wheel.
METHOD_TABLE_FILE = "methods.json"
#: ``format`` of a method table (docs/typescript.md).
METHOD_TABLE_FORMAT = "wasmtool-method-table"
METHOD_TABLE_VERSION = 1


def method_table(surface: Mapping[str, Any]) -> dict[str, Any]:
    """What ``bindAlias`` needs of an alias, from its ``surface.json`` (as parsed JSON): the
    externs module and, per method (:func:`method_names`), the extern and its parameters as
    ``[name, has_default]``; methods sorted by extern name. Pure and deterministic; a bundle
    ships it as ``python_wrap/<alias>/methods.json`` so that a page does not read (and parse)
    the whole surface to bind an alias."""
    alias = str(surface["alias"])
    imports = [str(n) for n in surface.get("import_names", [])]
    primary = alias if alias in imports else (sorted(imports)[0] if imports else alias)
    functions = sorted(surface.get("functions", []), key=lambda f: str(f["extern_name"]))
    names = method_names(alias, (str(f["extern_name"]) for f in functions))
    return {
        "format": METHOD_TABLE_FORMAT, "format_version": METHOD_TABLE_VERSION, "alias": alias,
        "module": f"python_wrap.{alias}.{primary.replace('.', '_')}_externs",
        "methods": [[names[str(f["extern_name"])], str(f["extern_name"]),
                     [[str(p["name"]), bool(p.get("has_default", False))] for p in f.get("params", [])]]
                    for f in functions],
    }


def render_method_table(surface: Mapping[str, Any]) -> str:
    """:func:`method_table` as the text of ``methods.json`` (compact, one line, ``\\n`` ended)."""
    return json.dumps(method_table(surface), ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n"


def declaration_file(alias: str) -> str:
    """The name of an alias's declaration file: ``<alias>.d.ts``."""
    return f"{alias}.d.ts"


class _Render:
    def __init__(self, surface: MappedSurface) -> None:
        self.s = surface
        declared = sorted({*(r.name for r in surface.records), *(e.name for e in surface.enums),
                           *(h.name for h in surface.handles)})
        self.names: dict[str, str] = {}
        for name in declared:
            self.names[name] = _escape(name, RESERVED_WORDS | _TAKEN_TYPE_NAMES,
                                       [*self.names.values(), *(n for n in declared if n != name)])
        self.interface = bindings_interface_name(surface, self.names.values())

    def t(self, t: TypeRef) -> str:
        return ts_type(t, self.names, dist=self.s.dist)

    def record(self, r: Record) -> list[str]:
        what = (f"Python {r.py.replace(':', '.')} ({r.origin})" if r.py
                else "a fixed Python tuple, as an object with one field per item")
        out = _jsdoc([what], "")
        out.append(f"export interface {self.names[r.name]} {{")
        for f in sorted(r.fields, key=lambda f: f.name):
            text = self.t(f.type)
            optional = "" if f.required else "?"
            out += _jsdoc(_wire_notes(f.type), "  ")
            out.append(f"  {_property(f.name)}{optional}: {text};")
        out.append("}")
        return out

    def params(self, fn: Function) -> tuple[list[str], list[str]]:
        """The parameter list and the ``@param`` lines of ``fn``."""
        taken: list[str] = []
        texts: list[str] = []
        docs: list[str] = []
        params: list[Param] = list(fn.params)
        for i, p in enumerate(params):
            name = _escape(p.name if _is_identifier(p.name) else "arg", RESERVED_WORDS, taken)
            if not _is_identifier(name):
                name = _unique(f"arg{i}", taken)
            taken.append(name)
            optional = p.has_default and all(q.has_default for q in params[i:])
            text = self.t(p.type)
            if p.has_default and "null" not in _split_union(text) and text != "unknown":
                text = _union([text, "null"])
            texts.append(f"{name}{'?' if optional else ''}: {text}")
            notes = _wire_notes(p.type)
            if p.has_default:
                notes.append("null or left out: the Python default" if optional else "null: the Python default")
            if p.kind == "var_positional":
                notes.append(f"the items of *{p.name}")
            elif p.kind == "var_keyword":
                notes.append(f"the keyword arguments of **{p.name} ({{}} or null for none)")
            elif p.kind == "keyword_only":
                notes.append(f"keyword-only {p.name} in Python")
            if name != p.name:
                notes.append(f"Python parameter {p.name}")
            if notes:
                docs.append(f"@param {name} - {'; '.join(notes)}")
        return texts, docs

    def method(self, fn: Function, name: str) -> list[str]:
        params, param_docs = self.params(fn)
        returns = "void" if fn.returns is None or _is_unit(fn.returns) else self.t(fn.returns)
        lines = _doc_paragraph(fn.doc)
        target = fn.target.replace(":", ".")
        where = f"Python {target} ({fn.kind}{', the variant taking every parameter' if fn.full else ''})"
        lines = [*lines, *([""] if lines else []), where, f"extern {fn.extern_name}"]
        lines += param_docs
        if fn.returns is not None and not _is_unit(fn.returns):
            notes = _wire_notes(fn.returns)
            if notes:
                lines.append(f"@returns {'; '.join(notes)}")
        out = _jsdoc(lines, "  ")
        out.append(f"  {_property(name)}({', '.join(params)}): Promise<{returns}>;")
        return out

    def render(self) -> str:
        s = self.s
        functions = sorted(s.functions, key=lambda f: f.extern_name)
        names = method_names(s.alias, (f.extern_name for f in functions))
        out = [
            f"// {declaration_file(s.alias)}: the `{s.alias}` binding of {s.dist} {s.version} ({s.tier})"
            " -- generated by wasmtool, do not edit",
            f"// {len(functions)} methods for bindAlias(bundle, {json.dumps(s.alias)}) of bindings.mjs;"
            f" {len(s.skips)} items skipped (SKIPPED.txt). Types: docs/typescript.md.",
            "",
            "/** An opaque Python object held by Pyodide: pass it back to the methods that take it. */",
            "export interface WasmtoolHandle {",
            "  readonly $handle: number;",
            "}",
        ]
        decls: list[tuple[str, list[str]]] = []
        for h in s.handles:
            decls.append((self.names[h.name], [*_jsdoc([f"Python {h.py.replace(':', '.')}, as a handle"], ""),
                                               f"export type {self.names[h.name]} = WasmtoolHandle;"]))
        for e in s.enums:
            values = " | ".join(_ts_literal(v) for _, v in e.members) or "never"
            decls.append((self.names[e.name], [*_jsdoc([f"Python enum {e.py.replace(':', '.')}: its members' values"],
                                                       ""), f"export type {self.names[e.name]} = {values};"]))
        for r in s.records:
            decls.append((self.names[r.name], self.record(r)))
        for _, lines in sorted(decls):
            out += ["", *lines]
        out += ["", *_jsdoc([f"The methods of bindAlias(bundle, {json.dumps(s.alias)}): {s.dist} {s.version}."], ""),
                f"export interface {self.interface} {{"]
        for i, fn in enumerate(functions):
            if i:
                out.append("")
            out += self.method(fn, names[fn.extern_name])
        out.append("}")
        out += [
            "",
            "declare global {",
            "  /** Alias name -> its methods: what bindAlias(bundle, alias) returns, per generated .d.ts. */",
            "  interface WasmtoolAliases {",
            f"    {json.dumps(s.alias)}: {self.interface};",
            "  }",
            "}",
        ]
        return "\n".join(out) + "\n"


def render_typescript(surface: MappedSurface) -> str:
    """The text of ``<alias>.d.ts`` for ``surface`` (pure, deterministic)."""
    return _Render(surface).render()

