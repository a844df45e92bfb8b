"""Declarations -> :class:`MappedSurface` (typemap.md §4): :func:`map_module`.

Pure: takes every :class:`~wasmtool.stubs.model.ModuleStub` of one distribution and
returns the mapped surface of its import packages for one alias. Each public item
either becomes externs (functions, methods, constructors, getters, constants) and types
(records, enums, handles), or yields exactly one :class:`SkipReport`.

Decisions beyond the table, all deterministic:

* Public surface = the modules named in ``import_names``: ``__all__`` when present,
  else public names defined there plus PEP 484 re-exports (``import x as x``,
  ``from . import y``, ``from m import *``). Re-exports are followed through the
  distribution's own modules; names from other distributions are ``SkipForwardRef``.
* Classes referenced by a mapped signature or record field are mapped too (their
  methods included), under their defining module when not exported.
* ``*args: T`` is one ``list<T>`` parameter and ``**kwargs: T`` one trailing
  ``map<string, T>`` parameter, which the wrapper spreads; a ``**kwargs`` whose type does
  not map is dropped from the externs with one report for that parameter;
  ``**kw: Unpack[TD]`` is expanded into keyword-only parameters.
* A defaulted parameter whose type does not map is left out of ``_full`` and reported
  on its own (path ``<function>.<param>``); a required one skips the function.
* Property/attribute getters are ``<a>_<C>_<name>`` (reference shim), mutable dataclass
  field getters ``<a>_<C>_get_<f>`` (typemap.md §4).
* Names: Mochi keywords get a trailing ``_``; type names also avoid Mochi built-in type
  names; clashes get ``_2``, ``_3``... in a fixed order (kind, then Python target).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from wasmtool.mochi_syntax import MOCHI_KEYWORDS, spell_inner_digits
from wasmtool.skips import SkipReason, SkipReport
from wasmtool.stubs.model import (
    AliasDecl,
    ClassDecl,
    ConstDecl,
    FieldDecl,
    FuncDecl,
    ModuleStub,
    ParamDecl,
    TypeParam,
    TypeVarDecl,
)
from wasmtool.targets.profile import DEFAULT_TARGET
from wasmtool.typemap.annotation import Name, Subscript, normalise, parse_annotation
from wasmtool.typemap.errors import TypemapSettingError
from wasmtool.typemap.surface import (
    EnumDecl,
    Field,
    Function,
    FunctionKind,
    Handle,
    MappedSurface,
    Param,
    ParamKind,
    Record,
    TypeRef,
)
from wasmtool.typemap.table import (
    ANY_UNANNOTATED,
    AnyPolicy,
    LowerContext,
    LoweredReturn,
    NarrowedMember,
    Resolved,
    ResolvedAlias,
    ResolvedSkip,
    ResolvedTypeVar,
    ResolvedWellKnown,
    any_permitted,
    any_widens,
    field_qualifiers,
    lower_annotation,
    lower_return,
    option_of,
    parse_monomorphise,
    type_fragment,
)
from wasmtool.typemap.wellknown import well_known

__all__ = ["MOCHI_KEYWORDS", "MOCHI_TYPE_NAMES", "PackageResolver", "map_module", "mochi_ident"]

#: Built-in Mochi type names (mochi-grammar.md §5): not used as declared type names.
MOCHI_TYPE_NAMES = frozenset({
    "int", "int64", "float", "bigint", "bigrat", "string", "bool", "unit", "any", "value", "list",
    "map", "set", "stream", "fun",
})

_TYPING_LIKE = ("typing", "typing_extensions", "collections.abc", "builtins")
#: Dependencies whose modules are never followed as a dependency's: they are typing itself.
_NEVER_FOREIGN = frozenset({"typing", "typing_extensions", "mypy_extensions", "builtins", "collections"})
#: typeshed's (and stubgen's) spellings of `Any`: `Incomplete` (not typed yet), `MaybeNone`
#: (a result that may be None, left unchecked)
_ANY_SPELLINGS = frozenset({"_typeshed.Incomplete", "_typeshed.MaybeNone"})
#: Methods by which a metaclass changes how its classes' instances are made, checked or looked
#: up: a metaclass of the distribution that defines one of them is not benign.
_METACLASS_HOOKS = frozenset({
    "__call__", "__new__", "__init__", "__instancecheck__", "__subclasscheck__", "__prepare__",
    "__getattr__", "__getattribute__", "__setattr__", "__delattr__", "__init_subclass__",
})
_ALLOWED_METACLASSES = frozenset({
    "type", "builtins.type", "ABCMeta", "abc.ABCMeta", "EnumMeta", "enum.EnumMeta", "EnumType",
    "enum.EnumType",
})
#: External base classes whose subclasses are pydantic models (records; in: ``model_validate``).
_PYDANTIC_MODELS = frozenset({"pydantic.BaseModel", "pydantic.main.BaseModel"})
_DYNAMIC_DUNDERS = frozenset({"__getattr__", "__getattribute__", "__setattr__", "__delattr__"})
_MODULE_DUNDERS = frozenset({
    "__all__", "__doc__", "__name__", "__file__", "__path__", "__package__", "__spec__", "__loader__",
    "__builtins__", "__cached__", "__annotations__", "__dict__",
})
_CONTEXT_MANAGER_DECORATORS = ("contextmanager", "asynccontextmanager")


def mochi_ident(name: str, *, type_name: bool = False, keywords: bool = True) -> str:
    """``name`` as a Mochi identifier: characters Mochi lacks become ``_``; keywords (and,
    for type names, built-in type names) get a trailing ``_`` unless ``keywords=False``
    (the item part of ``<alias>_<item>``, which can never be a keyword as a whole)."""
    out = []
    for i, ch in enumerate(name):
        cat = unicodedata.category(ch)
        ok = ch == "_" or cat.startswith("L") or cat == "So" or (i > 0 and cat.startswith("N"))
        out.append(ch if ok else "_")
    ident = spell_inner_digits("".join(out) or "_")
    if keywords and (ident in MOCHI_KEYWORDS or (type_name and ident in MOCHI_TYPE_NAMES)):
        ident += "_"
    return ident


def _part(name: str) -> str:
    """An item/member name inside a prefixed extern name (no keyword escaping needed)."""
    return mochi_ident(name, keywords=False)


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _is_private(name: str) -> bool:
    return name.startswith("_") and not _is_dunder(name)


# ---------------------------------------------------------------------------------------------
# symbols and the package resolver


@dataclass(frozen=True)
class _Sym:
    kind: Literal["class", "function", "constant", "alias", "typevar", "module", "external"]
    module: str
    name: str = ""                 # qualname for classes; dotted name for externals
    func: FuncDecl | None = None
    const: ConstDecl | None = None
    alias: AliasDecl | None = None
    typevar: TypeVarDecl | None = None
    cls: ClassDecl | None = None


@dataclass
class _ClassInfo:
    key: tuple[str, str]           # (defining module, qualname)
    decl: ClassDecl
    mochi: str = ""
    py: str = ""
    path: str = ""
    kind: Literal["record", "handle", "enum", "exception", "skip"] = "handle"
    origin: Literal["typeddict", "dataclass", "namedtuple", "attrs", "tuple", "pydantic"] = "dataclass"
    skip: ResolvedSkip | None = None
    value_kind: Literal["", "string", "int"] = ""
    mro: tuple[_ClassInfo, ...] = ()     # package classes, self first
    external_bases: tuple[str, ...] = ()
    is_protocol: bool = False
    is_abstract: bool = False
    foreign: bool = False                # defined by a dependency (types from dependencies)

    def ref(self) -> TypeRef:
        if self.kind == "record":
            return TypeRef("record", name=self.mochi, py=self.py)
        if self.kind == "enum":
            return TypeRef("enum", name=self.mochi, py=self.py, value_kind=self.value_kind)
        return TypeRef("handle", name=self.mochi, py=self.py)


def _walk_classes(module: str, classes: Iterable[ClassDecl]) -> Iterator[tuple[str, ClassDecl]]:
    """Every class of ``classes`` and the classes nested in them, with their module."""
    for c in classes:
        yield module, c
        yield from _walk_classes(module, c.classes)


class PackageResolver:
    """Name resolution over all modules of one distribution (implements ``table.Resolver``).

    ``foreign`` are the stub modules of the distribution's locked dependencies (types from
    dependencies, docs/type-table.md): names are followed into them, so an alias or a TypeVar
    a dependency defines expands as the distribution's own would, and a dependency's class
    becomes an opaque handle (:meth:`class_info`). They are never part of the surface, and a
    module of the distribution wins over a dependency's module of the same name."""

    def __init__(self, stubs: Sequence[ModuleStub], public: Mapping[tuple[str, str], tuple[str, str]]
                 | None = None, foreign: Sequence[ModuleStub] = ()) -> None:
        self.modules: dict[str, ModuleStub] = {}
        for stub in sorted(stubs, key=lambda s: s.name):
            self.modules.setdefault(stub.name, stub)
        own = set(self.modules)
        for stub in sorted(foreign, key=lambda s: s.name):
            # typing_extensions (a dependency of many) stays the typing module it stands for
            if stub.name.split(".")[0] not in _NEVER_FOREIGN:
                self.modules.setdefault(stub.name, stub)
        self.foreign: frozenset[str] = frozenset(self.modules) - own
        self._public = dict(public or {})
        self._classes: dict[tuple[str, str], _ClassInfo] = {}
        self._classifying: set[tuple[str, str]] = set()
        self._typing_cache: dict[str, dict[str, str]] = {}
        self._names: dict[tuple[str, str], str] = {}
        self._by_py: dict[str, _ClassInfo] = {}

    # -- lookup --------------------------------------------------------------------------------

    def lookup_name(self, module: str, name: str,
                    _seen: frozenset[tuple[str, str]] = frozenset()) -> _Sym | None:
        """What ``name`` means at the top level of ``module`` (following imports)."""
        key = (module, name)
        if key in _seen or len(_seen) > 64:
            return None
        seen = _seen | {key}
        m = self.modules.get(module)
        if m is None:
            return None
        for cls in m.classes:
            if cls.name == name:
                return _Sym("class", module, cls.qualname, cls=cls)
        for fn in m.functions:
            if fn.name == name:
                return _Sym("function", module, name, func=fn)
        for const in m.constants:
            if const.name == name:
                return _Sym("constant", module, name, const=const)
        for alias in m.aliases:
            if alias.name == name:
                return _Sym("alias", module, name, alias=alias)
        for tv in m.type_vars:
            if tv.name == name:
                return _Sym("typevar", module, name, typevar=tv)
        imp = m.import_(name)
        if imp is not None:
            if not imp.name:
                return self._module_sym(imp.module)
            sub = f"{imp.module}.{imp.name}" if imp.module else imp.name
            if sub in self.modules:
                return _Sym("module", sub, sub)
            if imp.module in self.modules and not (imp.module in self.foreign and well_known(sub) is not None):
                return self.lookup_name(imp.module, imp.name, seen)
            return _Sym("external", imp.module, sub)
        for star in m.star_imports:
            if star not in self.modules:
                continue
            star_all = self.modules[star].all_names
            if (name in star_all) if star_all is not None else not name.startswith("_"):
                found = self.lookup_name(star, name, seen)
                if found is not None:
                    return found
        if f"{module}.{name}" in self.modules:
            return _Sym("module", f"{module}.{name}", f"{module}.{name}")
        return None

    def _module_sym(self, module: str) -> _Sym:
        return _Sym("module", module, module) if module in self.modules else _Sym("external", module, module)

    def lookup(self, module: str, parts: Sequence[str]) -> _Sym | None:
        sym = self.lookup_name(module, parts[0])
        for part in parts[1:]:
            if sym is None:
                return None
            if sym.kind == "module":
                dotted = f"{sym.module}.{part}"
                if sym.module in self.foreign and well_known(dotted) is not None:
                    sym = _Sym("external", sym.module, dotted)   # numpy.float64: its wire form
                else:
                    sym = self.lookup_name(sym.module, part)
            elif sym.kind == "class" and sym.cls is not None:
                inner = next((c for c in sym.cls.classes if c.name == part), None)
                if inner is None:
                    return None
                sym = _Sym("class", sym.module, inner.qualname, cls=inner)
            elif sym.kind == "typevar":
                return sym  # P.args / P.kwargs
            elif sym.kind == "external":
                sym = _Sym("external", sym.module, f"{sym.name}.{part}")
            else:
                return None
        return sym

    # -- table.Resolver ------------------------------------------------------------------------

    def typing_aliases(self, module: str) -> Mapping[str, str]:
        cached = self._typing_cache.get(module)
        if cached is not None:
            return cached
        out: dict[str, str] = {}
        m = self.modules.get(module)
        for imp in m.imports if m is not None else ():
            full = f"{imp.module}.{imp.name}" if imp.name else imp.module
            if imp.name and imp.module in self.modules:
                # a typing name re-exported by a module of the distribution (`from .compat import Self`)
                sym = self.lookup_name(imp.module, imp.name)
                if sym is None or sym.kind != "external":
                    continue
                origin, full = sym.module, sym.name
            else:
                origin = imp.module
            if origin in _TYPING_LIKE or full in _TYPING_LIKE or full == "types.NoneType":
                out[imp.local] = full
            elif full in _ANY_SPELLINGS:
                out[imp.local] = "typing.Any"
        self._typing_cache[module] = out
        return out

    def class_path(self, module: str, parts: tuple[str, ...]) -> str | None:
        """The Python path of the class ``parts`` names (``module:QualName``; a class of another
        distribution: its dotted name), whether or not it maps as a value: ``type[X]``."""
        sym = self.lookup(module, parts)
        if sym is not None and sym.kind == "class" and sym.cls is not None:
            return self.class_info(sym.module, sym.cls).py
        if sym is not None and sym.kind == "external" and sym.module not in _TYPING_LIKE \
                and sym.module.partition(".")[0] != "_typeshed":
            return sym.name
        return None

    def resolve(self, module: str, parts: tuple[str, ...]) -> Resolved | None:
        sym = self.lookup(module, parts)
        if sym is None:
            return None
        if sym.kind == "class" and sym.cls is not None:
            if sym.module in self.foreign and well_known(f"{sym.module}.{sym.name}") is not None:
                return ResolvedWellKnown(f"{sym.module}.{sym.name}")
            info = self.class_info(sym.module, sym.cls)
            if info.kind == "exception":
                return ResolvedSkip(SkipReason.SkipUnsupportedTypingConstruct,
                                    f"exception class `{info.decl.name}` is not a type")
            if info.kind == "skip" and info.skip is not None:
                return info.skip
            return info.ref()
        if sym.kind == "alias" and sym.alias is not None:
            a = sym.alias
            explicit = a.kind == "pep695"
            return ResolvedAlias(sym.module, a.value, tuple(p.name for p in a.type_params),
                                 f"{sym.module}.{a.name}", explicit)
        if sym.kind == "typevar" and sym.typevar is not None:
            tv = sym.typevar
            return ResolvedTypeVar(tv.name, tv.kind, tv.bound, tv.constraints, sym.module)
        if sym.kind == "external":
            if well_known(sym.name) is not None:  # datetime.datetime, os.PathLike, _typeshed.StrPath...
                return ResolvedWellKnown(sym.name)
            return ResolvedSkip(SkipReason.SkipForwardRef, f"`{sym.name}` is outside the distribution")
        return ResolvedSkip(SkipReason.SkipUnsupportedTypingConstruct,
                            f"`{'.'.join(parts)}` is a {sym.kind}, not a type")

    # -- classes -------------------------------------------------------------------------------

    def all_classes(self) -> Iterator[tuple[str, ClassDecl]]:
        for name in sorted(self.modules):
            if name not in self.foreign:
                yield from _walk_classes(name, self.modules[name].classes)

    def exported(self, key: tuple[str, str]) -> bool:
        """Whether the class ``key`` is exported by a surface module (under a public name)."""
        return key in self._public

    def is_foreign(self, module: str) -> bool:
        """Whether ``module`` is a dependency's (not the distribution's)."""
        return module in self.foreign

    def known_class(self, py: str) -> _ClassInfo | None:
        """The class already met under ``py`` (``module:QualName``), a dependency's included."""
        return self._by_py.get(py)

    def assign_type_names(self) -> None:
        """Fix the Mochi name of every class of the distribution, collision-free."""
        wanted: dict[str, list[tuple[int, str, str, tuple[str, str]]]] = {}
        exported_foreign = [(module, c) for module, c in self._foreign_classes()
                            if (module, c.qualname) in self._public]
        for module, cls in [*self.all_classes(), *exported_foreign]:
            key = (module, cls.qualname)
            public = self._public.get(key)
            base = public[1].replace(".", "_") if public else cls.qualname.replace(".", "_")
            base = mochi_ident(base, type_name=True)
            wanted.setdefault(base, []).append((0 if public else 1, module, cls.qualname, key))
        used: set[str] = set()
        for base in sorted(wanted):
            for _rank, _module, _qual, key in sorted(wanted[base]):
                name = base
                n = 1
                while name in used or (name != base and name in wanted):
                    n += 1
                    name = spell_inner_digits(f"{base}_{n}")   # `OAuth2_2`: digits end a name
                used.add(name)
                self._names[key] = name

    def _foreign_classes(self) -> Iterator[tuple[str, ClassDecl]]:
        for name in sorted(self.foreign):
            yield from _walk_classes(name, self.modules[name].classes)

    def _foreign_name(self, module: str, decl: ClassDecl) -> str:
        """A dependency's class met in a signature: ``<top package>_<QualName>`` (``numpy_ndarray``),
        numbered past any name already taken."""
        base = mochi_ident(f"{module.split('.')[0]}_{decl.qualname.replace('.', '_')}", type_name=True)
        taken = set(self._names.values())
        name, n = base, 1
        while name in taken:
            n += 1
            name = spell_inner_digits(f"{base}_{n}")
        self._names[(module, decl.qualname)] = name
        return name

    def class_info(self, module: str, decl: ClassDecl) -> _ClassInfo:
        key = (module, decl.qualname)
        info = self._classes.get(key)
        if info is not None:
            return info
        public = self._public.get(key)
        py = f"{public[0]}:{public[1]}" if public else f"{module}:{decl.qualname}"
        path = f"{public[0]}.{public[1]}" if public else f"{module}.{decl.qualname}"
        foreign = module in self.foreign
        mochi = self._names.get(key) or (self._foreign_name(module, decl) if foreign else
                                         mochi_ident(decl.qualname.replace(".", "_"), type_name=True))
        info = _ClassInfo(key, decl, mochi=mochi, py=py, path=path, foreign=foreign)
        self._classes[key] = info
        self._by_py.setdefault(py, info)
        if key in self._classifying:
            return info
        self._classifying.add(key)
        try:
            self._classify(info, module)
        finally:
            self._classifying.discard(key)
        return info

    def _benign_metaclass(self, module: str, text: str, depth: int = 0) -> bool:
        """Whether the metaclass ``text`` (read in ``module``) leaves the instances of its
        classes ordinary objects: ``type`` / ``ABCMeta`` / ``EnumMeta``, or a metaclass of the
        distribution derived only from such ones that overrides none of the hooks by which a
        metaclass changes how instances are made or checked (:data:`_METACLASS_HOOKS`);
        what it adds to the class itself (numpy's ``_DTypeMeta`` properties) does not reach
        a handle, which holds an instance."""
        if text in _ALLOWED_METACLASSES:
            return True
        if depth > 8:
            return False
        node = normalise(parse_annotation(text), self.typing_aliases(module))
        if not isinstance(node, Name):
            return False
        sym = self.lookup(module, node.parts)
        if sym is None or sym.kind != "class" or sym.cls is None:
            return False
        meta = sym.cls
        if meta.metaclass and not self._benign_metaclass(sym.module, meta.metaclass, depth + 1):
            return False
        if any(m.name in _METACLASS_HOOKS for m in meta.methods) or any(
                p.name in _METACLASS_HOOKS for p in meta.properties):
            return False
        return bool(meta.bases) and all(self._benign_metaclass(sym.module, b, depth + 1) for b in meta.bases)

    def _bases(self, module: str, decl: ClassDecl) -> tuple[list[_ClassInfo], list[str]]:
        infos: list[_ClassInfo] = []
        external: list[str] = []
        for text in decl.bases:
            node = normalise(parse_annotation(text), self.typing_aliases(module))
            name = node.base if isinstance(node, Subscript) else node
            if not isinstance(name, Name):
                external.append(text)
                continue
            if name.typing_origin or name.dotted in _IGNORED_BASES:
                continue
            sym = self.lookup(module, name.parts)
            if sym is not None and sym.kind == "class" and sym.cls is not None and sym.module in self.foreign:
                external.append(f"{sym.module}.{sym.name}")
            elif sym is not None and sym.kind == "class" and sym.cls is not None:
                infos.append(self.class_info(sym.module, sym.cls))
            elif sym is None and name.dotted in ("object",):
                continue
            else:
                external.append(name.dotted if sym is None else sym.name)
        return infos, external

    def _classify(self, info: _ClassInfo, module: str) -> None:
        decl = info.decl
        bases, external = self._bases(module, decl)
        mro: list[_ClassInfo] = [info]
        for b in bases:
            for c in (b, *b.mro):
                if c not in mro:
                    mro.append(c)
        info.mro = tuple(mro)
        info.external_bases = tuple(external)
        decls = [c.decl for c in mro]
        info.is_protocol = decl.is_protocol
        info.is_abstract = decl.is_protocol or _has_abstract_member(decls)
        metaclasses = [c.decl.metaclass for c in mro if c.decl.metaclass
                       and not self._benign_metaclass(c.key[0], c.decl.metaclass)]
        if any(d.is_exception for d in decls) or any(b.kind == "exception" for b in bases):
            info.kind = "exception"
        elif any(d.is_enum for d in decls):
            members = [m for d in decls for m in d.enum_members]
            values = [m.value for m in members]
            if members and all(m.known for m in members) and all(isinstance(v, str) for v in values):
                info.kind, info.value_kind = "enum", "string"
            elif members and all(m.known for m in members) and all(
                    isinstance(v, int) and not isinstance(v, bool) for v in values):
                info.kind, info.value_kind = "enum", "int"
            else:
                info.kind = "skip"
                info.skip = ResolvedSkip(SkipReason.SkipUnsupportedTypingConstruct,
                                         f"enum `{decl.name}` values are not all str or all int literals")
        elif any(d.is_typeddict for d in decls):
            info.kind, info.origin = "record", "typeddict"
            if not any(f for d in decls for f in d.fields if not f.is_classvar):
                info.kind = "handle"
        elif any(b in _PYDANTIC_MODELS for b in external) and any(
                f for d in decls for f in d.fields if not f.is_classvar):
            # a model of the user's package: a record validated by pydantic at the boundary
            # (BaseModel itself, with its metaclass, stays SkipMetaclass inside pydantic)
            info.kind, info.origin = "record", "pydantic"
        elif any(d.is_descriptor for d in decls):
            info.kind = "skip"
            info.skip = ResolvedSkip(SkipReason.SkipDescriptor, f"descriptor class `{decl.name}`")
        elif metaclasses:
            info.kind = "skip"
            info.skip = ResolvedSkip(SkipReason.SkipMetaclass, f"metaclass `{metaclasses[0]}`")
        elif any(d.is_namedtuple for d in decls):
            info.kind, info.origin = "record", "namedtuple"
        elif decl.dataclass_kind and decl.frozen:
            info.kind = "record"
            info.origin = "attrs" if decl.dataclass_kind == "attrs" else "dataclass"
        elif info.foreign and info.is_protocol:
            # a dependency's protocol (optype's CanArray): no class to hand over or check
            info.kind = "skip"
            info.skip = ResolvedSkip(SkipReason.SkipUnsupportedTypingConstruct,
                                     f"`{info.key[0]}.{decl.qualname}` is a protocol of a dependency")
        else:
            info.kind = "handle"


