"""The WIT plan: a :class:`~wasmtool.typemap.surface.MappedSurface` lowered to WIT names.

``plan_surface(surface)`` is pure and deterministic. It decides, once, everything the
WIT text (:mod:`wasmtool.wit.render`), the guest glue (:mod:`wasmtool.wit.guest`) and
the host runner (:mod:`wasmtool.run.wasi`) need: the package and world names, one
interface per Python module (the module part of ``Function.target``), the label of every
function, parameter, record field and enum case, and which functions are skipped on this
target (with a :class:`~wasmtool.skips.SkipReport`).

Type mapping (typemap.md, WIT column): ``int`` -> ``s64``, ``float`` -> ``f64``, ``bytes``
-> ``list<u8>``, ``list``/``set`` -> ``list<T>``, ``map<K, V>`` -> ``list<tuple<K, V>>``,
``option`` -> ``option<T>`` (nested options collapse), fixed tuples -> ``tuple<..>``,
records -> ``record``, string enums -> ``enum`` (cases from the member names; the value
crosses as the case), int enums -> ``s64``, handles (opaque Python objects) -> a
``resource`` (typemap.md: plain classes and protocols): returned as ``own<r>`` anywhere in
a result, taken as ``borrow<r>`` only as a whole parameter (a handle inside a container
parameter would move the caller's resource into the component). A checked union as a whole
parameter crosses as one of its members (``string`` when it has one, else the first with a
WIT form): the guest's wrapper accepts every member. Callables and checked unions
elsewhere have no WIT form: functions that touch them are skipped with
``SkipTargetUnrepresentable``, as are records that are recursive. ``any`` (a declared
``Any`` the surface maps) is the record ``dyn-value`` of the shipped interface
``mochi:python/dynamic`` (``wit/mochi-python/dynamic.wit``): a flattened tree of nodes,
converted both ways by :mod:`wasmtool.wit.values`; :attr:`WitPlan.uses_any` says whether a
plan needs it. A wire-form scalar (a
``str``/``float`` with ``py``: a ``datetime``, a ``Decimal``...) is its scalar here; the
guest's wrapper converts it. Every function returns
``result<T, py-error>`` (``result<_, py-error>`` without a value).

Records, enums and resources live in a package interface ``types`` (exported by the world);
each resource has one method, ``python-type``, naming the wrapped object's class;
``py-error`` comes from the shipped package ``mochi:python@0.1.0`` (``wit/mochi-python``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from wasmtool.skips import SkipReason, SkipReport
from wasmtool.targets.profile import COMPONENT_TARGET
from wasmtool.typemap.surface import EnumDecl, Function, MappedSurface, Record, TypeRef, union_spelling

from .names import LabelAllocator, kebab, semver

__all__ = [
    "DYNAMIC_INTERFACE",
    "DYN_VALUE",
    "PY_ERROR_PACKAGE",
    "PY_ERROR_VERSION",
    "TYPES_INTERFACE",
    "WitEnum",
    "WitField",
    "WitFunction",
    "WitInterface",
    "WitParam",
    "WitPlan",
    "WitRecord",
    "WitResource",
    "has_any",
    "plan_surface",
]

PY_ERROR_PACKAGE = "mochi:python"
PY_ERROR_VERSION = "0.1.0"
TYPES_INTERFACE = "types"
#: The shipped interface holding ``dyn-value`` (package ``mochi:python``) and that type's label.
DYNAMIC_INTERFACE = "dynamic"
DYN_VALUE = "dyn-value"
#: The profile named in the skip reasons of a plan, unless :func:`plan_surface` is told another.
TARGET = COMPONENT_TARGET


@dataclass(frozen=True)
class WitParam:
    label: str
    name: str                 # Python parameter name
    kind: str                 # ParamKind
    type: TypeRef

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "name": self.name, "kind": self.kind, "type": self.type.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WitParam:
        return cls(d["label"], d["name"], d["kind"], TypeRef.from_dict(d["type"]))


@dataclass(frozen=True)
class WitFunction:
    label: str
    extern_name: str
    target: str
    params: tuple[WitParam, ...]
    result: TypeRef | None
    doc: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "extern_name": self.extern_name, "target": self.target,
                "params": [p.to_dict() for p in self.params],
                "result": self.result.to_dict() if self.result else None, "doc": self.doc}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WitFunction:
        return cls(d["label"], d["extern_name"], d["target"],
                   tuple(WitParam.from_dict(p) for p in d["params"]),
                   TypeRef.from_dict(d["result"]) if d["result"] else None, d.get("doc", ""))


@dataclass(frozen=True)
class WitInterface:
    label: str
    module: str               # the Python module its functions come from
    functions: tuple[WitFunction, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "module": self.module,
                "functions": [f.to_dict() for f in self.functions]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WitInterface:
        return cls(d["label"], d["module"], tuple(WitFunction.from_dict(f) for f in d["functions"]))


@dataclass(frozen=True)
class WitField:
    label: str
    name: str                 # Python field / key name
    type: TypeRef             # already wrapped in option for not-required fields
    required: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "name": self.name, "type": self.type.to_dict(), "required": self.required}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WitField:
        return cls(d["label"], d["name"], TypeRef.from_dict(d["type"]), d["required"])


@dataclass(frozen=True)
class WitRecord:
    label: str
    name: str                 # Mochi type name (TypeRef.name)
    py: str
    fields: tuple[WitField, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "name": self.name, "py": self.py,
                "fields": [f.to_dict() for f in self.fields]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WitRecord:
        return cls(d["label"], d["name"], d["py"], tuple(WitField.from_dict(f) for f in d["fields"]))


@dataclass(frozen=True)
class WitEnum:
    """A string enum (a WIT ``enum``; ``cases`` are (case label, member value)) or an int
    enum (``value_kind == "int"``: crosses as ``s64``, no cases, not in the WIT text)."""

    label: str
    name: str
    py: str
    value_kind: str
    cases: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "name": self.name, "py": self.py, "value_kind": self.value_kind,
                "cases": [list(c) for c in self.cases]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WitEnum:
        return cls(d["label"], d["name"], d["py"], d["value_kind"], tuple((c[0], c[1]) for c in d["cases"]))


@dataclass(frozen=True)
class WitResource:
    label: str
    name: str          # the Mochi handle type name
    py: str

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "name": self.name, "py": self.py}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WitResource:
        return cls(d["label"], d["name"], d.get("py", ""))


@dataclass(frozen=True)
class WitPlan:
    """Everything about one component's WIT, by label. JSON round-trips (``to_dict``)."""

    namespace: str            # ``mochi``
    package: str              # ``py-tomli``
    version: str              # semver
    world: str
    interfaces: tuple[WitInterface, ...]
    records: tuple[WitRecord, ...] = ()
    enums: tuple[WitEnum, ...] = ()
    skips: tuple[SkipReport, ...] = field(default=())
    resources: tuple[WitResource, ...] = ()

    @property
    def package_id(self) -> str:
        """``mochi:py-tomli@2.5.0``."""
        return f"{self.namespace}:{self.package}@{self.version}"

    def interface_id(self, label: str) -> str:
        """The export name of an interface: ``mochi:py-tomli/tomli@2.5.0``."""
        return f"{self.namespace}:{self.package}/{label}@{self.version}"

    @property
    def has_types(self) -> bool:
        """Whether the package has a ``types`` interface (records, string enums or resources)."""
        return bool(self.records or self.resources or any(e.value_kind == "string" for e in self.enums))

    @property
    def uses_any(self) -> bool:
        """Whether a kept function or record has an ``any`` (``dyn-value``) in its types."""
        types = [f.type for r in self.records for f in r.fields]
        for _iface, fn in self.functions():
            types += [p.type for p in fn.params] + ([fn.result] if fn.result is not None else [])
        return any(has_any(t) for t in types)

    def functions(self) -> Iterator[tuple[WitInterface, WitFunction]]:
        for iface in self.interfaces:
            for fn in iface.functions:
                yield iface, fn

    @property
    def exported(self) -> tuple[str, ...]:
        """Extern names of the exported functions, sorted."""
        return tuple(sorted(fn.extern_name for _, fn in self.functions()))

    @cached_property
    def _by_name(self) -> tuple[dict[str, WitRecord], dict[str, WitEnum], dict[str, WitResource]]:
        """Records, enums and resources by Mochi name (the first of a name wins), built once:
        rendering a large package's WIT looks a type up for every use of it."""
        return ({r.name: r for r in reversed(self.records)}, {e.name: e for e in reversed(self.enums)},
                {r.name: r for r in reversed(self.resources)})

    def record(self, name: str) -> WitRecord:
        found = self._by_name[0].get(name)
        return found if found is not None else next(r for r in self.records if r.name == name)

    def enum(self, name: str) -> WitEnum:
        found = self._by_name[1].get(name)
        return found if found is not None else next(e for e in self.enums if e.name == name)

    def resource(self, name: str) -> WitResource:
        found = self._by_name[2].get(name)
        return found if found is not None else next(r for r in self.resources if r.name == name)

    def codec_tables(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(records, enums)`` keyed by Mochi type name, as :class:`wasmtool.wit.values.Codec` takes them."""
        records = {r.name: {"label": r.label,
                            "fields": [{"name": f.name, "label": f.label, "type": f.type.to_dict(),
                                        "required": f.required} for f in r.fields]}
                   for r in self.records}
        enums = {e.name: {"label": e.label, "value_kind": e.value_kind, "cases": [list(c) for c in e.cases]}
                 for e in self.enums}
        return records, enums

    def to_dict(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace, "package": self.package, "version": self.version,
            "world": self.world,
            "interfaces": [i.to_dict() for i in self.interfaces],
            "records": [r.to_dict() for r in self.records],
            "enums": [e.to_dict() for e in self.enums],
            "resources": [r.to_dict() for r in self.resources],
            "skips": [{"path": s.path, "reason": s.reason.token, "detail": s.detail, "hint": s.hint}
                      for s in self.skips],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WitPlan:
        return cls(
            d["namespace"], d["package"], d["version"], d["world"],
            tuple(WitInterface.from_dict(i) for i in d["interfaces"]),
            tuple(WitRecord.from_dict(r) for r in d["records"]),
            tuple(WitEnum.from_dict(e) for e in d["enums"]),
            tuple(SkipReport(s["path"], SkipReason.from_token(s["reason"]), s["detail"], s["hint"])
                  for s in d["skips"]),
            tuple(WitResource.from_dict(r) for r in d.get("resources", ())),
        )


def has_any(t: TypeRef) -> bool:
    """Whether ``t`` is or holds an ``any``."""
    return t.kind == "any" or any(has_any(a) for a in t.args)


# -- planning ------------------------------------------------------------------------------


class _Unrepresentable(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _collapse(t: TypeRef) -> TypeRef:
    """Normalise a TypeRef for WIT: nested options collapse (``None`` cannot tell them apart)."""
    if t.kind == "option" and t.args:
        inner = _collapse(t.args[0])
        return inner if inner.kind == "option" else TypeRef("option", (inner,))
    if t.args and t.kind in ("list", "set", "map", "tuple"):
        return TypeRef(t.kind, tuple(_collapse(a) for a in t.args), name=t.name, py=t.py,
                       value_kind=t.value_kind)
    return t


class _Planner:
    def __init__(self, surface: MappedSurface) -> None:
        self.surface = surface
        self.records: dict[str, Record] = {r.name: r for r in surface.records if r.origin != "tuple"}
        self.enums: dict[str, EnumDecl] = {e.name: e for e in surface.enums}
        self.handles = {h.name: h for h in surface.handles}
        self._record_ok: dict[str, str | None] = {}   # name -> None (fine) or why not
        self.used_records: set[str] = set()
        self.used_enums: set[str] = set()
        self.used_handles: set[str] = set()

    def check_param(self, t: TypeRef) -> None:
        """A parameter: a handle only as the whole parameter (``borrow<r>``)."""
        if t.kind == "handle":
            self._handle(t)
            return
        self.check(t, owned=False)

    def _handle(self, t: TypeRef) -> None:
        if t.name not in self.handles:
            raise _Unrepresentable(f"handle {t.name or t.py} is not declared in the surface")
        self.used_handles.add(t.name)

    def check(self, t: TypeRef, stack: tuple[str, ...] = (), *, owned: bool = True) -> None:
        """Raise :class:`_Unrepresentable` if ``t`` has no WIT form; note records/enums/handles used.
        ``owned``: a handle may appear (as ``own<r>``), i.e. ``t`` is (part of) a result."""
        kind = t.kind
        if kind in ("int", "float", "bool", "str", "bytes", "any"):
            return
        if kind in ("list", "set", "option"):
            if len(t.args) != 1:
                raise _Unrepresentable(f"{kind} without one type argument")
            self.check(t.args[0], stack, owned=owned)
            return
        if kind == "map":
            if len(t.args) != 2:
                raise _Unrepresentable("map without key and value types")
            self.check(t.args[0], stack, owned=owned)
            self.check(t.args[1], stack, owned=owned)
            return
        if kind == "tuple":
            if not t.args:
                raise _Unrepresentable("empty tuple")
            for a in t.args:
                self.check(a, stack, owned=owned)
            return
        if kind == "enum":
            decl = self.enums.get(t.name)
            if decl is None:
                raise _Unrepresentable(f"enum {t.name} is not declared in the surface")
            if decl.value_kind == "string" and not decl.members:
                raise _Unrepresentable(f"enum {t.name} has no members")
            self.used_enums.add(t.name)
            return
        if kind == "record":
            if t.name in stack:
                raise _Unrepresentable(f"record {t.name} is recursive (WIT types cannot be)")
            rec = self.records.get(t.name)
            if rec is None:
                raise _Unrepresentable(f"record {t.name} is not declared in the surface")
            for f in rec.fields:
                self.check(f.type, (*stack, t.name), owned=owned)
            self.used_records.add(t.name)
            return
        if kind == "handle":
            if not owned:
                raise _Unrepresentable(f"handle {t.name or t.py} inside a parameter (only a whole parameter "
                                       "can borrow a resource)")
            self._handle(t)
            return
        if kind == "callable":
            raise _Unrepresentable("callables cannot cross the component boundary")
        if kind == "union":
            raise _Unrepresentable(f"checked union {union_spelling(t)} has no WIT form yet")
        raise _Unrepresentable(f"{kind} has no WIT type")


def _module_of(target: str) -> str:
    return target.split(":", 1)[0] if ":" in target else target.rsplit(".", 1)[0]


def _strip_alias(extern: str, alias: str) -> str:
    prefix = f"{alias}_"
    return extern[len(prefix):] if alias and extern.startswith(prefix) and len(extern) > len(prefix) else extern


def _param_form(t: TypeRef, planner: _Planner) -> TypeRef:
    """A parameter's WIT type: a checked union (or an optional one) crosses as one of its
    members, ``string`` when it has one, else the first that has a WIT form. Narrowing an input
    is sound: the component's wrapper accepts every member, the caller passes this one."""
    inner = t.args[0] if t.kind == "option" else t
    if inner.kind != "union":
        return t
    members = sorted(inner.args, key=lambda m: m.kind != "str")   # stable: declaration order otherwise
    for member in members:
        try:
            planner.check_param(member)
        except _Unrepresentable:
            continue
        return TypeRef("option", (member,)) if t.kind == "option" else member
    return t


def plan_surface(surface: MappedSurface, *, target: str = TARGET) -> WitPlan:
    """Lower ``surface`` to a :class:`WitPlan` (pure, deterministic; see the module docstring).

    The plan's ``skips`` are only the functions skipped on this target (``target`` names it in
    their reasons); the surface's own skips stay on the surface.
    """
    planner = _Planner(surface)
    skips: list[SkipReport] = []
    kept: list[tuple[Function, tuple[TypeRef, ...], TypeRef | None]] = []
    for fn in sorted(surface.functions, key=lambda f: f.extern_name):
        try:
            params = tuple(_param_form(_collapse(p.type), planner) for p in fn.params)
            result = _collapse(fn.returns) if fn.returns is not None else None
            if result is not None and result.kind == "tuple" and not result.args:
                result = None         # ``UNIT``: no value
            for p, t in zip(fn.params, params, strict=True):
                try:
                    planner.check_param(t)
                except _Unrepresentable as exc:
                    raise _Unrepresentable(f"parameter {p.name}: {exc.detail}") from None
            if result is not None:
                try:
                    planner.check(result)
                except _Unrepresentable as exc:
                    raise _Unrepresentable(f"return: {exc.detail}") from None
        except _Unrepresentable as exc:
            skips.append(SkipReport((fn.target or fn.extern_name).replace(":", "."),
                                    SkipReason.SkipTargetUnrepresentable,
                                    f"{fn.extern_name}: {exc.detail}", f"not exported on {target}"))
            continue
        kept.append((fn, params, result))

    # records / enums reachable from the kept functions only (the planner collected extra ones
    # for functions that were later skipped; recompute from the kept set)
    planner.used_records.clear()
    planner.used_enums.clear()
    planner.used_handles.clear()
    for _fn, params, result in kept:
        for t in params:
            planner.check_param(t)
        if result is not None:
            planner.check(result)

    type_labels = LabelAllocator(reserved=(DYN_VALUE,))
    records: list[WitRecord] = []
    enums: list[WitEnum] = []
    resources: list[WitResource] = []
    # records, enums and resources share the ``types`` interface's namespace; allocate in name order
    for kind, name in sorted([("record", n) for n in planner.used_records]
                             + [("enum", n) for n in planner.used_enums]
                             + [("resource", n) for n in planner.used_handles], key=lambda x: (x[1], x[0])):
        if kind == "resource":
            resources.append(WitResource(type_labels.allocate(kebab(name)), name, planner.handles[name].py))
        elif kind == "record":
            rec = planner.records[name]
            label = type_labels.allocate(kebab(name))
            field_labels = LabelAllocator()
            fields = []
            for f in sorted(rec.fields, key=lambda f: f.name):
                ft = _collapse(f.type)
                if not f.required and ft.kind != "option":
                    ft = TypeRef("option", (ft,))
                fields.append(WitField(field_labels.allocate(kebab(f.name)), f.name, ft, f.required))
            records.append(WitRecord(label, name, rec.py, tuple(fields)))
        else:
            decl = planner.enums[name]
            label = type_labels.allocate(kebab(name))
            cases: tuple[tuple[str, str], ...] = ()
            if decl.value_kind == "string":
                case_labels = LabelAllocator()
                cases = tuple((case_labels.allocate(kebab(m_name)), str(value))
                              for m_name, value in decl.members)
            enums.append(WitEnum(label, name, decl.py, decl.value_kind, cases))

    # interfaces: one per Python module, labels allocated in module order; ``types`` reserved
    by_module: dict[str, list[tuple[Function, tuple[TypeRef, ...], TypeRef | None]]] = {}
    for item in kept:
        by_module.setdefault(_module_of(item[0].target), []).append(item)
    world = kebab(surface.dist, fallback="dist")
    # interfaces and the world share the package's namespace: the module named like the
    # world (usually the top-level import package) becomes ``api`` (formats.md §8)
    iface_labels = LabelAllocator(reserved=(TYPES_INTERFACE, world))
    interfaces: list[WitInterface] = []
    for module in sorted(by_module):
        wanted = kebab(module.lstrip("_"), fallback="module")
        ilabel = iface_labels.allocate("api" if wanted == world else wanted)
        # functions share the interface's namespace with the types it ``use``s: ``py-error`` is
        # reserved; a record / enum named like a function is renamed in the ``use`` (render.py)
        fn_labels = LabelAllocator(reserved=("py-error", DYN_VALUE))
        functions: list[WitFunction] = []
        for fn, params, result in by_module[module]:   # already sorted by extern name
            flabel = fn_labels.allocate(kebab(_strip_alias(fn.extern_name, surface.alias), fallback="call"))
            # ``self`` would clash with the receiver of componentize-py's generated methods
            p_labels = LabelAllocator(reserved=("self",))
            wparams = tuple(WitParam(p_labels.allocate(kebab(p.name, fallback="arg")), p.name, p.kind, t)
                            for p, t in zip(fn.params, params, strict=True))
            functions.append(WitFunction(flabel, fn.extern_name, fn.target, wparams, result, fn.doc))
        interfaces.append(WitInterface(ilabel, module, tuple(functions)))

    return WitPlan(
        namespace="mochi",
        package="py-" + kebab(surface.dist, fallback="dist"),
        version=semver(surface.version),
        world=world,
        interfaces=tuple(interfaces),
        records=tuple(sorted(records, key=lambda r: r.label)),
        enums=tuple(sorted(enums, key=lambda e: e.label)),
        skips=tuple(sorted(skips)),
        resources=tuple(sorted(resources, key=lambda r: r.label)),
    )
