"""The mapped surface: the contract between the type table and every generator.

``typemap`` lowers a parsed stub surface into a :class:`MappedSurface`; ``synth`` renders
the wrapper and the Mochi shim from it, ``wit`` renders the WIT world from it, and the
runners call the functions it names. Pure data: no IO, deterministic ``to_dict``.

A :class:`TypeRef` describes one boundary type once; the Mochi text, the WIT text and the
wrapper's conversion are all derived from its ``kind``:

========== ================== ============================ ================================
kind        args               Mochi                        wrapper conversion (Python side)
========== ================== ============================ ================================
int                            int                          int (bigint / int64-only policy)
float                          float                        float; ``py`` names a wire form
bool                           bool                         bool
str                            string                       str; ``py`` names a wire form
bytes                          list<int>                    bytes <-> list[int]
any                            any                          passed through (``py``: widened)
list        (T,)               list<T>                      any iterable -> list (materialised)
set         (T,)               set<T>                       set <-> list/set
map         (K, V)             map<K, V>                    dict
option      (T,)               T?                           None or T
union       (A, B, ...)        any                          first member whose converter accepts
tuple       (A, B, ...)        record ``name`` {t0, t1..}   tuple <-> {"t0":..,"t1":..}
record                         ``name``                     dataclass/TypedDict/NamedTuple <-> dict
enum                           string / int (``value_kind``)  Enum member <-> its value
handle                         ``name`` (``type X = any``)  opaque object (handle table on workers)
callable    (R, A1, A2, ...)   fun(A1, A2): R               embedded only
========== ================== ============================ ================================

**Wire forms** (:data:`WIRE_FORMS`): a ``str`` or ``float`` whose ``py`` names a well-known
standard-library type (``datetime:datetime``, ``decimal:Decimal``, ``datetime:timedelta``...)
crosses as that scalar; only the wrapper converts (``isoformat()`` out,
``datetime.fromisoformat`` in, ...). Mochi and WIT see the plain scalar. A class object
(``type[X]``, ``py`` = :data:`CLASS_PATH_PY`) is a ``str`` wire form too: its dotted path,
checked against the classes its ``name`` lists.

``bytes`` whose ``py`` is ``builtins:memoryview`` is handed to Python as a memoryview.

**Checked unions**: ``union`` has two or more members (none an ``option``, ``any`` or
``union``), in declaration order; ``None`` in a Python union wraps it in ``option``. Mochi
sees ``any``; the wrapper tries the members in order and names them all when none fits. WIT
has no form for it yet (the function is skipped on ``wasi-p2``).

**Widened ``any``**: an ``any`` whose ``py`` is set (``typing:Any``, ``typing:TypeVar``,
``builtins:object``) comes from a declared ``Any`` / unbounded TypeVar / ``object`` in a
complete stub tier; it and every ``union`` make their item "widened"
(:func:`widened_items`, ``WIDENED.txt``). A bare ``any`` is what ``allow-partial`` /
``allow-any`` opted into.

``name`` is the Mochi type name (records, tuples, enums, handles); ``py`` is the Python
``module:QualName`` the wrapper imports to build or check the value.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from wasmtool.skips import SkipReason, SkipReport

TypeKind = Literal[
    "int", "float", "bool", "str", "bytes", "any",
    "list", "set", "map", "option", "union", "tuple", "record", "enum", "handle", "callable",
]
#: ``var_positional``: ``*args: T``, crossing as one ``list<T>`` parameter that the wrapper spreads;
#: ``var_keyword``: ``**kwargs: T``, one trailing ``map<string, T>`` spread as keyword arguments.
ParamKind = Literal["positional_only", "positional_or_keyword", "var_positional", "keyword_only", "var_keyword"]
FunctionKind = Literal["function", "method", "constructor", "getter", "constant"]


@dataclass(frozen=True)
class TypeRef:
    kind: TypeKind
    args: tuple[TypeRef, ...] = ()
    name: str = ""
    py: str = ""
    value_kind: Literal["", "string", "int"] = ""  # enums only

    def walk(self) -> Iterator[TypeRef]:
        """This type and every type nested in it, depth first."""
        yield self
        for a in self.args:
            yield from a.walk()

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind}
        if self.args:
            d["args"] = [a.to_dict() for a in self.args]
        if self.name:
            d["name"] = self.name
        if self.py:
            d["py"] = self.py
        if self.value_kind:
            d["value_kind"] = self.value_kind
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TypeRef:
        return cls(
            kind=d["kind"],
            args=tuple(cls.from_dict(a) for a in d.get("args", [])),
            name=d.get("name", ""),
            py=d.get("py", ""),
            value_kind=d.get("value_kind", ""),
        )


@dataclass(frozen=True)
class Param:
    name: str                 # Python parameter name (used for keyword passing)
    mochi_name: str           # escaped for Mochi keywords (``type`` -> ``type_``)
    type: TypeRef
    kind: ParamKind = "positional_or_keyword"
    has_default: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "mochi_name": self.mochi_name, "type": self.type.to_dict(),
                "kind": self.kind, "has_default": self.has_default}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Param:
        return cls(d["name"], d["mochi_name"], TypeRef.from_dict(d["type"]), d["kind"], d["has_default"])


@dataclass(frozen=True)
class Function:
    """One extern: a function, method, constructor, property getter or constant getter.

    ``extern_name`` is the flat Mochi/wrapper name (``<alias>_<item>``,
    ``<alias>_<Class>_<method>``, ``<alias>_<Class>_new``); ``full`` marks the
    ``_full`` variant that also takes the defaulted parameters (as ``T?``).
    ``target`` is what the wrapper calls: ``module:qualname`` (attribute path for
    getters and constants).
    """

    extern_name: str
    target: str
    kind: FunctionKind
    params: tuple[Param, ...]
    returns: TypeRef | None
    is_async: bool = False
    owner: str = ""           # Mochi type name of the class for methods/getters/constructors
    full: bool = False
    doc: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "extern_name": self.extern_name, "target": self.target, "kind": self.kind,
            "params": [p.to_dict() for p in self.params],
            "returns": self.returns.to_dict() if self.returns else None,
            "is_async": self.is_async, "owner": self.owner, "full": self.full, "doc": self.doc,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Function:
        return cls(
            d["extern_name"], d["target"], d["kind"], tuple(Param.from_dict(p) for p in d["params"]),
            TypeRef.from_dict(d["returns"]) if d["returns"] else None,
            d["is_async"], d["owner"], d["full"], d["doc"],
        )


@dataclass(frozen=True)
class Field:
    name: str                 # Python attribute / key name
    mochi_name: str
    type: TypeRef
    required: bool = True     # TypedDict total=False / NotRequired -> False (rendered T?)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "mochi_name": self.mochi_name, "type": self.type.to_dict(),
                "required": self.required}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Field:
        return cls(d["name"], d["mochi_name"], TypeRef.from_dict(d["type"]), d["required"])


@dataclass(frozen=True)
class Record:
    """A value type: TypedDict, frozen dataclass, NamedTuple, or a synthesised fixed tuple."""

    name: str
    py: str                   # ``module:QualName``; empty for synthesised tuple records
    origin: Literal["typeddict", "dataclass", "namedtuple", "attrs", "tuple", "pydantic"]
    fields: tuple[Field, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "py": self.py, "origin": self.origin,
                "fields": [f.to_dict() for f in self.fields]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Record:
        return cls(d["name"], d["py"], d["origin"], tuple(Field.from_dict(f) for f in d["fields"]))


@dataclass(frozen=True)
class EnumDecl:
    name: str
    py: str
    value_kind: Literal["string", "int"]
    members: tuple[tuple[str, str | int], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "py": self.py, "value_kind": self.value_kind,
                "members": [list(m) for m in self.members]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EnumDecl:
        return cls(d["name"], d["py"], d["value_kind"], tuple((m[0], m[1]) for m in d["members"]))


@dataclass(frozen=True)
class Handle:
    name: str
    py: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "py": self.py}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Handle:
        return cls(d["name"], d["py"])


@dataclass(frozen=True)
class MappedSurface:
    """Everything one bound distribution exposes, for one alias."""

    dist: str
    version: str
    alias: str
    import_names: tuple[str, ...]
    tier: str                  # stub provenance (formats.md §2)
    functions: tuple[Function, ...] = ()
    records: tuple[Record, ...] = ()
    enums: tuple[EnumDecl, ...] = ()
    handles: tuple[Handle, ...] = ()
    skips: tuple[SkipReport, ...] = field(default=())

    @cached_property
    def widened(self) -> tuple[WidenedItem, ...]:
        """:func:`widened_items`, computed once (the shim, ``WIDENED.txt`` and ``surface
        --json`` each ask, and a large surface has tens of thousands of types to walk)."""
        return _widened_items(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dist": self.dist, "version": self.version, "alias": self.alias,
            "import_names": list(self.import_names), "tier": self.tier,
            "functions": [f.to_dict() for f in sorted(self.functions, key=lambda f: f.extern_name)],
            "records": [r.to_dict() for r in sorted(self.records, key=lambda r: r.name)],
            "enums": [e.to_dict() for e in sorted(self.enums, key=lambda e: e.name)],
            "handles": [h.to_dict() for h in sorted(self.handles, key=lambda h: h.name)],
            "skips": [
                {"path": s.path, "reason": s.reason.token, "detail": s.detail, "hint": s.hint}
                for s in sorted(self.skips)
            ],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MappedSurface:
        return cls(
            dist=d["dist"], version=d["version"], alias=d["alias"],
            import_names=tuple(d["import_names"]), tier=d["tier"],
            functions=tuple(Function.from_dict(f) for f in d["functions"]),
            records=tuple(Record.from_dict(r) for r in d["records"]),
            enums=tuple(EnumDecl.from_dict(e) for e in d["enums"]),
            handles=tuple(Handle.from_dict(h) for h in d["handles"]),
            skips=tuple(
                SkipReport(s["path"], SkipReason.from_token(s["reason"]), s["detail"], s["hint"])
                for s in d["skips"]
            ),
        )


def _rename_ref(t: TypeRef, names: dict[str, str]) -> TypeRef:
    args = tuple(_rename_ref(a, names) for a in t.args)
    new_name = names.get(t.name, t.name) if t.kind in ("record", "enum", "handle", "tuple") else t.name
    if args == t.args and new_name == t.name:
        return t
    return TypeRef(t.kind, args, new_name, t.py, t.value_kind)


def rename_types(surface: MappedSurface, names: dict[str, str]) -> MappedSurface:
    """``surface`` with its declared type names (records, tuples, enums, handles) renamed
    per ``names`` everywhere they occur (pure; used to keep names unique across shims)."""
    if not names:
        return surface

    def fn(f: Function) -> Function:
        params = tuple(Param(p.name, p.mochi_name, _rename_ref(p.type, names), p.kind, p.has_default)
                       for p in f.params)
        returns = _rename_ref(f.returns, names) if f.returns is not None else None
        return Function(f.extern_name, f.target, f.kind, params, returns, f.is_async,
                        names.get(f.owner, f.owner), f.full, f.doc)

    records = tuple(Record(names.get(r.name, r.name), r.py, r.origin,
                           tuple(Field(x.name, x.mochi_name, _rename_ref(x.type, names), x.required)
                                 for x in r.fields)) for r in surface.records)
    return MappedSurface(
        dist=surface.dist, version=surface.version, alias=surface.alias, import_names=surface.import_names,
        tier=surface.tier, functions=tuple(fn(f) for f in surface.functions),
        records=tuple(sorted(records, key=lambda r: r.name)),
        enums=tuple(sorted((EnumDecl(names.get(e.name, e.name), e.py, e.value_kind, e.members)
                            for e in surface.enums), key=lambda e: e.name)),
        handles=tuple(sorted((Handle(names.get(h.name, h.name), h.py) for h in surface.handles),
                             key=lambda h: h.name)),
        skips=surface.skips,
    )


def declared_type_names(surface: MappedSurface) -> set[str]:
    return ({r.name for r in surface.records} | {e.name for e in surface.enums}
            | {h.name for h in surface.handles})


# -- wire forms and widened items -------------------------------------------------------------

#: ``py`` of a class object (``type[X]``): a ``str`` wire form, the class's dotted path; the
#: TypeRef's ``name`` lists the classes it must subclass (``module:QualName``, joined by ``|``;
#: empty: any class).
CLASS_PATH_PY = "builtins:type"

#: The wire forms (contract: docs/value-encoding.md): ``py`` of a scalar TypeRef -> its kind.
#: ``runtime/wasmtool_runtime/mochi_wrap.py`` (stdlib only) holds the converters of the same
#: names; a test keeps the two in step.
WIRE_FORMS: dict[str, TypeKind] = {
    "datetime:datetime": "str",
    "datetime:date": "str",
    "datetime:time": "str",
    "datetime:timedelta": "float",
    "decimal:Decimal": "str",
    "uuid:UUID": "str",
    "pathlib:Path": "str",
    "re:Pattern": "str",
    # a class object, as its dotted path; ``name`` lists the classes it must subclass
    CLASS_PATH_PY: "str",
    # numpy scalars named by another distribution's stubs: the Python scalar they hold
    "numpy:float64": "float",
    "numpy:int64": "int",
    "numpy:bool": "bool",
}

_MOCHI_SCALARS = {"int": "int", "float": "float", "bool": "bool", "str": "string", "any": "any",
                  "union": "any", "bytes": "list<int>"}


def mochi_spelling(t: TypeRef) -> str:
    """How Mochi spells ``t``, for messages (``int``, ``list<string>``, ``Point?``); the
    shim's own renderer (:func:`wasmtool.synth.shim.mochi_type`) adds the callable aliases."""
    if t.kind in _MOCHI_SCALARS:
        return _MOCHI_SCALARS[t.kind]
    if t.kind in ("list", "set") and t.args:
        return f"{t.kind}<{mochi_spelling(t.args[0])}>"
    if t.kind == "map" and len(t.args) == 2:
        return f"map<{mochi_spelling(t.args[0])}, {mochi_spelling(t.args[1])}>"
    if t.kind == "option" and t.args:
        return mochi_spelling(t.args[0]).rstrip("?") + "?"
    if t.kind == "callable" and t.args:
        result, *params = t.args
        text = "fun(" + ", ".join(mochi_spelling(p) for p in params) + ")"
        unit = result.kind == "tuple" and not result.args and not result.name
        return text if unit else f"{text}: {mochi_spelling(result)}"
    return t.name or t.kind


