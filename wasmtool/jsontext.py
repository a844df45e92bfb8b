"""Indented JSON text, fast: :func:`dumps_indented` is ``json.dumps(value, indent=1,
sort_keys=True, ensure_ascii=False)`` byte for byte.

Why not the standard library: ``json.dumps`` renders only compact JSON in C; with ``indent`` it
falls back to its pure-Python encoder, a generator per container and a ``yield`` per token. A
large surface's ``surface.json`` (numpy's is 28 MB) spends more time there than in rendering
its wrapper. This walk appends to one list and encodes strings with the same C string encoder,
about twice as fast. orjson indents by two spaces only, which would change every file written
so far. Anything outside plain JSON data (a subclass, a non-string key, another type) goes to
``json.dumps`` itself, so the text is always the standard library's.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any

__all__ = ["dumps_indented"]

_INFINITY = float("inf")


def dumps_indented(value: Any) -> str:
    """``json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False)``."""
    out: list[str] = []
    emit = out.append

    def walk(value: Any, newline: str) -> None:
        """Emit ``value``; its line breaks are followed by ``newline``'s indent."""
        kind = type(value)
        if kind is str:
            emit(encode_basestring(value))
        elif value is None:
            emit("null")
        elif value is True:
            emit("true")
        elif value is False:
            emit("false")
        elif kind is int:
            emit(int.__repr__(value))
        elif kind is float:
            emit(_float(value))
        elif kind is dict:
            if not value:
                emit("{}")
                return
            inner = newline + " "
            sep = "{" + inner
            for key in sorted(value):       # a key that is not a string: TypeError, json.dumps decides
                emit(sep)
                emit(encode_basestring(key))
                emit(": ")
                walk(value[key], inner)
                sep = "," + inner
            emit(newline + "}")
        elif kind is list or kind is tuple:
            if not value:
                emit("[]")
                return
            inner = newline + " "
            sep = "[" + inner
            for item in value:
                emit(sep)
                walk(item, inner)
                sep = "," + inner
            emit(newline + "]")
        else:
            raise TypeError(kind)       # not plain JSON data: json.dumps decides

    try:
        walk(value, "\n")
    except (TypeError, RecursionError):
        return json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False)
    return "".join(out)


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)
