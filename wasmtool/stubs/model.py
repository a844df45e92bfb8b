"""Declaration model of one parsed stub module (``.pyi`` or typed ``.py``).

Pure data produced by :func:`wasmtool.stubs.pyi.parse_stub` and consumed by
:func:`wasmtool.typemap.lower.map_module`. Annotations are kept as *text*
(``ast.unparse`` of the annotation expression); the type table parses them again with
:mod:`wasmtool.typemap.annotation`, so the model stays independent of the table.

Everything here is already evaluated for one target (``sys.version_info`` and
``sys.platform`` branches resolved, ``if TYPE_CHECKING:`` taken), so the model never
depends on the host interpreter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

ParamDeclKind = Literal[
    "positional_only", "positional_or_keyword", "var_positional", "keyword_only", "var_keyword",
]
TypeVarKind = Literal["TypeVar", "ParamSpec", "TypeVarTuple"]
LiteralValue = str | int | float | bool | bytes | None


@dataclass(frozen=True)
class ParamDecl:
    """One parameter. ``annotation`` is ``None`` when the parameter is unannotated."""

    name: str
    kind: ParamDeclKind
    annotation: str | None
    has_default: bool = False
    default_text: str = ""


@dataclass(frozen=True)
class TypeParam:
    """A PEP 695 type parameter (``def f[T: int](...)``, ``class C[*Ts]``, ``type A[**P] = ...``)."""

    name: str
    kind: TypeVarKind = "TypeVar"
    bound: str | None = None


@dataclass(frozen=True)
class FuncDecl:
    """A function or method.

    ``overloads`` holds the ``@overload`` arms in source order; the declaration itself is
    the implementation when one exists (typed ``.py``), else the first arm.
    ``decorators`` are the decorator expressions as text (``property``, ``x.setter``,
    ``functools.lru_cache(maxsize=None)``).
    """

    name: str
    params: tuple[ParamDecl, ...]
    returns: str | None
    is_async: bool = False
    decorators: tuple[str, ...] = ()
    overloads: tuple[FuncDecl, ...] = ()
    type_params: tuple[TypeParam, ...] = ()
    line: int = 0
    doc: str = ""

    def _has_decorator(self, *names: str) -> bool:
        for dec in self.decorators:
            base = dec.split("(", 1)[0].strip()
            if base in names or base.rsplit(".", 1)[-1] in names:
                return True
        return False

    @property
    def is_staticmethod(self) -> bool:
        return self._has_decorator("staticmethod")

    @property
    def is_classmethod(self) -> bool:
        return self._has_decorator("classmethod")

    @property
    def is_abstract(self) -> bool:
        return self._has_decorator("abstractmethod", "abstractproperty")

    @property
    def is_overload(self) -> bool:
        return self._has_decorator("overload")


@dataclass(frozen=True)
class PropertyDecl:
    """``@property`` (or ``cached_property``) with its getter annotation and setter/deleter flags."""

    name: str
    annotation: str | None
    has_setter: bool = False
    has_deleter: bool = False
    is_abstract: bool = False
    line: int = 0
    doc: str = ""


@dataclass(frozen=True)
class FieldDecl:
    """An annotated class-level name (dataclass/attrs/TypedDict/NamedTuple field or attribute)."""

    name: str
    annotation: str | None
    has_default: bool = False
    is_classvar: bool = False
    kw_only: bool = False
    line: int = 0


@dataclass(frozen=True)
class EnumMember:
    """``NAME = value`` in an Enum body; ``known`` is False for ``NAME = ...`` / non-literal values."""

    name: str
    value: LiteralValue
    known: bool = True


@dataclass(frozen=True)
class ClassDecl:
    """A class. Flags are syntactic (own bases/decorators); the mapper follows inheritance.

    ``keywords`` holds class keywords as text (``total``, ``metaclass``, ``frozen``...).
    ``dataclass_kind`` is ``"dataclass"`` or ``"attrs"`` when a (recognised) decorator
    makes it one; ``frozen`` then says whether instances are immutable.
    """

    name: str
    qualname: str
    bases: tuple[str, ...] = ()
    keywords: tuple[tuple[str, str], ...] = ()
    decorators: tuple[str, ...] = ()
    methods: tuple[FuncDecl, ...] = ()
    properties: tuple[PropertyDecl, ...] = ()
    fields: tuple[FieldDecl, ...] = ()
    classes: tuple[ClassDecl, ...] = ()
    enum_members: tuple[EnumMember, ...] = ()
    type_params: tuple[TypeParam, ...] = ()
    dataclass_kind: Literal["", "dataclass", "attrs"] = ""
    frozen: bool = False
    is_protocol: bool = False
    is_typeddict: bool = False
    is_enum: bool = False
    enum_base: str = ""
    is_namedtuple: bool = False
    is_exception: bool = False
    has_getattr: bool = False
    has_setattr: bool = False
    is_descriptor: bool = False
    is_generic: bool = False
    line: int = 0
    doc: str = ""

    @property
    def is_dataclass(self) -> bool:
        return self.dataclass_kind == "dataclass"

    @property
    def is_attrs(self) -> bool:
        return self.dataclass_kind == "attrs"

    @property
    def metaclass(self) -> str | None:
        return self.keyword("metaclass")

    @property
    def total(self) -> bool:
        """TypedDict ``total=`` (default True)."""
        return self.keyword("total") != "False"

    def keyword(self, name: str) -> str | None:
        for key, value in self.keywords:
            if key == name:
                return value
        return None

    def method(self, name: str) -> FuncDecl | None:
        for m in self.methods:
            if m.name == name:
                return m
        return None


@dataclass(frozen=True)
class ConstDecl:
    """A module-level name bound to a value. ``annotation`` is the declared type text;
    ``inferred`` is the builtin scalar type of an unannotated (or bare ``Final``) literal."""

    name: str
    annotation: str | None
    inferred: str | None = None
    value_text: str = ""
    line: int = 0


@dataclass(frozen=True)
class AliasDecl:
    """A type alias: ``X = Union[...]``, ``X: TypeAlias = ...``, ``type X[T] = ...``,
    ``X = NewType("X", int)`` (``kind="newtype"``; ``value`` is the underlying type)."""

    name: str
    value: str
    kind: Literal["implicit", "explicit", "pep695", "newtype"] = "implicit"
    type_params: tuple[TypeParam, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class TypeVarDecl:
    name: str
    kind: TypeVarKind = "TypeVar"
    bound: str | None = None
    constraints: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class ImportDecl:
    """One name bound by an import.

    ``import a.b as c``       -> local ``c``, module ``a.b``, name ``""``
    ``import a.b``            -> local ``a``, module ``a``, name ``""`` (``a.b`` reachable)
    ``from .x import y as z`` -> local ``z``, module ``<pkg>.x``, name ``y``
    ``reexport`` is the PEP 484 stub rule: ``as`` with the same name, or ``from . import z``.
    """

    local: str
    module: str
    name: str = ""
    reexport: bool = False
    line: int = 0


@dataclass(frozen=True)
class ModuleStub:
    """One module's declarations, evaluated for one target Python version and platform."""

    name: str
    file: str = ""
    is_package: bool = False
    is_stub: bool = True
    functions: tuple[FuncDecl, ...] = ()
    classes: tuple[ClassDecl, ...] = ()
    constants: tuple[ConstDecl, ...] = ()
    aliases: tuple[AliasDecl, ...] = ()
    type_vars: tuple[TypeVarDecl, ...] = ()
    imports: tuple[ImportDecl, ...] = ()
    star_imports: tuple[str, ...] = ()
    all_names: tuple[str, ...] | None = None
    all_from: tuple[str, ...] = field(default=())
    has_getattr: bool = False
    doc: str = ""

    def function(self, name: str) -> FuncDecl | None:
        return next((f for f in self.functions if f.name == name), None)

    def class_(self, name: str) -> ClassDecl | None:
        return next((c for c in self.classes if c.name == name), None)

    def constant(self, name: str) -> ConstDecl | None:
        return next((c for c in self.constants if c.name == name), None)

    def alias(self, name: str) -> AliasDecl | None:
        return next((a for a in self.aliases if a.name == name), None)

    def type_var(self, name: str) -> TypeVarDecl | None:
        return next((t for t in self.type_vars if t.name == name), None)

    def import_(self, local: str) -> ImportDecl | None:
        return self._imports_by_local.get(local)

    @cached_property
    def _imports_by_local(self) -> dict[str, ImportDecl]:
        """The imports by local name; the last binding wins, as at runtime (name resolution
        asks for one name per lookup, hundreds of thousands of times for a large surface)."""
        return {imp.local: imp for imp in self.imports}

    def defined_names(self) -> tuple[str, ...]:
        """Names defined (not imported) in this module, sorted."""
        names = {f.name for f in self.functions} | {c.name for c in self.classes}
        names |= {c.name for c in self.constants} | {a.name for a in self.aliases}
        names |= {t.name for t in self.type_vars}
        return tuple(sorted(names))
