"""Render the wrapper ``<pkg>_externs.py`` and its ``.pyi`` from a mapped surface.

The wrapper is the flat calling convention Mochi (and every runner) calls: one module-level
function per extern, parameters in shim order and all positional (Mochi call sites have no
keyword arguments), values in the convention of :mod:`wasmtool_runtime.mochi_wrap`
(imported as ``_mochi_wrap``, copied beside the wrapper). Each function converts its
arguments into Python values, calls the package — keyword-only parameters BY KEYWORD,
``_full`` variants leaving ``None`` parameters to the package's defaults — and converts
the result back, checking it against the declared type (``strict-return-types``).

Design choices:

* The package is imported with ``_mochi_wrap.load_module`` (typed ``Any``): the wrapper
  type-checks with ``mypy --strict`` on its own, whatever stubs the checking environment has.
* The ``.py`` carries the same annotations as the ``.pyi``: records and fixed tuples are
  ``TypedDict``s, enums ``Literal`` aliases, handles ``Any`` aliases (``type X = any`` in the
  shim), ``bytes`` is ``list[int]``.
* Converters are compiled once at import, one per distinct boundary type (a wrapper of
  40,000 externs has a few thousand); scalar arguments take an inline fast path.
* Internal names start with ``_wt_`` so they cannot shadow a parameter of the package.
* A wire-form scalar (``str``/``float`` whose ``py`` names a standard-library type: a
  ``datetime``, a ``Decimal``...) is annotated as its scalar and always goes through its
  converter; a checked ``union`` is ``Any`` in the annotations and its converter tries the
  members in order (docs/value-encoding.md).
"""

from __future__ import annotations

import keyword
from collections.abc import Iterable

from wasmtool.synth.errors import SurfaceRenderError
from wasmtool.typemap.surface import WIRE_FORMS, Function, MappedSurface, Param, Record, TypeRef

__all__ = ["WRAP_MODULE", "py_annotation", "render_externs", "render_externs_stub"]

#: The runtime module's name inside a workspace (formats.md §6).
WRAP_MODULE = "_mochi_wrap"

_SCALAR_PY = {"int": "int", "float": "float", "bool": "bool", "str": "str"}
#: Builtins a wrapper function's body names (annotations, fast paths, the `_full` checks).
_SHADOWED_BUILTINS = frozenset({"int", "float", "bool", "str", "list", "dict", "len", "TypeError"})


def _is_unit(t: TypeRef) -> bool:
    return t.kind == "tuple" and not t.args and not t.name


def py_annotation(t: TypeRef, bi: str = "", shadowed: frozenset[str] = frozenset()) -> str:
    """The Python annotation of the convention value of ``t`` (as text); ``bi`` prefixes the
    builtins it names (``_wt_bi.``, inside a function whose parameter shadows one); a declared
    type named in ``shadowed`` (a parameter of the function has its name: numpy's ``dtype``)
    is named through its private alias ``_wt_T_<name>`` (:func:`_shadow_alias`)."""
    def ann(x: TypeRef) -> str:
        return py_annotation(x, bi, shadowed)

    kind = t.kind
    if kind in _SCALAR_PY:
        return bi + _SCALAR_PY[kind]
    if kind in ("any", "union"):
        return "_wt_t.Any"
    if kind == "bytes":
        return f"{bi}list[{bi}int]"
    if kind in ("list", "set"):
        return f"{bi}list[{ann(t.args[0])}]"
    if kind == "map":
        return f"{bi}dict[{ann(t.args[0])}, {ann(t.args[1])}]"
    if kind == "option":
        inner = t.args[0]
        while inner.kind == "option":
            inner = inner.args[0]
        return f"{ann(inner)} | None"
    if kind == "callable":
        result, *params = t.args
        ret = "None" if _is_unit(result) else ann(result)
        return f"_wt_t.Callable[[{', '.join(ann(p) for p in params)}], {ret}]"
    if kind == "tuple" and not t.args and not t.name:
        return "None"
    if kind in ("tuple", "record", "enum", "handle"):
        return _shadow_alias(t.name) if t.name in shadowed else t.name
    raise SurfaceRenderError(f"unknown boundary type kind {kind!r}")


def _shadow_alias(name: str) -> str:
    return f"_wt_T_{name}"


def _literal(value: object) -> str:
    """A deterministic Python literal for type tables (dicts keep ``to_dict`` order)."""
    return repr(value)


def _doc_line(fn: Function) -> str:
    return fn.doc.strip().splitlines()[0].strip() if fn.doc.strip() else ""


