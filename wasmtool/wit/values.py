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

The WIT side is given by an adapter, because componentize-py bindings (guest) and
wasmtime-py (host) represent records and enums differently: see :class:`BindingsAdapter`
and :class:`WasmtimeAdapter`. Lists are ``list``, ``list<u8>`` is ``bytes``, tuples are
``tuple``, options are ``None`` or the value.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
from collections.abc import Callable, Mapping
from typing import Any, Protocol

__all__ = [
    "BYTES_AS_LIST",
    "BindingsAdapter",
    "Codec",
    "WasmtimeAdapter",
    "WitAdapter",
    "WitValueMismatch",
    "python_type_name",
]

#: The wrapper takes and returns ``bytes`` values as ``list[int]`` (typemap: bytes <-> list<int>).
BYTES_AS_LIST = True

_S64_MIN, _S64_MAX = -(2**63), 2**63 - 1


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


class BindingsAdapter:
    """componentize-py 0.25 bindings: records are dataclasses (fields in WIT order), enums
    are ``enum.Enum`` classes whose values are the case indexes, and a resource is an
    instance of the glue's class for it (Mochi handle name -> class), wrapping the Python
    object as ``.obj``."""

    def __init__(self, records: Mapping[str, Any], enums: Mapping[str, Any],
                 resources: Mapping[str, Any] | None = None) -> None:
        self.records = dict(records)
        self.enums = dict(enums)
        self.resources = dict(resources or {})

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
                 from_resource: Callable[[str, Any], Any] | None = None) -> None:
        self.record_class = record_class
        self.records = dict(records)    # record label -> field labels in order
        self.enums = dict(enums)        # enum label -> case labels in order
        self._to_resource = to_resource
        self._from_resource = from_resource

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
        raise WitValueMismatch(f"type {kind} cannot cross WIT", path)

    @staticmethod
    def _iterable(value: Any, path: str) -> list[Any]:
        if isinstance(value, str | bytes | bytearray | Mapping):
            raise WitValueMismatch(f"expected a list, got {type(value).__name__}", path)
        try:
            return list(value)
        except TypeError:
            raise WitValueMismatch(f"expected a list, got {type(value).__name__}", path) from None
