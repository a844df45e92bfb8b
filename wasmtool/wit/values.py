"""Convert values between the wrapper's calling convention and WIT, by planned type.

STDLIB ONLY, no wasmtool imports: this file is copied into every component as
``wasmtool_wit_values.py`` (the guest glue imports it at top level) and is also used by the
host runner (:mod:`wasmtool.run.wasi`). Types are ``TypeRef.to_dict()`` dicts.

The wrapper's convention (the Mochi side; ``wasmtool.typemap.surface``) ::

    int / float / bool / str   as is            bytes      list[int] (bytes accepted)
    list<T> / set<T>           list             map<K, V>  dict
    option<T>                  None or T        tuple      {"t0": .., "t1": ..} (tuple/list accepted)
    record                     dict by Python field name (objects with attributes accepted;
                               a not-required field that is None is left out)
    enum                       the member's value (Enum members accepted)
    handle                     the Python object itself (guest); the host's handle (host)
    any                        the value itself; crosses WIT as a ``dyn-value`` tree (below)

The WIT side is given by an adapter, because componentize-py bindings (guest) and
wasmtime-py (host) represent records and enums differently: see :class:`BindingsAdapter`
and :class:`WasmtimeAdapter`. Lists are ``list``, ``list<u8>`` is ``bytes``, tuples are
``tuple``, options are ``None`` or the value.

Dynamic values (``any``): WIT has no recursive types, so an ``any`` value crosses as the
record ``dyn-value`` of the shipped interface ``mochi:python/dynamic`` (``wit/mochi-python/
dynamic.wit``): a flat list of ``dyn-node`` variants and the index of the root. The nodes
are in pre-order (a container's children have larger indices than the container, each node
is the child of exactly one container), so a tree read back has no cycles and no sharing.
:meth:`Codec.any_to_tree` follows the wire encoding of ``wasmtool_runtime.jsonrpc.values``
case by case (a frozen dataclass is a mapping of its fields, a set is sorted when it sorts,
an integer-like scalar is an int, an int beyond s64 is ``big-integer``, a dict with a key
that is not a string is ``pairs``), and an object with no such form is ``object(ref)``: the
guest keeps it in its table (:class:`BindingsAdapter`) and the host shows it as a handle, so
the JSON of a result is the same as natively. The limits (:data:`ANY_MAX_DEPTH`,
:data:`ANY_MAX_NODES`, :data:`ANY_MAX_BYTES`) are checked in both directions on both sides;
exceeding one raises :class:`DynamicValueLimit`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import keyword
import operator
import sys
from collections.abc import Callable, Mapping
from typing import Any, Protocol

__all__ = [
    "ANY_MAX_BYTES",
    "ANY_MAX_DEPTH",
    "ANY_MAX_NODES",
    "BYTES_AS_LIST",
    "DYN_CASES",
    "BindingsAdapter",
    "Codec",
    "DynamicValueLimit",
    "GuestObject",
    "WasmtimeAdapter",
    "WitAdapter",
    "WitValueMismatch",
    "python_type_name",
]

#: The wrapper takes and returns ``bytes`` values as ``list[int]`` (typemap: bytes <-> list<int>).
BYTES_AS_LIST = True

_S64_MIN, _S64_MAX = -(2**63), 2**63 - 1

#: Limits of one ``any`` value crossing WIT (docs/wasi.md, "Dynamic values"): how deeply
#: containers nest (the value itself is level 1), how many nodes the tree has, and the total
#: length of its strings (UTF-8 bytes), big integers and byte strings.
ANY_MAX_DEPTH = 200
ANY_MAX_NODES = 1_000_000
ANY_MAX_BYTES = 64 * 1024 * 1024

#: The cases of ``variant dyn-node`` in WIT order.
DYN_CASES = ("none", "boolean", "integer", "big-integer", "number", "text", "bytes", "sequence", "mapping",
             "pairs", "object")
#: The module componentize-py generates for the imported interface ``mochi:python/dynamic``.
DYNAMIC_BINDINGS_MODULE = "wit_world.imports.dynamic"


class WitValueMismatch(ValueError):
    """A value does not fit its type; ``path`` says where (``arg 0.items[2].name``).

    Internal, not a :class:`~wasmtool.errors.WasmtoolError`: this module is stdlib-only
    because it is copied into every component, so it cannot import the hierarchy. It never
    reaches a user as itself: the host (:mod:`wasmtool.run.wasi`) translates it into
    :class:`~wasmtool.wit.errors.WitValueError` (WT876), and in the guest it becomes the
    ``err(py-error)`` of the call, whose ``kind`` is ``wasmtool_wit_values.WitValueMismatch``.
    """

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


class DynamicValueLimit(WitValueMismatch):
    """An ``any`` value is over one of the limits: ``limit`` is ``"depth"``, ``"nodes"`` or
    ``"bytes"``, ``maximum`` its value. The host reports it as WT890
    (:class:`~wasmtool.wit.errors.DynamicValueLimitError`); in the guest it becomes the call's
    ``err(py-error)`` of kind ``wasmtool_wit_values.DynamicValueLimit``."""

    def __init__(self, limit: str, maximum: int, message: str, path: str = "") -> None:
        super().__init__(message, path)
        self.limit = limit
        self.maximum = maximum


@dataclasses.dataclass(frozen=True, eq=False)
class GuestObject:
    """The host's stand-in for an object a guest keeps in its table (``object(ref)``): one
    instance per ref, so the host's handle table numbers the same object once."""

    ref: int