def _has_abstract_member(decls: Sequence[ClassDecl]) -> bool:
    """Whether a class (``decls``: its MRO, itself first) still has an abstract method or
    property: the first definition of each name along the MRO decides, so a concrete
    override (sklearn's ``LinearRegression.fit`` over ``LinearModel.fit``) makes it concrete."""
    first: dict[str, bool] = {}
    for d in decls:
        for m in d.methods:
            first.setdefault(m.name, m.is_abstract)
        for prop in d.properties:
            first.setdefault(prop.name, prop.is_abstract)
    return any(first.values())


# ---------------------------------------------------------------------------------------------
# the mapper


@dataclass
class _Unit:
    """One extern and its ``_full`` variant, named together."""

    base: str
    rank: int
    functions: list[Function]


@dataclass
class _Mapper:
    res: PackageResolver
    alias: str
    tier: str
    target: str
    allow_partial: bool
    monomorphise: tuple[tuple[str, str], ...]
    allow_any: tuple[str, ...] = ()
    callables_cross: bool | None = None
    any_policy: AnyPolicy = "map"
    units: list[_Unit] = field(default_factory=list)
    records: dict[str, Record] = field(default_factory=dict)
    enums: dict[str, EnumDecl] = field(default_factory=dict)
    handles: dict[str, Handle] = field(default_factory=dict)
    skips: set[SkipReport] = field(default_factory=set)
    done_classes: set[tuple[str, str]] = field(default_factory=set)
    #: ``units`` by base name, covering ``units[:_indexed]`` (see :meth:`_units_named`)
    _by_base: dict[str, list[_Unit]] = field(default_factory=dict)
    _indexed: int = 0

    def ctx(self, *, path: str, module: str, self_type: TypeRef | None = None, in_protocol: bool = False,
            type_params: tuple[tuple[str, str], ...] = (),
            type_param_bounds: tuple[tuple[str, str], ...] = ()) -> LowerContext:
        """The lowering context of one item; ``type_params`` are the PEP 695 ``(name, kind)``
        in scope, ``type_param_bounds`` their ``(name, bound text)`` where they have one."""
        return LowerContext(path=path, module=module, resolver=self.res, tier=self.tier,
                            allow_partial=self.allow_partial, allow_any=self.allow_any, target=self.target,
                            callables_cross=self.callables_cross, self_type=self_type,
                            in_protocol=in_protocol, type_params=type_params, monomorphise=self.monomorphise,
                            any_policy=self.any_policy, type_param_bounds=type_param_bounds)

    def skip(self, path: str, reason: SkipReason, detail: str = "", hint: str = "") -> None:
        self.skips.add(SkipReport(path, reason, detail, hint))

    # -- functions -----------------------------------------------------------------------------

    def map_function(
        self,
        fn: FuncDecl,
        *,
        path: str,
        module: str,
        target: str,
        extern: str,
        kind: FunctionKind,
        owner: _ClassInfo | None = None,
        drop_first: bool = False,
    ) -> None:
        for dec in fn.decorators:
            if dec.split("(", 1)[0].rsplit(".", 1)[-1] in _CONTEXT_MANAGER_DECORATORS:
                self.skip(path, SkipReason.SkipUnsupportedTypingConstruct, f"@{dec}",
                          "context managers cannot cross the boundary")
                return
        self_type = owner.ref() if owner is not None else None
        class_params = tuple((p.name, p.kind) for p in owner.decl.type_params) if owner is not None else ()
        in_protocol = owner.is_protocol if owner is not None else False
        arms = fn.overloads or (fn,)
        results: list[_Sig | SkipReport] = []
        for arm in arms:
            ctx = self.ctx(path=path, module=module, self_type=self_type, in_protocol=in_protocol,
                           type_params=class_params + tuple((p.name, p.kind) for p in arm.type_params),
                           type_param_bounds=_bounds(*(owner.decl.type_params if owner is not None else ()),
                                                     *arm.type_params))
            results.append(self._signature(arm, ctx, path=path, drop_first=drop_first))
        if len(arms) == 1:
            sig = results[0]
            if isinstance(sig, SkipReport):
                self.skips.add(sig)
                return
            chosen: list[tuple[str, _Sig]] = [(extern, sig)]
        else:
            chosen = self._choose_overload(arms, results, path=path, extern=extern, drop_first=drop_first)
        self_params: tuple[Param, ...] = ()
        if kind in ("method", "getter") and self_type is not None:
            self_params = (Param("self", "self", self_type, "positional_only"),)
        for name, sig in chosen:
            self.skips.update(sig.param_skips)
            is_async = fn.is_async or sig.awaitable or any(a.is_async for a in arms)
            base = f"{name}_sync" if is_async else name
            # a constructor returns its class (several when its overloads are split)
            returns = self_type if kind == "constructor" and self_type is not None else sig.returns
            required = tuple(_param(p, t) for p, t in sig.params if not p.has_default)
            functions = [Function(base, target, kind, _dedupe_mochi(self_params + required), returns,
                                  is_async=is_async, owner=owner.mochi if owner else "", doc=fn.doc)]
            if any(p.has_default for p, _ in sig.params):
                full = tuple(_param(p, option_of(t) if p.has_default else t) for p, t in sig.params)
                functions.append(Function(f"{base}_full", target, kind, _dedupe_mochi(self_params + full),
                                          returns, is_async=is_async, owner=owner.mochi if owner else "",
                                          full=True, doc=fn.doc))
            # an overload arm's made-up name yields to an item really called so (clash order)
            rank = _KIND_RANK[kind] + (len(_KIND_RANK) if name != extern else 0)
            self.units.append(_Unit(base, rank, functions))

    def _choose_overload(self, arms: Sequence[FuncDecl], results: Sequence[_Sig | SkipReport], *, path: str,
                         extern: str, drop_first: bool) -> list[tuple[str, _Sig]]:
        """The externs of an ``@overload`` group: ``[(extern, sig)]`` when one arm's parameters
        include every other arm's and its signature maps (all such arms mapping alike), else one
        extern per arm that maps (:func:`_split_overloads`); ``[]`` (reported) when none maps."""
        names = [_param_names(a, drop_first) for a in arms]
        union = set().union(*names)
        supersets = [i for i, n in enumerate(names) if n >= union]
        mapped = [results[i] for i in supersets if isinstance(results[i], _Sig)]
        distinct: list[_Sig] = []
        for sig in mapped:
            if isinstance(sig, _Sig) and all(sig.key() != d.key() for d in distinct):
                distinct.append(sig)
        if len(distinct) == 1:
            return [(extern, distinct[0])]
        if any(isinstance(r, _Sig) for r in results):
            chosen, reports = _split_overloads(arms, results, path=path, extern=extern)
            self.skips.update(reports)
            return chosen
        detail = " ; ".join(_signature_text(a) for a in arms)
        failures = [r for i, r in enumerate(results) if i in supersets and isinstance(r, SkipReport)]
        if supersets and not mapped and all(f.reason == SkipReason.SkipNoComplexType for f in failures):
            self.skip(path, SkipReason.SkipNoComplexType, detail, failures[0].hint)
            return []
        if supersets:
            first = failures[0] if failures else None
            hint = f"superset arm does not map: {first.reason.token} {first.detail}" if first else ""
        else:
            hint = "no arm's parameters are a superset of the others, and no arm maps"
        self.skip(path, SkipReason.SkipOverloadAmbiguity, detail, hint)
        return []

    def _signature(self, fn: FuncDecl, ctx: LowerContext, *, path: str,
                   drop_first: bool) -> _Sig | SkipReport:
        params = list(fn.params)
        if drop_first:
            if not params or params[0].kind not in ("positional_only", "positional_or_keyword"):
                return SkipReport(path, SkipReason.SkipUnsupportedTypingConstruct, _signature_text(fn),
                                  "method without a self/cls parameter")
            params = params[1:]
        out: list[tuple[ParamDecl, TypeRef]] = []
        param_skips: list[SkipReport] = []
        narrowed_out: list[SkipReport] = []   # union members a parameter does not accept
        failures: list[SkipReport] = []
        for p in params:
            p_ctx = replace(ctx, position="param")
            if p.kind == "var_positional":
                # `*args: T` crosses as one `list<T>` parameter the wrapper spreads; a defaulted
                # positional parameter before it could then not be left to its default
                if any(q.has_default and q.kind != "keyword_only" for q, _ in out):
                    failures.append(SkipReport(path, SkipReason.SkipParamSpec, _star_text("*", p),
                                               "*args after a defaulted positional parameter"))
                    continue
                if p.annotation is None:
                    item: TypeRef | SkipReport = (ANY_UNANNOTATED if any_widens(p_ctx) else TypeRef("any")
                                                  if any_permitted(replace(p_ctx, path=path)) else
                                                  SkipReport(path, SkipReason.SkipParamSpec, _star_text("*", p),
                                                             "*args without an annotation"))
                else:
                    item = lower_annotation(p.annotation, replace(p_ctx, path=path))
                if isinstance(item, SkipReport):
                    failures.append(item)
                    continue
                out.append((replace(p, has_default=False), TypeRef("list", (item,))))
                continue
            if p.kind == "var_keyword":
                expanded = self._unpack_kwargs(p, ctx)
                if expanded is None:
                    # `**kwargs: T` crosses as one trailing `map<string, T>?` parameter of the
                    # `_full` variant that the wrapper spreads as keyword arguments (absent or `{}`:
                    # none), so the plain extern keeps the named parameters only; one that does
                    # not map is left out, the named parameters still cross
                    k_ctx = replace(p_ctx, path=f"{path}.{p.name}")
                    value = self._var_keyword_type(p, k_ctx)
                    if isinstance(value, SkipReport):
                        param_skips.append(value)
                    else:
                        out.append((replace(p, has_default=True), TypeRef("map", (TypeRef("str"), value))))
                else:
                    for sub, res in expanded:
                        if isinstance(res, SkipReport):
                            (failures if not sub.has_default else param_skips).append(res)
                        else:
                            out.append((sub, res))
                continue
            narrowed = dict(self.monomorphise).get(f"{path}.{p.name}")
            if narrowed is not None:  # monomorphise names the parameter: the user narrows its type
                p = replace(p, annotation=narrowed)
            if p.annotation is None and any_permitted(replace(p_ctx, path=path)):
                p = replace(p, annotation="Any")  # PEP 484: an unannotated parameter is `Any`
            if p.annotation is None and any_widens(p_ctx):
                out.append((p, ANY_UNANNOTATED))
                continue
            if p.annotation is None:
                report = SkipReport(path if not p.has_default else f"{path}.{p.name}",
                                    SkipReason.SkipUnsupportedTypingConstruct, p.name,
                                    f"parameter `{p.name}` has no annotation")
                (param_skips if p.has_default else failures).append(report)
                continue
            sink: list[NarrowedMember] = []
            lowered = lower_annotation(p.annotation, replace(p_ctx, path=path, narrowed=sink))
            if not isinstance(lowered, SkipReport):
                narrowed_out.extend(
                    SkipReport(f"{path}.{p.name}", m.reason, m.text,
                               f"not accepted ({m.why}); the parameter takes the union's other members")
                    for m in sink)
            if isinstance(lowered, SkipReport):
                if p.has_default:
                    param_skips.append(replace(lowered, path=f"{path}.{p.name}"))
                else:
                    failures.append(lowered)
                continue
            out.append((p, lowered))
        if fn.name == "__init__" or fn.name == "__new__":
            ret: LoweredReturn | SkipReport = LoweredReturn(None)
        else:
            ret = lower_return(fn.returns, replace(ctx, path=path))
            if isinstance(ret, SkipReport) and fn.returns is None:
                ret = replace(ret, detail="-> <missing>")
        if isinstance(ret, SkipReport):
            failures.append(ret)
        complex_ = [r for r in (*failures, *param_skips) if r.reason == SkipReason.SkipNoComplexType]
        if complex_:
            return replace(complex_[0], path=path)
        if failures:
            return failures[0]
        assert isinstance(ret, LoweredReturn)
        if fn.name == "__new__" and ret.type is None:
            pass
        return _Sig(tuple(out), ret.type, ret.awaitable, (*param_skips, *narrowed_out))

    @staticmethod
    def _var_keyword_type(p: ParamDecl, ctx: LowerContext) -> TypeRef | SkipReport:
        """The value type of ``**kwargs: T`` (``ctx.path`` names the parameter)."""
        if p.annotation is None:
            if any_permitted(ctx):
                return TypeRef("any")
            if any_widens(ctx):
                return ANY_UNANNOTATED
            return SkipReport(ctx.path, SkipReason.SkipParamSpec, _star_text("**", p),
                              "**kwargs without an annotation is not passed through; named parameters still are")
        value = lower_annotation(p.annotation, ctx)
        if isinstance(value, SkipReport):
            return replace(value, hint=f"{value.hint}; **{p.name} is not passed through, named parameters still are")
        return value

    def _unpack_kwargs(self, p: ParamDecl,
                       ctx: LowerContext) -> list[tuple[ParamDecl, TypeRef | SkipReport]] | None:
        """``**kw: Unpack[TD]`` -> keyword-only parameters from the TypedDict's fields."""
        if p.annotation is None:
            return None
        node = normalise(parse_annotation(p.annotation), self.res.typing_aliases(ctx.module))
        if not (isinstance(node, Subscript) and node.base.parts == ("Unpack",) and len(node.args) == 1
                and isinstance(node.args[0], Name)):
            return None
        sym = self.res.lookup(ctx.module, node.args[0].parts)
        if sym is None or sym.kind != "class" or sym.cls is None:
            return None
        info = self.res.class_info(sym.module, sym.cls)
        if info.origin != "typeddict" or info.kind != "record":
            return None
        out: list[tuple[ParamDecl, TypeRef | SkipReport]] = []
        for fmod, fd, total in _record_fields(info):
            if fd.annotation is None:
                continue
            quals = field_qualifiers(fd.annotation, replace(ctx, module=fmod))
            required = "Required" in quals or (total and "NotRequired" not in quals)
            sub = ParamDecl(fd.name, "keyword_only", fd.annotation, has_default=not required)
            f_ctx = replace(ctx, module=fmod, path=f"{ctx.path}.{fd.name}" if not required else ctx.path,
                            position="param")
            out.append((sub, lower_annotation(fd.annotation, f_ctx)))
        return out

    # -- classes -------------------------------------------------------------------------------

    def map_class(self, info: _ClassInfo) -> None:
        if info.key in self.done_classes:
            return
        self.done_classes.add(info.key)
        decl = info.decl
        module = info.key[0]
        if info.kind == "exception":
            return
        if info.kind == "skip":
            assert info.skip is not None
            self.skip(info.path, info.skip.reason, f"class {decl.name}({', '.join(decl.bases)})",
                      info.skip.why)
            return
        if info.kind == "enum":
            members = tuple((m.name, m.value) for d in (c.decl for c in reversed(info.mro))
                            for m in d.enum_members if isinstance(m.value, str | int))
            kind: Literal["string", "int"] = "string" if info.value_kind == "string" else "int"
            self.enums[info.mochi] = EnumDecl(info.mochi, info.py, kind, members)
            return
        self_ref = info.ref()
        if info.kind == "record":
            fields = self._record_fields(info)
            self.records[info.mochi] = Record(info.mochi, info.py, info.origin, fields)
            if info.origin == "typeddict":
                return
        else:
            self.handles[info.mochi] = Handle(info.mochi, info.py)
            if info.foreign and not self.res.exported(info.key):
                return   # opaque: its constructor and members are its own package's surface
            self._constructor(info)
        self._members(info, self_ref, module)

    def _record_fields(self, info: _ClassInfo) -> tuple[Field, ...]:
        out: dict[str, Field] = {}
        for fmod, fd, total in _record_fields(info):
            if fd.is_classvar:
                continue
            path = f"{info.path}.{fd.name}"
            if fd.annotation is None:
                self.skip(path, SkipReason.SkipUnsupportedTypingConstruct, fd.name, "field has no annotation")
                continue
            ctx = replace(self.ctx(path=path, module=fmod, self_type=info.ref(),
                                   type_params=tuple((p.name, p.kind) for p in info.decl.type_params),
                                   type_param_bounds=_bounds(*info.decl.type_params)),
                          position="field")
            lowered = lower_annotation(fd.annotation, ctx)
            if isinstance(lowered, SkipReport):
                self.skips.add(lowered)
                continue
            required = True
            if info.origin == "typeddict":
                quals = field_qualifiers(fd.annotation, ctx)
                required = "Required" in quals or (total and "NotRequired" not in quals)
            elif info.origin == "pydantic":
                required = not fd.has_default  # a defaulted model field may be left out
            out[fd.name] = Field(fd.name, "", lowered, required)
        used: set[str] = set()
        fields: list[Field] = []
        for name in sorted(out):
            mochi = mochi_ident(name)
            while mochi in used:
                mochi += "_"
            used.add(mochi)
            fields.append(replace(out[name], mochi_name=mochi))
        return tuple(fields)

    def _constructor(self, info: _ClassInfo) -> None:
        if info.is_abstract:
            return
        decl = info.decl
        path = f"{info.path}.__init__"
        extern = f"{self.alias}_{info.mochi}_new"
        for c in info.mro:
            init = c.decl.method("__init__") or c.decl.method("__new__")
            if init is not None:
                self.map_function(init, path=path, module=c.key[0], target=info.py, extern=extern,
                                  kind="constructor", owner=info, drop_first=True)
                self._fix_constructor_return(extern, info)
                return
            if c.decl.dataclass_kind:
                self.map_function(_dataclass_init(info), path=path, module=c.key[0], target=info.py,
                                  extern=extern, kind="constructor", owner=info, drop_first=True)
                self._fix_constructor_return(extern, info)
                return
        if info.external_bases or any(c.external_bases for c in info.mro):
            bases = ", ".join(sorted({b for c in info.mro for b in c.external_bases}))
            self.skip(path, SkipReason.SkipForwardRef, f"class {decl.name}({bases})",
                      "constructor inherited from outside the distribution")
            return
        self.units.append(_Unit(extern, _KIND_RANK["constructor"], [
            Function(extern, info.py, "constructor", (), info.ref(), owner=info.mochi, doc=decl.doc)]))

    def _units_named(self, base: str) -> list[_Unit]:
        """The units whose base is ``base``: an index brought up to date with ``units`` (only
        ever appended to) on each call, so a huge surface's constructors are not each a scan."""
        for unit in self.units[self._indexed:]:
            self._by_base.setdefault(unit.base, []).append(unit)
        self._indexed = len(self.units)
        return self._by_base.get(base, [])

    def _fix_constructor_return(self, extern: str, info: _ClassInfo) -> None:
        for unit in (*self._units_named(extern), *self._units_named(f"{extern}_sync")):
            unit.functions = [replace(f, returns=info.ref()) for f in unit.functions]

    def _members(self, info: _ClassInfo, self_ref: TypeRef, module: str) -> None:
        methods: dict[str, tuple[str, FuncDecl]] = {}
        props: dict[str, tuple[str, str | None]] = {}
        attrs: dict[str, tuple[str, FieldDecl]] = {}
        for c in reversed(info.mro):  # bases first, subclasses override
            cmod = c.key[0]
            for m in c.decl.methods:
                methods[m.name] = (cmod, m)
                props.pop(m.name, None)
                attrs.pop(m.name, None)
            for p in c.decl.properties:
                props[p.name] = (cmod, p.annotation)
                methods.pop(p.name, None)
                attrs.pop(p.name, None)
            for f in c.decl.fields:
                if f.name not in methods and f.name not in props:
                    attrs[f.name] = (cmod, f)
        prefix = f"{self.alias}_{info.mochi}"
        class_params = tuple((p.name, p.kind) for p in info.decl.type_params)
        for name in sorted(methods):
            mmod, fn = methods[name]
            path = f"{info.path}.{name}"
            if name in ("__init__", "__new__"):
                continue
            if name in _DYNAMIC_DUNDERS:
                self.skip(path, SkipReason.SkipDynamicAttribute, _signature_text(fn),
                          "dynamic attributes are not exposed")
                continue
            if _is_dunder(name):
                self.skip(path, SkipReason.SkipDunder, _signature_text(fn))
                continue
            if _is_private(name):
                self.skip(path, SkipReason.SkipPrivateName, _signature_text(fn))
                continue
            static = fn.is_staticmethod
            classm = fn.is_classmethod
            self.map_function(fn, path=path, module=mmod, target=f"{info.py}.{name}",
                              extern=f"{prefix}_{_part(name)}",
                              kind="function" if static or classm else "method", owner=info,
                              drop_first=not static)
        if info.kind == "record":
            attrs = {}
        getter_prefix = f"{prefix}_get" if info.decl.dataclass_kind and not info.decl.frozen else prefix
        for name in sorted({*props, *attrs}):
            path = f"{info.path}.{name}"
            if _is_dunder(name):
                self.skip(path, SkipReason.SkipDunder, name)
                continue
            if _is_private(name):
                self.skip(path, SkipReason.SkipPrivateName, name)
                continue
            if name in props:
                pmod, ann = props[name]
                extern = f"{prefix}_{_part(name)}"
            else:
                pmod, fd = attrs[name]
                ann = fd.annotation
                extern = f"{getter_prefix}_{_part(name)}"
            ctx = self.ctx(path=path, module=pmod, self_type=self_ref, in_protocol=info.is_protocol,
                           type_params=class_params, type_param_bounds=_bounds(*info.decl.type_params))
            lowered = lower_return(ann, ctx)
            if isinstance(lowered, SkipReport):
                self.skips.add(replace(lowered, detail=lowered.detail or f"{name}: <missing>"))
                continue
            self_param = Param("self", "self", self_ref, "positional_only")
            self.units.append(_Unit(extern, _KIND_RANK["getter"], [
                Function(extern, f"{info.py}.{name}", "getter", (self_param,), lowered.type,
                         owner=info.mochi)]))

    # -- constants -----------------------------------------------------------------------------

    def map_constant(self, const: ConstDecl, *, path: str, module: str, target: str, extern: str) -> None:
        ann = const.annotation
        ctx = replace(self.ctx(path=path, module=module), position="return")
        if ann is not None:
            node = normalise(parse_annotation(ann), self.res.typing_aliases(module))
            if isinstance(node, Name) and node.parts == ("Final",):
                ann = None
        if ann is None:
            if const.inferred is None:
                # PEP 484: unannotated means `Any`, as for an unannotated parameter or result
                widened = (TypeRef("any") if any_permitted(ctx) else ANY_UNANNOTATED if any_widens(ctx)
                           else None)
                if widened is None:
                    self.skip(path, SkipReason.SkipUnsupportedTypingConstruct, const.value_text or const.name,
                              "constant without an annotation or a literal value")
                    return
                self.units.append(_Unit(extern, _KIND_RANK["constant"], [
                    Function(extern, target, "constant", (), widened)]))
                return
            ann = const.inferred
        lowered = lower_annotation(ann, ctx)
        if isinstance(lowered, SkipReport):
            self.skips.add(lowered)
            return
        self.units.append(_Unit(extern, _KIND_RANK["constant"], [
            Function(extern, target, "constant", (), lowered)]))