class _Render:
    def __init__(self, surface: MappedSurface) -> None:
        self.s = surface
        self.modules: dict[str, str] = {}
        self.lines: list[str] = []
        self.conv_lines: list[str] = []
        self.n_conv = 0
        self.conv_cache: dict[tuple[str, str, str], str] = {}
        self.reserved = {"_wt_t", "_wt_w", "_WT_RECORDS"}
        # inside a function with a parameter named like a builtin its body uses (`str`,
        # `list`...), the body names builtins through `import builtins as _wt_bi`
        self.bi = ""
        self.uses_builtins = False
        self.type_names = frozenset(_declared_type_names(surface))
        self.shadowed: set[str] = set()   # declared types some function's parameter hides

    # -- names ---------------------------------------------------------------------------------

    def module_var(self, module: str) -> str:
        if module not in self.modules:
            self.modules[module] = f"_wt_m{len(self.modules)}"
        return self.modules[module]

    def conv(self, direction: str, t: TypeRef, where: str) -> str:
        """The converter of ``t`` in ``direction``: one per distinct type, shared by every
        extern that has it (a failure names its extern from the call stack, see
        ``mochi_wrap.arg``); a type that holds a callable keeps one per extern, named at
        import, because a callback may fail after its extern has returned."""
        spec = _literal(t.to_dict())
        own = any(x.kind == "callable" for x in t.walk())
        key = (direction, spec, where if own else "")
        if key not in self.conv_cache:
            name = f"_wt_{direction}{self.n_conv}"
            self.n_conv += 1
            self.conv_cache[key] = name
            named = f", where={where!r}" if own else ""
            self.conv_lines.append(f"{name} = _wt_w.{direction}({spec}{named}, records=_WT_RECORDS)")
        return self.conv_cache[key]

    def target_expr(self, fn: Function) -> tuple[str, list[str]]:
        module, _, qual = fn.target.partition(":")
        parts = qual.split(".") if qual else []
        for p in parts:
            if not p.isidentifier():
                raise SurfaceRenderError(f"{fn.extern_name}: target {fn.target!r} is not an attribute path",
                                         package=self.s.dist)
        return self.module_var(module), parts

    # -- one function ----------------------------------------------------------------------------

    def arg_expr(self, p: Param, fn: Function) -> str:
        t = p.type
        if p.has_default and t.kind == "option":
            t = t.args[0]
        conv = self.conv("arg", t, fn.extern_name)
        if t.kind in ("str", "bool") and not t.py:
            return f"({p.name} if {p.name}.__class__ is {self.bi}{t.kind} else {conv}({p.name}, {p.name!r}))"
        return f"{conv}({p.name}, {p.name!r})"

    def function(self, fn: Function) -> list[str]:
        for p in fn.params:
            if not p.name.isidentifier() or keyword.iskeyword(p.name) or p.name.startswith("_wt_"):
                raise SurfaceRenderError(f"{fn.extern_name}: parameter name {p.name!r} cannot be used",
                                         package=self.s.dist)
        self.bi = "_wt_bi." if {p.name for p in fn.params} & _SHADOWED_BUILTINS else ""
        self.uses_builtins = self.uses_builtins or bool(self.bi)
        # the cast inside the body is read in the function's scope, where a parameter named like
        # a declared type hides it: the cast names that type through its private alias
        shadowed = frozenset({p.name for p in fn.params} & self.type_names)
        self.shadowed |= shadowed
        sig = ", ".join(f"{p.name}: {py_annotation(p.type)}" for p in fn.params)
        ret_ann = "None" if fn.returns is None or _is_unit(fn.returns) else py_annotation(fn.returns)
        body: list[str] = []
        doc = _doc_line(fn)
        if doc:
            body.append(f"    {doc!r}")
        params = list(fn.params)
        if fn.kind in ("method", "getter"):
            mod, parts = "", fn.target.partition(":")[2].split(".")
        else:
            mod, parts = self.target_expr(fn)
        if fn.kind in ("method", "getter"):
            if not params:
                raise SurfaceRenderError(f"{fn.extern_name}: a {fn.kind} needs a self parameter", package=self.s.dist)
            self_p, params = params[0], params[1:]
            callee = f"{self.arg_expr(self_p, fn)}.{parts[-1]}"
        else:
            callee = ".".join([mod, *parts])
        call = callee if fn.kind in ("getter", "constant") else self.call_expr(fn, callee, params, body)
        if fn.is_async:
            call = f"_wt_w.run_async({call}, where={fn.extern_name!r})"
        if fn.returns is None or _is_unit(fn.returns):
            body.append(f"    {call}")
        else:
            conv = self.conv("ret", fn.returns, fn.extern_name)
            cast_ann = py_annotation(fn.returns, self.bi, shadowed)
            body.append(f"    return _wt_t.cast({cast_ann!r}, {conv}({call}, 'return'))")
        return [f"def {fn.extern_name}({sig}) -> {ret_ann}:", *body]

    def call_expr(self, fn: Function, callee: str, params: list[Param], body: list[str]) -> str:
        positional: list[str] = []
        keywords: list[str] = []
        spread: list[str] = []   # **kwargs crosses as one map, spread last
        optional: list[Param] = []
        for p in params:
            if p.kind == "var_keyword" and p.has_default:
                # the `_full` variant's `**kwargs` map: None (or {}) passes no keyword argument
                spread.append(f"**({self.arg_expr(p, fn)} if {p.name} is not None else {{}})")
            elif p.has_default:
                optional.append(p)
            elif p.kind == "keyword_only":
                keywords.append(f"{p.name}={self.arg_expr(p, fn)}")
            elif p.kind == "var_positional":
                positional.append(f"*{self.arg_expr(p, fn)}")   # *args crosses as one list
            elif p.kind == "var_keyword":
                spread.append(f"**{self.arg_expr(p, fn)}")
            else:
                positional.append(self.arg_expr(p, fn))
        if not optional:
            return f"{callee}({', '.join([*positional, *keywords, *spread])})"
        # _full variants: None means "the package's default"
        bi = self.bi
        body.append(f"    _wt_pos: {bi}list[_wt_t.Any] = [{', '.join(positional)}]")
        body.append(f"    _wt_kw: {bi}dict[{bi}str, _wt_t.Any] = {{{', '.join(self._kw_item(k) for k in keywords)}}}")
        n_required_positional = len(positional)
        for i, p in enumerate(optional):
            body.append(f"    if {p.name} is not None:")
            if p.kind == "positional_only":
                body.append(f"        if {bi}len(_wt_pos) != {n_required_positional + i}:")
                body.append(f"            raise {bi}TypeError({fn.extern_name + ': positional-only parameter ' + p.name + ' cannot be given when an earlier one is left to its default'!r})")  # noqa: E501
                body.append(f"        _wt_pos.append({self.arg_expr(p, fn)})")
            else:
                body.append(f"        _wt_kw[{p.name!r}] = {self.arg_expr(p, fn)}")
        # a key of **kwargs that names a parameter given too: Python's "multiple values" TypeError
        return f"{callee}({', '.join(['*_wt_pos', '**_wt_kw', *spread])})"

    @staticmethod
    def _kw_item(text: str) -> str:
        name, _, value = text.partition("=")
        return f"{name!r}: {value}"