def union_spelling(t: TypeRef) -> str:
    """The members of a checked union as Mochi spells them: ``int | string``."""
    return " | ".join(mochi_spelling(a) for a in t.args)


def widened_why(t: TypeRef) -> str:
    """Why ``t`` is widened (``declared Any``, ``checked union int | string``), '' if it is not."""
    if t.kind == "union":
        return f"checked union {union_spelling(t)}"
    if t.kind != "any" or not t.py:
        return ""
    if t.py == "typing:Any":
        return "unannotated" if t.name == "unannotated" else "declared Any"
    if t.py == "typing:TypeVar":
        return f"unbounded TypeVar {t.name}" if t.name else "unbounded TypeVar"
    if t.py == "builtins:object":
        return "declared object"
    return f"declared {t.py.replace(':', '.')}"


@dataclass(frozen=True, order=True)
class WidenedItem:
    """One widened type in a surface: which extern (or record), where in it, and why."""

    extern: str               # extern name, or the Mochi name of a record
    path: str                 # dotted Python path of the item
    where: str                # ``param NAME`` / ``return`` / ``field NAME``
    why: str                  # ``declared Any`` / ``unbounded TypeVar T`` / ``declared object`` /
                              # ``checked union int | string``

    def to_dict(self) -> dict[str, str]:
        return {"extern": self.extern, "path": self.path, "where": self.where, "why": self.why}

    def tsv_line(self) -> str:
        return "\t".join(" ".join(x.split()) for x in (self.extern, self.path, self.where, self.why))