_KIND_RANK: dict[FunctionKind, int] = {
    "function": 0, "constant": 1, "constructor": 2, "method": 3, "getter": 4,
}
_IGNORED_BASES = frozenset({"object", "Generic", "Protocol", "TypedDict", "NamedTuple"})


def _bounds(*params: TypeParam) -> tuple[tuple[str, str], ...]:
    """``(name, bound text)`` of the PEP 695 type parameters that have a bound."""
    return tuple((p.name, p.bound) for p in params if p.bound)


def _star_text(star: str, p: ParamDecl) -> str:
    return f"{star}{p.name}: {p.annotation}" if p.annotation else f"{star}{p.name}"


@dataclass(frozen=True)
class _Sig:
    params: tuple[tuple[ParamDecl, TypeRef], ...]
    returns: TypeRef | None
    awaitable: bool
    param_skips: tuple[SkipReport, ...]

    def key(self) -> tuple[object, ...]:
        params = tuple((p.name, p.kind, p.has_default, t) for p, t in self.params)
        return (params, self.returns, self.awaitable)


def _overload_suffix(sig: _Sig, *, defaulted: bool, returns: bool) -> str:
    """Suffix naming one arm of a split ``@overload`` group: the mapped types of its required
    parameters (``defaulted``: of all of them), then (``returns``) its return type."""
    parts = [type_fragment(t) for p, t in sig.params if defaulted or not p.has_default] or ["unit"]
    if returns:
        parts.append(type_fragment(sig.returns) if sig.returns is not None else "unit")
    suffix = "_".join(parts)
    if len(suffix) <= _SUFFIX_LIMIT:
        return suffix
    # a long suffix (numpy's arms spell out unions of a dozen scalar types) keeps its readable
    # head and a short digest of the whole, so it stays unique and stable
    # letters only: a digit inside a Mochi identifier would be spelled out (spell_inner_digits)
    digest = "".join(chr(ord("a") + b % 26) for b in hashlib.sha256(suffix.encode()).digest()[:8])
    return f"{suffix[:_SUFFIX_LIMIT - 9].rstrip('_')}_{digest}"


