"""Value encoding of the worker protocol (formats.md §7).

=====================  ==========================================  ===================
Python value           JSON                                        decodes back to
=====================  ==========================================  ===================
``None``, bool, str    as is                                       same
int, ``|v| <= 2**53-1``  number                                    int
other int              ``{"$int": "<decimal>"}``                   int
float                  number; NaN/±inf as ``{"$float": "nan"}``,  float
                       ``"inf"``, ``"-inf"``
bytes, bytearray,      ``{"$bytes": "<base64>"}``                  bytes
memoryview
list, tuple, set,      array (sets sorted when their items sort)   list
frozenset
dict, all keys str     object                                      dict
other dict             ``{"$map": [[k, v], ...]}``                 dict (list keys ->
                                                                   tuples)
frozen dataclass       object of its fields (a record)             dict
:class:`Handle`        ``{"$handle": <int>}``                      Handle / the object
anything else          ``{"$handle": n}`` if a :class:`HandleTable`
                       is given, else :class:`ValueEncodingError`
=====================  ==========================================  ===================

A JSON object is *tagged* when it has exactly one key and that key is one of
:data:`TAGS`. To keep the encoding unambiguous, a str-keyed dict whose only key is a tag
name (``{"$int": "1"}`` as data) is sent as a ``$map``. Other objects are plain dicts.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import math
import operator
import re
import threading
from typing import Any

__all__ = [
    "MAX_SAFE_INT",
    "TAGS",
    "Handle",
    "HandleTable",
    "ValueDecodingError",
    "ValueEncodingError",
    "decode_value",
    "encode_value",
]

#: Largest integer magnitude sent as a plain JSON number (exact in an IEEE double).
MAX_SAFE_INT = 2**53 - 1
TAGS = frozenset({"$int", "$float", "$bytes", "$map", "$handle"})

_DECIMAL = re.compile(r"-?[0-9]+\Z")
_SPECIAL_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class ValueEncodingError(TypeError):
    """A value has no encoding (e.g. an object with no handle table, a cyclic list)."""


class ValueDecodingError(ValueError):
    """A tagged object is malformed (``{"$int": "x"}``, bad base64, unknown handle, ...)."""


@dataclasses.dataclass(frozen=True)
class Handle:
    """Client-side reference to an object that lives in the worker's :class:`HandleTable`."""

    id: int

    def __repr__(self) -> str:
        return f"Handle({self.id})"