def _dotted(target: str) -> str:
    module, _, qual = target.partition(":")
    return f"{module}.{qual}" if qual else module


def _whys(t: TypeRef) -> list[str]:
    out: list[str] = []
    for sub in t.walk():
        why = widened_why(sub)
        if why and why not in out:
            out.append(why)
    return out


def widened_items(surface: MappedSurface) -> tuple[WidenedItem, ...]:
    """Every widened type of ``surface`` (pure): a parameter, result or record field whose
    type holds a ``union`` or an ``any`` with ``py`` set, one item per distinct reason, sorted."""
    return surface.widened


def _widened_items(surface: MappedSurface) -> tuple[WidenedItem, ...]:
    found: set[WidenedItem] = set()
    for fn in surface.functions:
        path = _dotted(fn.target)
        for p in fn.params:
            found.update(WidenedItem(fn.extern_name, path, f"param {p.name}", why) for why in _whys(p.type))
        if fn.returns is not None:
            found.update(WidenedItem(fn.extern_name, path, "return", why) for why in _whys(fn.returns))
    for rec in surface.records:
        if rec.origin == "tuple":
            continue  # a synthesised tuple's items are reported where the tuple is used
        path = _dotted(rec.py)
        for f in rec.fields:
            found.update(WidenedItem(rec.name, path, f"field {f.name}", why) for why in _whys(f.type))
    return tuple(sorted(found))


def render_widened_txt(surface: MappedSurface) -> str:
    """``WIDENED.txt``: a header line, then ``extern<TAB>python path<TAB>where<TAB>why`` per
    :func:`widened_items`, sorted (docs/value-encoding.md)."""
    lines = [f"# wasmtool WIDENED {surface.dist} {surface.version} tier={surface.tier}"]
    lines.extend(w.tsv_line() for w in widened_items(surface))
    return "\n".join(lines) + "\n"