#: Longest overload suffix spelled in full (longer ones are cut and end in a digest).
_SUFFIX_LIMIT = 40


def _split_overloads(arms: Sequence[FuncDecl], results: Sequence[_Sig | SkipReport], *, path: str,
                     extern: str) -> tuple[list[tuple[str, _Sig]], list[SkipReport]]:
    """One extern per arm that maps, ``<extern>_<suffix>`` (:func:`_overload_suffix`): the
    required parameters' types; for arms that share that, every parameter's; then the return
    type too; an arm still named like an earlier one is reported, as is an arm that does not
    map (path ``<item>#<n>``, arms counted from 1 in declaration order)."""
    sigs = [(i, r) for i, r in enumerate(results) if isinstance(r, _Sig)]
    suffixes = {i: _overload_suffix(sig, defaulted=False, returns=False) for i, sig in sigs}
    for defaulted, returns in ((True, False), (True, True)):
        taken = [suffixes[i] for i, _ in sigs]
        for i, sig in sigs:
            if taken.count(suffixes[i]) > 1:
                suffixes[i] = _overload_suffix(sig, defaulted=defaulted, returns=returns)
    chosen: list[tuple[str, _Sig]] = []
    first_arm: dict[str, int] = {}
    reports: list[SkipReport] = []
    for i, result in enumerate(results):
        if isinstance(result, SkipReport):
            reports.append(replace(result, path=f"{path}#{i + 1}"))
            continue
        name = f"{extern}_{suffixes[i]}"
        if name in first_arm:
            reports.append(SkipReport(f"{path}#{i + 1}", SkipReason.SkipOverloadAmbiguity,
                                      _signature_text(arms[i]),
                                      f"maps to the same extern as arm {first_arm[name] + 1} ({name})"))
            continue
        first_arm[name] = i
        chosen.append((name, result))
    return chosen, reports


