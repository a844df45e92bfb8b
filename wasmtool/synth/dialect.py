"""Mochi shim dialects and what crosses the released Mochi's Python FFI (pure).

Two dialects (``[python] mochi-dialect``, docs/calling-python-from-mochi.md):

* ``"0.10"`` (default): what every released Mochi (0.10.x) parses and runs::

      import python "python_wrap.tomli.tomli_externs" as tomli
      extern fun tomli.tomli_loads(s: string): map<string, any>

  Each call is a fresh ``python3`` that imports the wrapper, calls one module-level function
  with the JSON arguments spread positionally and JSON-encodes the result: nothing survives
  between calls. So only functions whose parameters and result are plain JSON values after
  the wrapper's conversions are declared; the rest get a :attr:`SkipReason.SkipStatelessFfi`
  report (a live object: handles, methods, constructors; a callable; a map whose keys are
  not strings).
* ``"mep-71"``: ``extern python fun <alias>_<item>(...)`` for the grammar MEP-71 describes
  (no Mochi release parses it); every mapped function is declared.

The wrapper (``<pkg>_externs.py``) is the same in both dialects and keeps every function:
``wasmtool call`` / ``run`` and the wasm targets still reach handles and methods.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from wasmtool.skips import SkipReason, SkipReport
from wasmtool.typemap.surface import Function, MappedSurface, Record, TypeRef

__all__ = ["DEFAULT_DIALECT", "DIALECTS", "MochiDialect", "ffi_blocker", "ffi_split", "python_path",
           "referenced_types"]

MochiDialect = Literal["0.10", "mep-71"]
DIALECTS: tuple[MochiDialect, ...] = ("0.10", "mep-71")
DEFAULT_DIALECT: MochiDialect = "0.10"

_HINT = "reachable with `wasmtool call`/`run`, on the wasm targets and in the mep-71 dialect"


def _type_blocker(t: TypeRef, records: dict[str, Record], seen: frozenset[str]) -> str:
    """Why a value of type ``t`` cannot cross as JSON ('' when it can)."""
    kind = t.kind
    if kind == "handle":
        return f"a live Python object ({t.py or t.name})"
    if kind == "callable":
        return "a callable"
    if kind == "map":
        key = t.args[0]
        if key.kind != "str" and not (key.kind == "enum" and key.value_kind == "string"):
            return "a map whose keys are not strings (JSON object keys are strings)"
    if kind in ("record", "tuple") and t.name in records and t.name not in seen:
        for f in records[t.name].fields:
            why = _type_blocker(f.type, records, seen | {t.name})
            if why:
                return why
    for a in t.args:
        why = _type_blocker(a, records, seen)
        if why:
            return why
    return ""


def ffi_blocker(fn: Function, records: dict[str, Record]) -> str:
    """Why ``fn`` cannot be called through the stateless 0.10 FFI ('' when it can)."""
    for p in fn.params:
        why = _type_blocker(p.type, records, frozenset())
        if why:
            return f"parameter {p.name} takes {why}"
    if fn.returns is not None:
        why = _type_blocker(fn.returns, records, frozenset())
        if why:
            return f"returns {why}"
    return ""


def python_path(fn: Function) -> str:
    """The dotted Python path of what ``fn`` calls (``tomli.loads``, ``attrs.Attribute.evolve``)."""
    module, _, qual = fn.target.partition(":")
    return f"{module}.{qual}" if qual else module


def ffi_split(surface: MappedSurface) -> tuple[tuple[Function, ...], tuple[SkipReport, ...]]:
    """The functions a 0.10 shim declares, and a skip report for each one it cannot."""
    records = {r.name: r for r in surface.records}
    keep: list[Function] = []
    skips: list[SkipReport] = []
    for fn in sorted(surface.functions, key=lambda f: f.extern_name):
        why = ffi_blocker(fn, records)
        if why:
            skips.append(SkipReport(python_path(fn), SkipReason.SkipStatelessFfi,
                                    f"{fn.extern_name}: {why}", _HINT))
        else:
            keep.append(fn)
    return tuple(keep), tuple(sorted(skips))



def referenced_types(functions: Iterable[Function], records: Iterable[Record]) -> set[str]:
    """Names of the declared types (records, tuples, enums, handles) that ``functions`` reach,
    through record fields too."""
    by_name = {r.name: r for r in records}
    todo: list[TypeRef] = []
    for fn in functions:
        todo.extend(p.type for p in fn.params)
        if fn.returns is not None:
            todo.append(fn.returns)
    found: set[str] = set()
    while todo:
        for sub in todo.pop().walk():
            if sub.kind in ("record", "tuple", "enum", "handle") and sub.name and sub.name not in found:
                found.add(sub.name)
                rec = by_name.get(sub.name)
                if rec is not None:
                    todo.extend(f.type for f in rec.fields)
    return found