def _typed_dict(name: str, fields: Iterable[tuple[str, str, bool]]) -> list[str]:
    items = list(fields)
    ok = all(f.isidentifier() and not keyword.iskeyword(f) for f, _, _ in items)
    if ok:
        out = [f"class {name}(_wt_t.TypedDict):"]
        for f, ann, req in items:
            out.append(f"    {f}: {ann if req else f'_wt_t.NotRequired[{ann}]'}")
        return out
    # functional form (a field name is a Python keyword): values are evaluated, so quote them
    body = ", ".join(f"{f!r}: {(ann if req else f'_wt_t.NotRequired[{ann}]')!r}" for f, ann, req in items)
    return [f"{name} = _wt_t.TypedDict({name!r}, {{{body}}})"]


def _declared_type_names(surface: MappedSurface) -> set[str]:
    names = {h.name for h in surface.handles} | {e.name for e in surface.enums} | {r.name for r in surface.records}
    for fn in surface.functions:
        for t in [*(p.type for p in fn.params), *([fn.returns] if fn.returns else [])]:
            names |= {x.name for x in t.walk() if x.kind == "tuple" and x.name}
    return names


def _type_decls(surface: MappedSurface, *, stub: bool) -> list[str]:
    out: list[str] = []
    decls: list[tuple[str, list[str]]] = []
    for h in surface.handles:
        decls.append((h.name, [f"{h.name}: _wt_t.TypeAlias = _wt_t.Any  # {h.py}"]))
    for e in surface.enums:
        values = ", ".join(repr(v) for _, v in e.members)
        decls.append((e.name, [f"{e.name}: _wt_t.TypeAlias = _wt_t.Literal[{values}]  # {e.py}"]))
    for r in surface.records:
        decls.append((r.name, _record_decl(r)))
    for _, lines in sorted(decls):
        out += lines
        if len(lines) > 1 or lines[0].startswith("class "):
            out.append("")
    return out


def _record_decl(r: Record) -> list[str]:
    fields = [(f.name, py_annotation(f.type), f.required) for f in sorted(r.fields, key=lambda f: f.name)]
    return _typed_dict(r.name, fields)