def _param(p: ParamDecl, t: TypeRef) -> Param:
    kind: ParamKind = "positional_or_keyword"
    if p.kind in ("positional_only", "keyword_only", "var_positional", "var_keyword"):
        kind = p.kind
    return Param(p.name, mochi_ident(p.name), t, kind, p.has_default)


def _dedupe_mochi(params: tuple[Param, ...]) -> tuple[Param, ...]:
    used: set[str] = set()
    out: list[Param] = []
    for p in params:
        name = p.mochi_name
        while name in used:
            name += "_"
        used.add(name)
        out.append(p if name == p.mochi_name else replace(p, mochi_name=name))
    return tuple(out)


def _param_names(fn: FuncDecl, drop_first: bool) -> frozenset[str]:
    params = fn.params[1:] if drop_first else fn.params
    return frozenset(p.name for p in params if p.kind not in ("var_positional", "var_keyword"))


def _signature_text(fn: FuncDecl) -> str:
    parts = []
    for p in fn.params:
        star = "*" if p.kind == "var_positional" else "**" if p.kind == "var_keyword" else ""
        text = f"{star}{p.name}" + (f": {p.annotation}" if p.annotation else "")
        if p.has_default:
            text += " = ..."
        parts.append(text)
    ret = f" -> {fn.returns}" if fn.returns else ""
    prefix = "async def" if fn.is_async else "def"
    return f"{prefix} {fn.name}({', '.join(parts)}){ret}"