def python_type_name(exc_type: type[BaseException]) -> str:
    """``ValueError`` for builtins, else ``module.QualName`` (as the worker reports it)."""
    module = exc_type.__module__
    if module in ("builtins", "__main__", None):
        return exc_type.__qualname__
    return f"{module}.{exc_type.__qualname__}"


class WitAdapter(Protocol):
    """How the WIT side builds and reads records and (string) enums."""

    def make_record(self, label: str, values: list[Any]) -> Any: ...
    def record_values(self, label: str, obj: Any) -> list[Any]: ...
    def make_enum(self, label: str, index: int) -> Any: ...
    def enum_index(self, label: str, obj: Any) -> int: ...
    def to_resource(self, name: str, value: Any, path: str) -> Any: ...
    def from_resource(self, name: str, value: Any) -> Any: ...
    # dynamic values (``any``): ``dyn-node`` cases by their WIT name, ``dyn-value`` records,
    # and objects with no value form (kept by the guest, shown as handles by the host)
    def make_node(self, case: str, payload: Any) -> Any: ...
    def node_parts(self, node: Any) -> tuple[str, Any]: ...
    def make_dyn_value(self, nodes: list[Any], root: int) -> Any: ...
    def dyn_value_parts(self, value: Any) -> tuple[list[Any], int]: ...
    def object_ref(self, value: Any, path: str) -> int: ...
    def object_value(self, ref: int, path: str) -> Any: ...


def _node_class_name(case: str) -> str:
    """componentize-py 0.25's class for a ``dyn-node`` case: ``DynNode_Boolean``,
    ``DynNode_BigInteger``, ``DynNode_None_`` (a Python keyword gets a trailing ``_``)."""
    pascal = "".join(word.capitalize() for word in case.split("-"))
    return "DynNode_" + (pascal + "_" if keyword.iskeyword(pascal) else pascal)


_NODE_CLASSES = {case: _node_class_name(case) for case in DYN_CASES}
_NODE_CASES = {name: case for case, name in _NODE_CLASSES.items()}


