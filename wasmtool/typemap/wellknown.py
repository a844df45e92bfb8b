"""Well-known standard-library types (and numpy's scalars) and their wire forms (docs/type-table.md, "Wire forms").

Pure data: a fixed table from the qualified Python name of a standard-library type (as a
stub writes it, after imports are followed: ``datetime.datetime``, ``os.PathLike``,
``_typeshed.StrPath``, ``typing.SupportsIndex``) to the boundary type it crosses as. A
wire form is an existing scalar kind whose ``py`` names the Python type; the generated
wrapper converts (``isoformat()`` out, ``datetime.fromisoformat`` in, ...), Mochi and WIT
see only the scalar. A few typing protocols map to plain scalars (``SupportsIndex`` ->
``int``), and ``Hashable`` to the checked union of the hashable scalars.

:func:`well_known` looks a name up; the type table applies the entry's rule for type
arguments (:attr:`WellKnown.args`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from wasmtool.typemap.surface import TypeKind, TypeRef

__all__ = ["PATH", "WELL_KNOWN", "WellKnown", "well_known"]

#: A filesystem path: crosses as a string, ``pathlib.Path`` on the Python side.
PATH = TypeRef("str", py="pathlib:Path")

_HASHABLE = TypeRef("union", (TypeRef("str"), TypeRef("int"), TypeRef("float"), TypeRef("bool")))


@dataclass(frozen=True)
class WellKnown:
    """One entry: the boundary ``type`` of the Python type ``qualname``.

    ``args`` says what type arguments may follow the name: ``"none"`` (none),
    ``"erased"`` (any, ignored: ``os.PathLike[str]``), ``"str"`` (none, or exactly one that
    lowers to ``str``: ``re.Pattern[str]``; a ``bytes`` pattern is not mapped).
    """

    qualname: str
    type: TypeRef
    args: Literal["none", "erased", "str"] = "none"


def _entries() -> dict[str, WellKnown]:
    table: dict[str, tuple[TypeRef, Literal["none", "erased", "str"]]] = {
        "datetime.datetime": (TypeRef("str", py="datetime:datetime"), "none"),
        "datetime.date": (TypeRef("str", py="datetime:date"), "none"),
        "datetime.time": (TypeRef("str", py="datetime:time"), "none"),
        "datetime.timedelta": (TypeRef("float", py="datetime:timedelta"), "none"),
        "decimal.Decimal": (TypeRef("str", py="decimal:Decimal"), "none"),
        "_decimal.Decimal": (TypeRef("str", py="decimal:Decimal"), "none"),
        "uuid.UUID": (TypeRef("str", py="uuid:UUID"), "none"),
        # paths: every pathlib class, os.PathLike, and typeshed's str-or-path aliases
        "pathlib.Path": (PATH, "none"),
        "pathlib.PurePath": (PATH, "none"),
        "pathlib.PosixPath": (PATH, "none"),
        "pathlib.WindowsPath": (PATH, "none"),
        "pathlib.PurePosixPath": (PATH, "none"),
        "pathlib.PureWindowsPath": (PATH, "none"),
        "os.PathLike": (PATH, "erased"),
        "_typeshed.StrPath": (PATH, "none"),
        "_typeshed.StrOrBytesPath": (PATH, "none"),
        "_typeshed.GenericPath": (PATH, "erased"),
        "_typeshed.FileDescriptorOrPath": (TypeRef("union", (TypeRef("int"), PATH)), "none"),
        "re.Pattern": (TypeRef("str", py="re:Pattern"), "str"),
        "typing.Pattern": (TypeRef("str", py="re:Pattern"), "str"),
        # typing protocols satisfied by exactly one scalar's values
        "typing.SupportsIndex": (TypeRef("int"), "none"),
        "typing.SupportsInt": (TypeRef("int"), "none"),
        "typing.SupportsFloat": (TypeRef("float"), "none"),
        "typing.Hashable": (_HASHABLE, "none"),
        "collections.abc.Hashable": (_HASHABLE, "none"),
        # typeshed's read-only buffer aliases: bytes in (a bytes value is such a buffer).
        # WriteableBuffer is left out: a function writing into a copy would lose its writes.
        "_typeshed.ReadableBuffer": (TypeRef("bytes"), "none"),
        "_typeshed.ReadOnlyBuffer": (TypeRef("bytes"), "none"),
    }
    # numpy's scalar types, named by another distribution's stubs (scipy's, pandas'): they cross
    # as the Python scalar they hold. In numpy's own surface they stay classes of the package.
    for kind, names in _NUMPY_SCALARS.items():
        for name in names:
            table[f"numpy.{name}"] = (TypeRef(kind, py=f"numpy:{_NUMPY_WIRE[kind]}"), "erased")
    return {name: WellKnown(name, t, args) for name, (t, args) in table.items()}


#: numpy scalar type names by the scalar kind their values cross as (``complex`` has no form).
_NUMPY_SCALARS: dict[TypeKind, tuple[str, ...]] = {
    "float": ("float64", "float32", "float16", "double", "single", "half", "longdouble", "floating"),
    "int": ("int8", "int16", "int32", "int64", "intp", "int_", "intc", "long", "longlong", "short", "byte",
            "uint8", "uint16", "uint32", "uint64", "uintp", "uint", "uintc", "ulong", "ulonglong", "ushort",
            "ubyte", "integer", "signedinteger", "unsignedinteger"),
    "bool": ("bool", "bool_"),
}
#: The ``py`` of each numpy wire form: the numpy type an argument becomes.
_NUMPY_WIRE: dict[TypeKind, str] = {"float": "float64", "int": "int64", "bool": "bool"}


#: Qualified name -> entry (read-only).
WELL_KNOWN: Mapping[str, WellKnown] = MappingProxyType(_entries())


def well_known(qualname: str) -> WellKnown | None:
    """The entry for ``qualname`` (``datetime.datetime``, ``typing.SupportsIndex``), if any."""
    return WELL_KNOWN.get(qualname)