def _record_fields(info: _ClassInfo) -> list[tuple[str, FieldDecl, bool]]:
    """(declaring module, field, TypedDict totality) through the MRO, bases first."""
    seen: dict[str, tuple[str, FieldDecl, bool]] = {}
    for c in reversed(info.mro):
        for f in c.decl.fields:
            seen[f.name] = (c.key[0], f, c.decl.total)
    return list(seen.values())


def _dataclass_init(info: _ClassInfo) -> FuncDecl:
    """The ``__init__`` a dataclass/attrs decorator generates from the fields."""
    params: list[ParamDecl] = [ParamDecl("self", "positional_or_keyword", None)]
    for _mod, f, _total in _record_fields(info):
        if f.is_classvar:
            continue
        name = f.name.lstrip("_") if info.decl.dataclass_kind == "attrs" else f.name
        params.append(ParamDecl(name or f.name, "keyword_only" if f.kw_only else "positional_or_keyword",
                                f.annotation, f.has_default))
    return FuncDecl("__init__", tuple(params), "None", doc=info.decl.doc)



def _retype(t: TypeRef, handles: Mapping[str, TypeRef]) -> TypeRef:
    if t.kind == "record" and t.name in handles:
        return handles[t.name]
    if not t.args:
        return t
    return replace(t, args=tuple(_retype(a, handles) for a in t.args))