class BindingsAdapter:
    """componentize-py 0.25 bindings: records are dataclasses (fields in WIT order), enums
    are ``enum.Enum`` classes whose values are the case indexes, and a resource is an
    instance of the glue's class for it (Mochi handle name -> class), wrapping the Python
    object as ``.obj``."""

    def __init__(self, records: Mapping[str, Any], enums: Mapping[str, Any],
                 resources: Mapping[str, Any] | None = None, dynamic: Any = None) -> None:
        self.records = dict(records)
        self.enums = dict(enums)
        self.resources = dict(resources or {})
        # the bindings of ``mochi:python/dynamic`` (found when first needed: the glue's
        # ``import wit_world.exports`` imported them at build time)
        self.dynamic = dynamic
        self._objects: dict[int, Any] = {}     # ref -> object, for the instance's lifetime
        self._refs: dict[int, int] = {}        # id(object) -> ref

    def _bindings(self) -> Any:
        if self.dynamic is None:
            self.dynamic = sys.modules[DYNAMIC_BINDINGS_MODULE]
        return self.dynamic

    def make_node(self, case: str, payload: Any) -> Any:
        cls = getattr(self._bindings(), _NODE_CLASSES[case])
        return cls() if case == "none" else cls(payload)

    def node_parts(self, node: Any) -> tuple[str, Any]:
        case = _NODE_CASES.get(type(node).__name__)
        if case is None:
            raise WitValueMismatch(f"not a dyn-node: {type(node).__name__}")
        return case, getattr(node, "value", None)

    def make_dyn_value(self, nodes: list[Any], root: int) -> Any:
        return self._bindings().DynValue(nodes, root)

    def dyn_value_parts(self, value: Any) -> tuple[list[Any], int]:
        return list(value.nodes), int(value.root)

    def object_ref(self, value: Any, path: str) -> int:
        ref = self._refs.get(id(value))
        if ref is None:
            ref = self._refs[id(value)] = len(self._objects) + 1
            self._objects[ref] = value
        return ref

    def object_value(self, ref: int, path: str) -> Any:
        try:
            return self._objects[ref]
        except KeyError:
            raise WitValueMismatch(f"no object {ref} in this instance", path) from None

    def to_resource(self, name: str, value: Any, path: str) -> Any:
        return self.resources[name](value)

    def from_resource(self, name: str, value: Any) -> Any:
        return value.obj

    def make_record(self, label: str, values: list[Any]) -> Any:
        return self.records[label](*values)

    def record_values(self, label: str, obj: Any) -> list[Any]:
        return [getattr(obj, f.name) for f in dataclasses.fields(obj)]

    def make_enum(self, label: str, index: int) -> Any:
        return self.enums[label](index)

    def enum_index(self, label: str, obj: Any) -> int:
        return int(obj.value)


class WasmtimeAdapter:
    """wasmtime-py 50: records are objects with one attribute per WIT field label (kebab
    case, set with ``setattr``), enums are the case label as ``str``, resources are
    ``ResourceAny``; ``to_resource(name, value, path)`` / ``from_resource(name, resource)``
    map them to and from the runner's handles."""

    def __init__(self, record_class: Any, records: Mapping[str, list[str]],
                 enums: Mapping[str, list[str]],
                 to_resource: Callable[[str, Any, str], Any] | None = None,
                 from_resource: Callable[[str, Any], Any] | None = None,
                 variant_class: Any = None) -> None:
        self.record_class = record_class
        self.records = dict(records)    # record label -> field labels in order
        self.enums = dict(enums)        # enum label -> case labels in order
        self._to_resource = to_resource
        self._from_resource = from_resource
        # wasmtime-py's ``Variant(tag, payload)`` lives beside its ``Record``
        self.variant_class = variant_class
        self._guest_objects: dict[int, GuestObject] = {}

    def _variant(self) -> Any:
        if self.variant_class is None:
            self.variant_class = getattr(sys.modules[self.record_class.__module__], "Variant")  # noqa: B009
        return self.variant_class

    def make_node(self, case: str, payload: Any) -> Any:
        return self._variant()(case, payload)

    def node_parts(self, node: Any) -> tuple[str, Any]:
        tag = getattr(node, "tag", None)
        if not isinstance(tag, str):
            raise WitValueMismatch(f"not a dyn-node: {type(node).__name__}")
        return tag, getattr(node, "payload", None)

    def make_dyn_value(self, nodes: list[Any], root: int) -> Any:
        rec = self.record_class()
        rec.nodes = nodes
        rec.root = root
        return rec

    def dyn_value_parts(self, value: Any) -> tuple[list[Any], int]:
        return list(value.nodes), int(value.root)

    def object_ref(self, value: Any, path: str) -> int:
        raise WitValueMismatch(f"a {type(value).__name__} cannot cross inside an `any` value into a component "
                               "(only values with a JSON form: a handle cannot)", path)

    def object_value(self, ref: int, path: str) -> Any:
        key = self._guest_objects.get(ref)
        if key is None:
            key = self._guest_objects[ref] = GuestObject(ref)
        return self.from_resource("any", key)

    def to_resource(self, name: str, value: Any, path: str) -> Any:
        if self._to_resource is None:
            raise WitValueMismatch(f"handle {name} cannot cross here", path)
        return self._to_resource(name, value, path)

    def from_resource(self, name: str, value: Any) -> Any:
        return value if self._from_resource is None else self._from_resource(name, value)

    def make_record(self, label: str, values: list[Any]) -> Any:
        rec = self.record_class()
        for name, value in zip(self.records[label], values, strict=True):
            setattr(rec, name, value)
        return rec

    def record_values(self, label: str, obj: Any) -> list[Any]:
        return [getattr(obj, name) for name in self.records[label]]

    def make_enum(self, label: str, index: int) -> Any:
        return self.enums[label][index]

    def enum_index(self, label: str, obj: Any) -> int:
        return self.enums[label].index(obj)