def _header(surface: MappedSurface, kind: str) -> list[str]:
    return [
        f"# Generated by wasmtool from {surface.dist} {surface.version} ({surface.tier}). Do not edit.",
        f'"""{kind} of {surface.dist} {surface.version} for the Mochi alias `{surface.alias}`: '
        f'{len(surface.functions)} functions, {len(surface.skips)} skipped (see SKIPPED.txt)."""',
        "",
        "from __future__ import annotations",
        "",
        "import typing as _wt_t",
        "",
    ]


def _check_types(surface: MappedSurface) -> None:
    """Every wire form is one the runtime converts, every union has two or more members."""
    types: list[tuple[str, TypeRef]] = []
    for fn in surface.functions:
        types += [(fn.extern_name, p.type) for p in fn.params]
        if fn.returns is not None:
            types.append((fn.extern_name, fn.returns))
    types += [(r.name, f.type) for r in surface.records for f in r.fields]
    for where, t in types:
        for sub in t.walk():
            if sub.kind in ("int", "float", "bool", "str") and sub.py and WIRE_FORMS.get(sub.py) != sub.kind:
                raise SurfaceRenderError(f"{where}: {sub.kind} type with py {sub.py!r} is not a known wire form",
                                         package=surface.dist)
            if sub.kind == "union" and len(sub.args) < 2:
                raise SurfaceRenderError(f"{where}: a union needs two or more members", package=surface.dist)


def _check_names(surface: MappedSurface) -> None:
    seen: dict[str, str] = {}
    items = [(h.name, "handle") for h in surface.handles] + [(e.name, "enum") for e in surface.enums]
    items += [(r.name, "record") for r in surface.records] + [(f.extern_name, "extern") for f in surface.functions]
    for name, what in items:
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_wt_") or name == "_WT_RECORDS":
            raise SurfaceRenderError(f"{what} name {name!r} is not usable as a Python name", package=surface.dist)
        if name in seen:
            raise SurfaceRenderError(f"{name!r} is both a {seen[name]} and a {what}", package=surface.dist)
        seen[name] = what


def render_externs(surface: MappedSurface) -> str:
    """The wrapper module ``<pkg>_externs.py`` (deterministic)."""
    _check_names(surface)
    _check_types(surface)
    r = _Render(surface)
    functions = sorted(surface.functions, key=lambda f: f.extern_name)
    bodies: list[str] = []
    for fn in functions:
        bodies += ["", "", *r.function(fn)]
    records = {rec.name: rec.to_dict() for rec in sorted(surface.records, key=lambda x: x.name)}
    out = _header(surface, "Externs")
    if r.uses_builtins:
        out.insert(out.index("import typing as _wt_t"), "import builtins as _wt_bi")
    out += [f"import {WRAP_MODULE} as _wt_w", ""]
    names = sorted([*(f.extern_name for f in functions)])
    out.append("__all__ = [" + ", ".join(repr(n) for n in names) + "]")
    out.append("")
    out += _type_decls(surface, stub=False)
    out += [f"{_shadow_alias(n)}: _wt_t.TypeAlias = {n}" for n in sorted(r.shadowed)]
    out.append(f"_WT_RECORDS: dict[str, _wt_t.Any] = {_literal(records)}")
    out.append("")
    # the surface's own modules are imported with the wrapper (a broken install fails early);
    # other modules (where a referenced class is defined) on first use
    surface_modules = set(surface.import_names)
    for module, var in sorted(r.modules.items(), key=lambda kv: int(kv[1][len('_wt_m'):])):
        loader = "load_module" if module in surface_modules else "lazy_module"
        out.append(f"{var}: _wt_t.Any = _wt_w.{loader}({module!r})")
    out.append("")
    out += r.conv_lines
    out += bodies
    out += ["", "", "_wt_w.export(globals())"]
    return "\n".join(out).rstrip("\n") + "\n"


def render_externs_stub(surface: MappedSurface) -> str:
    """The stub ``<pkg>_externs.pyi``: the same names and annotations, no bodies."""
    _check_names(surface)
    out = _header(surface, "Type stub for the externs")
    functions = sorted(surface.functions, key=lambda f: f.extern_name)
    out.append("__all__ = [" + ", ".join(repr(f.extern_name) for f in functions) + "]")
    out.append("")
    out += _type_decls(surface, stub=True)
    for fn in functions:
        sig = ", ".join(f"{p.name}: {py_annotation(p.type)}" for p in fn.params)
        ret = "None" if fn.returns is None or _is_unit(fn.returns) else py_annotation(fn.returns)
        out.append(f"def {fn.extern_name}({sig}) -> {ret}: ...")
    return "\n".join(out).rstrip("\n") + "\n"