# ---------------------------------------------------------------------------------------------
# surface


def _surface_names(res: PackageResolver, module: str, seen: frozenset[str] = frozenset()) -> list[str]:
    """Public names of ``module``: ``__all__`` if present, else public defined names and
    PEP 484 re-exports (``as`` same name, ``from . import x``, ``from m import *``)."""
    m = res.modules.get(module)
    if m is None or module in seen:
        return []
    seen = seen | {module}
    if m.all_names is not None:
        names = list(m.all_names)
        for src in m.all_from:
            names.extend(_surface_names(res, src, seen))
        return list(dict.fromkeys(names))
    names = [n for n in m.defined_names() if not n.startswith("_")]
    names += [c.name for c in m.constants if _is_dunder(c.name) and c.name not in _MODULE_DUNDERS]
    names += [i.local for i in m.imports if i.reexport and not i.local.startswith("_")]
    for star in m.star_imports:
        names += [n for n in _surface_names(res, star, seen) if not n.startswith("_")]
    return list(dict.fromkeys(names))


def _item_name(name: str) -> str:
    """Extern item part: dunder constants lose their underscores (``__version__`` -> ``version``)."""
    if _is_dunder(name):
        return name.strip("_") or name
    return name


def map_module(
    stubs: Sequence[ModuleStub],
    *,
    dist: str,
    version: str,
    alias: str,
    import_names: Sequence[str],
    tier: str,
    target: str = DEFAULT_TARGET,
    allow_partial: bool = False,
    monomorphise: Mapping[str, str] | Sequence[tuple[str, str] | str] = (),
    allow_any: Sequence[str] = (),
    callables_cross: bool | None = None,
    any_policy: AnyPolicy = "map",
    dependencies: Sequence[ModuleStub] = (),
) -> MappedSurface:
    """Map the public surface of ``import_names`` (all of ``dist``'s modules in ``stubs``).

    ``dependencies`` are the stub modules of ``dist``'s locked dependencies: names its stubs
    take from them resolve (see :class:`PackageResolver`) instead of being skipped as outside
    the distribution.

    ``target`` names the target in skip reasons; ``callables_cross`` is its profile's fact
    (``None``: looked up by ``target``'s name, see :class:`~wasmtool.typemap.table.LowerContext`).
    ``any_policy`` is ``[python] any``: ``"map"`` widens a declared ``Any`` / unbounded
    TypeVar / ``object`` of a complete stub tier to a tagged ``any``, ``"skip"`` skips them
    (:func:`~wasmtool.typemap.table.any_widens`).
    """
    if any_policy not in ("map", "skip"):
        raise TypemapSettingError(f"any policy {any_policy!r} is not \"map\" or \"skip\"", field="any")
    mono = parse_monomorphise(monomorphise)
    imports = list(dict.fromkeys(import_names))
    primary = alias if alias in imports else (imports[0] if imports else "")
    probe = PackageResolver(stubs, foreign=dependencies)

    # 1. what each surface module exports, and under which public name each class is known
    exported: list[tuple[str, str, str]] = []  # (surface module, name, extern prefix)
    public_classes: dict[tuple[str, str], tuple[str, str]] = {}
    for imp in sorted(imports):
        if imp not in probe.modules:
            continue
        # a submodule of the primary package drops the package's own name: `rich.markup` -> rich_markup_...
        sub = imp[len(primary) + 1:] if primary and imp.startswith(primary + ".") else imp
        prefix = alias if imp == primary else f"{alias}_{_part(sub.replace('.', '_'))}"
        for name in sorted(_surface_names(probe, imp)):
            exported.append((imp, name, prefix))
            sym = probe.lookup_name(imp, name)
            if sym is not None and sym.kind == "class" and sym.cls is not None:
                public_classes.setdefault((sym.module, sym.cls.qualname), (imp, name))

    res = PackageResolver(stubs, public_classes, foreign=dependencies)
    res.assign_type_names()
    mapper = _Mapper(res, alias, tier, target, allow_partial, mono, tuple(sorted(set(allow_any))), callables_cross,
                     any_policy)

    # 2. private / dunder names defined in surface modules but not exported
    for imp in sorted(imports):
        m = res.modules.get(imp)
        if m is None:
            continue
        public = {n for s, n, _ in exported if s == imp}
        for fn in m.functions:
            if fn.name in public:
                continue
            if fn.name in _DYNAMIC_DUNDERS:
                mapper.skip(f"{imp}.{fn.name}", SkipReason.SkipDynamicAttribute, _signature_text(fn),
                            "module attributes resolved at runtime are not exposed")
            elif _is_dunder(fn.name):
                mapper.skip(f"{imp}.{fn.name}", SkipReason.SkipDunder, _signature_text(fn))
            elif _is_private(fn.name):
                mapper.skip(f"{imp}.{fn.name}", SkipReason.SkipPrivateName, _signature_text(fn))
        for cls in m.classes:
            if cls.name not in public and _is_private(cls.name):
                mapper.skip(f"{imp}.{cls.name}", SkipReason.SkipPrivateName, f"class {cls.name}")
        for const in m.constants:
            if const.name not in public and _is_private(const.name):
                mapper.skip(f"{imp}.{const.name}", SkipReason.SkipPrivateName,
                            const.annotation or const.value_text)

    # 3. exported items
    pending: list[_ClassInfo] = []
    for imp, name, prefix in exported:
        path = f"{imp}.{name}"
        sym = res.lookup_name(imp, name)
        if sym is not None and sym.kind == "alias" and sym.alias is not None:
            target_node = normalise(parse_annotation(sym.alias.value), res.typing_aliases(sym.module))
            if isinstance(target_node, Name) and not target_node.typing_origin:
                aliased = res.lookup(sym.module, target_node.parts)
                if aliased is not None and aliased.kind in ("class", "function"):
                    sym = aliased
        extern = f"{prefix}_{_part(_item_name(name))}"
        if sym is None:
            m = res.modules[imp]
            reason = SkipReason.SkipDynamicAttribute if m.has_getattr else SkipReason.SkipForwardRef
            mapper.skip(path, reason, name, "listed in __all__ but not defined in the stubs")
        elif sym.kind == "external":
            mapper.skip(path, SkipReason.SkipForwardRef, sym.name,
                        "re-exported from outside the distribution")
        elif sym.kind == "function" and sym.func is not None:
            fn = sym.func
            if name in _DYNAMIC_DUNDERS:
                mapper.skip(path, SkipReason.SkipDynamicAttribute, _signature_text(fn))
            elif _is_dunder(name):
                mapper.skip(path, SkipReason.SkipDunder, _signature_text(fn))
            else:
                mapper.map_function(fn, path=path, module=sym.module, target=f"{imp}:{name}", extern=extern,
                                    kind="function")
        elif sym.kind == "constant" and sym.const is not None:
            mapper.map_constant(sym.const, path=path, module=sym.module, target=f"{imp}:{name}",
                                extern=extern)
        elif sym.kind == "class" and sym.cls is not None:
            pending.append(res.class_info(sym.module, sym.cls))
        # modules, type aliases and TypeVars are namespaces/types, not externs

    # 4. classes: exported ones, then every class a mapped signature or field refers to
    by_py: dict[str, _ClassInfo] = {}
    for module, decl in res.all_classes():
        info = res.class_info(module, decl)
        by_py[info.py] = info
    # scan at least once: a package exporting no class may still return one (rich.get_console)
    scanned = False
    while pending or not scanned:
        scanned = True
        for info in pending:
            mapper.map_class(info)
        pending = []
        refs: list[TypeRef] = []
        for unit in mapper.units:
            for f in unit.functions:
                refs.extend(p.type for p in f.params)
                if f.returns is not None:
                    refs.append(f.returns)
        for rec in mapper.records.values():
            refs.extend(fl.type for fl in rec.fields)
        for ref in refs:
            for t in ref.walk():
                info_ = (by_py.get(t.py) or res.known_class(t.py)) if t.py else None
                if info_ is not None and info_.key not in mapper.done_classes and info_ not in pending:
                    pending.append(info_)
        pending.sort(key=lambda i: i.py)

    return _finish(mapper, dist=dist, version=version, alias=alias, imports=tuple(imports), tier=tier)