class Codec:
    """Wrapper values <-> WIT values for planned types.

    ``records``: Mochi type name -> ``{"label", "fields": [{"name", "label", "type", "required"}]}``;
    ``enums``: Mochi type name -> ``{"label", "value_kind", "cases": [[label, value], ...]}``.
    """

    def __init__(self, records: Mapping[str, Any], enums: Mapping[str, Any], adapter: WitAdapter) -> None:
        self.records = dict(records)
        self.enums = dict(enums)
        self.adapter = adapter

    # -- wrapper -> WIT ------------------------------------------------------------------

    def to_wit(self, t: Mapping[str, Any], value: Any, path: str = "") -> Any:
        kind = t["kind"]
        if kind == "int":
            if isinstance(value, enum.Enum) and isinstance(value.value, int):
                value = value.value
            if isinstance(value, bool) or not isinstance(value, int):
                raise WitValueMismatch(f"expected int, got {type(value).__name__}", path)
            if not _S64_MIN <= value <= _S64_MAX:
                raise WitValueMismatch(f"{value} does not fit s64", path)
            return int(value)
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise WitValueMismatch(f"expected float, got {type(value).__name__}", path)
            return float(value)
        if kind == "bool":
            if not isinstance(value, bool):
                raise WitValueMismatch(f"expected bool, got {type(value).__name__}", path)
            return value
        if kind == "str":
            if isinstance(value, enum.Enum) and isinstance(value.value, str):
                value = value.value
            if not isinstance(value, str):
                raise WitValueMismatch(f"expected str, got {type(value).__name__}", path)
            return str(value)
        if kind == "bytes":
            if isinstance(value, bytes | bytearray | memoryview):
                return bytes(value)
            if isinstance(value, list | tuple):
                try:
                    return bytes(value)
                except (TypeError, ValueError) as exc:
                    raise WitValueMismatch(f"expected bytes (list of 0..255): {exc}", path) from None
            raise WitValueMismatch(f"expected bytes, got {type(value).__name__}", path)
        args = t.get("args", [])
        if kind == "option":
            return None if value is None else self.to_wit(args[0], value, path)
        if kind in ("list", "set"):
            items = self._iterable(value, path)
            if kind == "set" and isinstance(value, set | frozenset):
                with contextlib.suppress(TypeError):
                    items = sorted(items)
            return [self.to_wit(args[0], v, f"{path}[{i}]") for i, v in enumerate(items)]
        if kind == "map":
            if isinstance(value, Mapping):
                pairs = list(value.items())
            else:
                pairs = [tuple(p) for p in self._iterable(value, path)]
            return [(self.to_wit(args[0], k, f"{path}.key"), self.to_wit(args[1], v, f"{path}[{k!r}]"))
                    for k, v in pairs]
        if kind == "tuple":
            if isinstance(value, Mapping):
                try:
                    items = [value[f"t{i}"] for i in range(len(args))]
                except KeyError as exc:
                    raise WitValueMismatch(f"tuple record lacks {exc.args[0]!r}", path) from None
            elif isinstance(value, list | tuple):
                items = list(value)
            else:
                raise WitValueMismatch(f"expected a tuple, got {type(value).__name__}", path)
            if len(items) != len(args):
                raise WitValueMismatch(f"expected {len(args)} items, got {len(items)}", path)
            return tuple(self.to_wit(a, v, f"{path}.t{i}") for i, (a, v) in enumerate(zip(args, items, strict=True)))
        if kind == "record":
            rec = self.records[t["name"]]
            values = []
            for f in rec["fields"]:
                fpath = f"{path}.{f['name']}"
                if isinstance(value, Mapping):
                    present = f["name"] in value
                    v = value.get(f["name"])
                else:
                    present = hasattr(value, f["name"])
                    v = getattr(value, f["name"], None)
                if not present and f["required"] and f["type"]["kind"] != "option":
                    raise WitValueMismatch(f"missing field {f['name']!r}", fpath)
                values.append(self.to_wit(f["type"], v, fpath))
            return self.adapter.make_record(rec["label"], values)
        if kind == "enum":
            decl = self.enums[t["name"]]
            raw = value.value if isinstance(value, enum.Enum) else value
            if decl["value_kind"] != "string":
                return self.to_wit({"kind": "int"}, raw, path)
            for i, (_label, member_value) in enumerate(decl["cases"]):
                if raw == member_value:
                    return self.adapter.make_enum(decl["label"], i)
            allowed = ", ".join(repr(v) for _, v in decl["cases"])
            raise WitValueMismatch(f"{raw!r} is not one of {allowed}", path)
        if kind == "handle":
            if value is None:
                raise WitValueMismatch(f"expected a {t.get('name')} handle, got None", path)
            return self.adapter.to_resource(t["name"], value, path)
        if kind == "any":
            return self.any_to_tree(value, path)
        raise WitValueMismatch(f"type {kind} cannot cross WIT", path)

    # -- WIT -> wrapper ------------------------------------------------------------------

    def from_wit(self, t: Mapping[str, Any], value: Any, path: str = "") -> Any:
        kind = t["kind"]
        if kind in ("int", "bool", "str"):
            return value
        if kind == "float":
            return float(value)
        if kind == "bytes":
            return list(bytes(value)) if BYTES_AS_LIST else bytes(value)
        args = t.get("args", [])
        if kind == "option":
            return None if value is None else self.from_wit(args[0], value, path)
        if kind in ("list", "set"):
            return [self.from_wit(args[0], v, f"{path}[{i}]") for i, v in enumerate(value)]
        if kind == "map":
            return {self.from_wit(args[0], k, path): self.from_wit(args[1], v, path) for k, v in value}
        if kind == "tuple":
            return {f"t{i}": self.from_wit(a, v, path) for i, (a, v) in enumerate(zip(args, value, strict=True))}
        if kind == "record":
            rec = self.records[t["name"]]
            raw = self.adapter.record_values(rec["label"], value)
            out: dict[str, Any] = {}
            for f, v in zip(rec["fields"], raw, strict=True):
                if v is None and not f["required"]:
                    continue
                out[f["name"]] = self.from_wit(f["type"], v, f"{path}.{f['name']}")
            return out
        if kind == "enum":
            decl = self.enums[t["name"]]
            if decl["value_kind"] != "string":
                return value
            return decl["cases"][self.adapter.enum_index(decl["label"], value)][1]
        if kind == "handle":
            return self.adapter.from_resource(t["name"], value)
        if kind == "any":
            return self.tree_to_any(value, path)
        raise WitValueMismatch(f"type {kind} cannot cross WIT", path)

    # -- dynamic values (``any``) --------------------------------------------------------

    def any_to_tree(self, value: Any, path: str = "") -> Any:
        """``value`` as a ``dyn-value`` (nodes in pre-order; see the module docstring)."""
        return _TreeWriter(self.adapter, path).write(value)

    def tree_to_any(self, tree: Any, path: str = "") -> Any:
        """The value of a ``dyn-value``, checked: every index in range and after its
        container's, every node used once, the limits kept."""
        return _TreeReader(self.adapter, path).read(tree)

    @staticmethod
    def _iterable(value: Any, path: str) -> list[Any]:
        if isinstance(value, str | bytes | bytearray | Mapping):
            raise WitValueMismatch(f"expected a list, got {type(value).__name__}", path)
        try:
            return list(value)
        except TypeError:
            raise WitValueMismatch(f"expected a list, got {type(value).__name__}", path) from None