class HandleTable:
    """Worker-side table of opaque objects handed out as ``{"$handle": n}`` (ids from 1).

    Thread-safe. Adding the same object twice returns the same id; the table keeps a
    strong reference until :meth:`release`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._objects: dict[int, Any] = {}
        self._ids: dict[int, int] = {}  # id(obj) -> handle id
        self._next = 1

    def add(self, obj: Any) -> int:
        with self._lock:
            known = self._ids.get(id(obj))
            if known is not None:
                return known
            handle = self._next
            self._next += 1
            self._objects[handle] = obj
            self._ids[id(obj)] = handle
            return handle

    def get(self, handle: int) -> Any:
        with self._lock:
            try:
                return self._objects[handle]
            except KeyError:
                raise ValueDecodingError(f"unknown handle {handle} (released or never issued)") from None

    def release(self, handles: list[int]) -> int:
        """Forget ``handles``; returns how many were known."""
        released = 0
        with self._lock:
            for handle in handles:
                obj = self._objects.pop(handle, _MISSING)
                if obj is not _MISSING:
                    self._ids.pop(id(obj), None)
                    released += 1
        return released

    def __len__(self) -> int:
        with self._lock:
            return len(self._objects)


_MISSING = object()


def encode_value(value: Any, handles: HandleTable | None = None) -> Any:
    """``value`` as plain JSON data (see the module table)."""
    try:
        return _encode(value, handles)
    except RecursionError as exc:
        raise ValueEncodingError("value nests too deeply (or is cyclic)") from exc


def _encode(value: Any, handles: HandleTable | None) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
            return int(value)  # int subclasses (IntEnum) become plain ints
        try:
            return {"$int": str(int(value))}
        except ValueError as exc:  # more digits than sys.get_int_max_str_digits()
            raise ValueEncodingError(f"integer too large to encode: {exc}") from exc
    if isinstance(value, float):
        if math.isnan(value):
            return {"$float": "nan"}
        if math.isinf(value):
            return {"$float": "inf" if value > 0 else "-inf"}
        return float(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, (list, tuple)):
        return [_encode(item, handles) for item in value]
    if isinstance(value, (set, frozenset)):
        return [_encode(item, handles) for item in _ordered(value)]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and not (len(value) == 1 and next(iter(value)) in TAGS):
            return {k: _encode(v, handles) for k, v in value.items()}
        return {"$map": [[_encode(k, handles), _encode(v, handles)] for k, v in value.items()]}
    if isinstance(value, Handle):
        return {"$handle": value.id}
    if hasattr(type(value), "__index__"):  # integer-like scalars (numpy.int64, ...)
        try:
            as_int = operator.index(value)
        except TypeError:
            pass
        else:
            return _encode(as_int, handles)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        params = getattr(type(value), "__dataclass_params__", None)
        if params is not None and params.frozen:
            return {f.name: _encode(getattr(value, f.name), handles) for f in dataclasses.fields(value)}
    if handles is not None:
        return {"$handle": handles.add(value)}
    raise ValueEncodingError(
        f"cannot encode a value of type {type(value).__qualname__} without a handle table"
    )


def _ordered(items: set[Any] | frozenset[Any]) -> list[Any]:
    try:
        return sorted(items)
    except TypeError:  # mixed types: keep iteration order
        return list(items)


def decode_value(data: Any, handles: HandleTable | None = None) -> Any:
    """The Python value for plain JSON ``data``.

    ``{"$handle": n}`` becomes the table's object when ``handles`` is given (worker side)
    and a :class:`Handle` otherwise (client side).
    """
    try:
        return _decode(data, handles)
    except RecursionError as exc:
        raise ValueDecodingError("value nests too deeply") from exc


def _decode(data: Any, handles: HandleTable | None) -> Any:
    if isinstance(data, list):
        return [_decode(item, handles) for item in data]
    if not isinstance(data, dict):
        if data is None or isinstance(data, (bool, int, float, str)):
            return data
        raise ValueDecodingError(f"not JSON data: {type(data).__qualname__}")
    if len(data) == 1:
        tag, payload = next(iter(data.items()))
        if tag in TAGS:
            return _decode_tagged(tag, payload, handles)
    return {k: _decode(v, handles) for k, v in data.items()}


def _decode_tagged(tag: str, payload: Any, handles: HandleTable | None) -> Any:
    if tag == "$int":
        if not isinstance(payload, str) or not _DECIMAL.match(payload):
            raise ValueDecodingError(f"$int needs a decimal string, got {payload!r:.80}")
        try:
            return int(payload)
        except ValueError as exc:
            raise ValueDecodingError(f"$int too long: {exc}") from exc
    if tag == "$float":
        if not isinstance(payload, str) or payload not in _SPECIAL_FLOATS:
            raise ValueDecodingError(f'$float must be "nan", "inf" or "-inf", got {payload!r:.80}')
        return _SPECIAL_FLOATS[payload]
    if tag == "$bytes":
        if not isinstance(payload, str):
            raise ValueDecodingError("$bytes needs a base64 string")
        try:
            return base64.b64decode(payload.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise ValueDecodingError(f"$bytes is not valid base64: {exc}") from exc
    if tag == "$map":
        if not isinstance(payload, list):
            raise ValueDecodingError("$map needs an array of [key, value] pairs")
        result: dict[Any, Any] = {}
        for pair in payload:
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValueDecodingError(f"$map entry is not a [key, value] pair: {pair!r:.80}")
            key = _freeze(_decode(pair[0], handles))
            try:
                result[key] = _decode(pair[1], handles)
            except TypeError as exc:  # unhashable key (a dict)
                raise ValueDecodingError(f"$map key is not hashable: {exc}") from exc
        return result
    # "$handle"
    if not isinstance(payload, int) or isinstance(payload, bool) or payload < 1:
        raise ValueDecodingError(f"$handle needs a positive integer, got {payload!r:.80}")
    return handles.get(payload) if handles is not None else Handle(payload)


def _freeze(key: Any) -> Any:
    if isinstance(key, list):
        return tuple(_freeze(item) for item in key)
    return key