def _finish(mapper: _Mapper, *, dist: str, version: str, alias: str, imports: tuple[str, ...],
            tier: str) -> MappedSurface:
    # records whose fields all failed to map become handles (Mochi has no empty record type)
    empties = {name: TypeRef("handle", name=r.name, py=r.py)
               for name, r in mapper.records.items() if not r.fields}
    for name, r in list(mapper.records.items()):
        if name in empties:
            del mapper.records[name]
            mapper.handles[name] = Handle(r.name, r.py)
    # name every unit: clashes get _2, _3, ... in (name, kind, target) order
    used: set[str] = set()
    functions: list[Function] = []
    for unit in sorted(mapper.units, key=lambda u: (u.base, u.rank, u.functions[0].target)):
        base = unit.base
        n = 1
        while True:
            names = [spell_inner_digits(base + f.extern_name[len(unit.base):]) for f in unit.functions]
            if not any(x in used for x in names):
                break
            n += 1
            base = f"{unit.base}_{n}"
        used.update(names)
        for f, final in zip(unit.functions, names, strict=True):
            f = replace(f, extern_name=final)
            if empties:
                f = replace(f, params=tuple(replace(p, type=_retype(p.type, empties)) for p in f.params),
                            returns=_retype(f.returns, empties) if f.returns else None)
            functions.append(f)
    records = dict(mapper.records)
    if empties:
        records = {k: replace(r, fields=tuple(replace(fl, type=_retype(fl.type, empties)) for fl in r.fields))
                   for k, r in records.items()}
    # synthesised tuple records
    refs = [p.type for f in functions for p in f.params] + [f.returns for f in functions if f.returns]
    refs += [fl.type for r in records.values() for fl in r.fields]
    for ref in refs:
        for t in ref.walk():
            if t.kind == "tuple" and t.name and t.name not in records:
                records[t.name] = Record(t.name, "", "tuple", tuple(
                    Field(f"t{i}", f"t{i}", a) for i, a in enumerate(t.args)))
    return MappedSurface(
        dist=dist, version=version, alias=alias, import_names=imports, tier=tier,
        functions=tuple(sorted(functions, key=lambda f: f.extern_name)),
        records=tuple(records[k] for k in sorted(records)),
        enums=tuple(mapper.enums[k] for k in sorted(mapper.enums)),
        handles=tuple(mapper.handles[k] for k in sorted(mapper.handles)),
        skips=tuple(sorted(mapper.skips)),
    )