#: The client-side handle of the wire encoding (a frozen dataclass, but encoded as a handle).
_HANDLE_CLASSES = frozenset({("wasmtool_runtime.jsonrpc.values", "Handle")})


def _too_deep(path: str) -> DynamicValueLimit:
    return DynamicValueLimit("depth", ANY_MAX_DEPTH, f"the `any` value nests lists/maps more than {ANY_MAX_DEPTH} "
                             "levels deep (or is cyclic)", path)


def _too_many(path: str) -> DynamicValueLimit:
    return DynamicValueLimit("nodes", ANY_MAX_NODES, f"the `any` value has more than {ANY_MAX_NODES} items", path)


def _too_big(path: str) -> DynamicValueLimit:
    return DynamicValueLimit("bytes", ANY_MAX_BYTES, f"the strings and bytes of the `any` value exceed "
                             f"{ANY_MAX_BYTES} bytes", path)


def _ordered(items: Any) -> list[Any]:
    try:
        return sorted(items)
    except TypeError:  # mixed types: keep iteration order (as the wire encoding does)
        return list(items)


class _TreeWriter:
    """A value -> ``dyn-value``, following ``wasmtool_runtime.jsonrpc.values.encode_value``."""

    def __init__(self, adapter: WitAdapter, path: str) -> None:
        self.adapter = adapter
        self.path = path
        self.nodes: list[Any] = []
        self.size = 0

    def write(self, value: Any) -> Any:
        root = self._add(value, 1)
        return self.adapter.make_dyn_value(self.nodes, root)

    def _count(self, n: int) -> None:
        self.size += n
        if self.size > ANY_MAX_BYTES:
            raise _too_big(self.path)

    def _text(self, value: str) -> str:
        text = str.__str__(value)
        self._count(len(text.encode("utf-8", "surrogatepass")))
        return text

    def _add(self, value: Any, depth: int) -> int:
        if len(self.nodes) >= ANY_MAX_NODES:
            raise _too_many(self.path)
        index = len(self.nodes)
        self.nodes.append(None)
        case, payload = self._node(value, depth)
        self.nodes[index] = self.adapter.make_node(case, payload)
        return index

    def _container(self, depth: int) -> int:
        if depth > ANY_MAX_DEPTH:
            raise _too_deep(self.path)
        return depth + 1

    def _node(self, value: Any, depth: int) -> tuple[str, Any]:
        if value is None:
            return "none", None
        if isinstance(value, bool):
            return "boolean", bool(value)
        if isinstance(value, str):
            return "text", self._text(value)
        if isinstance(value, int):
            return self._int(int(value))
        if isinstance(value, float):
            return "number", float(value)
        if isinstance(value, bytes | bytearray | memoryview):
            data = bytes(value)
            self._count(len(data))
            return "bytes", data
        if isinstance(value, list | tuple):
            inner = self._container(depth)
            return "sequence", [self._add(item, inner) for item in value]
        if isinstance(value, set | frozenset):
            inner = self._container(depth)
            return "sequence", [self._add(item, inner) for item in _ordered(value)]
        if isinstance(value, dict):
            inner = self._container(depth)
            if all(isinstance(k, str) for k in value):
                return "mapping", [(self._text(k), self._add(v, inner)) for k, v in value.items()]
            pairs = []
            for k, v in value.items():
                key = self._add(k, inner)
                pairs.append((key, self._add(v, inner)))
            return "pairs", pairs
        if (type(value).__module__, type(value).__name__) in _HANDLE_CLASSES:
            return "object", self.adapter.object_ref(value, self.path)   # the host's handle, not a record
        if hasattr(type(value), "__index__"):   # integer-like scalars (numpy.int64, ...)
            try:
                as_int = operator.index(value)
            except TypeError:
                pass
            else:
                return self._int(as_int)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            params = getattr(type(value), "__dataclass_params__", None)
            if params is not None and params.frozen:
                inner = self._container(depth)
                return "mapping", [(self._text(f.name), self._add(getattr(value, f.name), inner))
                                   for f in dataclasses.fields(value)]
        return "object", self.adapter.object_ref(value, self.path)

    def _int(self, value: int) -> tuple[str, Any]:
        if _S64_MIN <= value <= _S64_MAX:
            return "integer", value
        try:
            text = str(value)
        except ValueError as exc:   # more digits than sys.get_int_max_str_digits()
            raise WitValueMismatch(f"integer too large to convert: {exc}", self.path) from None
        self._count(len(text))
        return "big-integer", text


class _TreeReader:
    """A ``dyn-value`` -> the value (dicts, lists, ints, floats, str, bytes, None, objects)."""

    def __init__(self, adapter: WitAdapter, path: str) -> None:
        self.adapter = adapter
        self.path = path
        self.size = 0

    def read(self, tree: Any) -> Any:
        nodes, root = self.adapter.dyn_value_parts(tree)
        if len(nodes) > ANY_MAX_NODES:
            raise _too_many(self.path)
        self.nodes = nodes
        self.used = bytearray(len(nodes))
        if not 0 <= root < len(nodes):
            raise WitValueMismatch(f"malformed dyn-value: root {root} of {len(nodes)} nodes", self.path)
        return self._value(root, 1)

    def _count(self, n: int) -> None:
        self.size += n
        if self.size > ANY_MAX_BYTES:
            raise _too_big(self.path)

    def _child(self, index: Any, parent: int, depth: int) -> Any:
        if isinstance(index, bool) or not isinstance(index, int) or not parent < index < len(self.nodes):
            raise WitValueMismatch(f"malformed dyn-value: node {parent} refers to node {index!r}", self.path)
        return self._value(index, depth)

    def _container(self, depth: int) -> int:
        if depth > ANY_MAX_DEPTH:
            raise _too_deep(self.path)
        return depth + 1

    def _value(self, index: int, depth: int) -> Any:
        if self.used[index]:
            raise WitValueMismatch(f"malformed dyn-value: node {index} is used twice", self.path)
        self.used[index] = 1
        case, payload = self.adapter.node_parts(self.nodes[index])
        if case == "none":
            return None
        if case == "boolean":
            return bool(payload)
        if case == "integer":
            return int(payload)
        if case == "big-integer":
            self._count(len(payload))
            try:
                return int(payload)
            except ValueError:
                raise WitValueMismatch(f"malformed dyn-value: big-integer {payload[:40]!r}", self.path) from None
        if case == "number":
            return float(payload)
        if case == "text":
            self._count(len(payload.encode("utf-8", "surrogatepass")))
            return str(payload)
        if case == "bytes":
            data = bytes(payload)
            self._count(len(data))
            return data
        if case == "sequence":
            inner = self._container(depth)
            return [self._child(i, index, inner) for i in payload]
        if case == "mapping":
            inner = self._container(depth)
            out: dict[Any, Any] = {}
            for key, i in payload:
                self._count(len(key.encode("utf-8", "surrogatepass")))
                out[str(key)] = self._child(i, index, inner)
            return out
        if case == "pairs":
            inner = self._container(depth)
            pairs: dict[Any, Any] = {}
            for k, v in payload:
                key = _freeze(self._child(k, index, inner))
                value = self._child(v, index, inner)
                try:
                    pairs[key] = value
                except TypeError:
                    raise WitValueMismatch(f"a map key is not hashable: {type(key).__name__}", self.path) from None
            return pairs
        if case == "object":
            return self.adapter.object_value(int(payload), self.path)
        raise WitValueMismatch(f"malformed dyn-value: unknown case {case!r}", self.path)


def _freeze(key: Any) -> Any:
    """A key read back: a list (a tuple key) becomes a tuple again, as the wire decoding does."""
    if isinstance(key, list):
        return tuple(_freeze(item) for item in key)
    return key
