"""Deterministic TOML rendering for the files wasmtool writes (``mochi.lock``, ``pylock.toml``).

Kept hand-written rather than switched to tomli-w: the lock's layout (which arrays are
``[[tables]]``, which stay inline, where long arrays break) is part of its documented,
byte-stable format, and tomli-w chooses its own. The subset is small (tables, arrays of
tables, inline tables, strings, 64-bit ints, bools, datetimes, arrays) and every value it
renders is proven to read back unchanged through ``tomllib`` by a hypothesis round-trip test
(tests/lock/test_toml_render.py). Reading always goes through ``tomllib``.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

_INT64 = (-(2**63), 2**63 - 1)
_BARE_KEY = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _string(value: str) -> str:
    """A TOML basic string. JSON's escaping covers ``"``, ``\\`` and U+0000-U+001F with
    escapes TOML shares; TOML also forbids a raw U+007F, and a lone surrogate is no
    Unicode scalar value at all."""
    if any("\ud800" <= c <= "\udfff" for c in value):
        raise ValueError(f"cannot write a lone surrogate to TOML: {value!r}")
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _scalar(value: Any, *, in_inline: bool = False) -> str:
    """A value on the right of ``=``; inside an inline table nothing may span lines."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not _INT64[0] <= value <= _INT64[1]:
            raise ValueError(f"TOML integers are 64-bit: {value} is out of range")
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, _dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Mapping):
        items = [f"{_key(k)} = {_scalar(v, in_inline=True)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    if isinstance(value, Sequence):
        items = [_scalar(v, in_inline=in_inline) for v in value]
        one_line = "[" + ", ".join(items) + "]"
        if len(one_line) <= 100 or in_inline:
            return one_line
        return "[\n" + "".join(f"    {i},\n" for i in items) + "]"
    raise TypeError(f"cannot render {type(value).__name__} as TOML")


def _key(key: str) -> str:
    """A bare key when TOML allows one (ASCII letters, digits, ``-``, ``_``), else quoted."""
    if key and all(c in _BARE_KEY for c in key):
        return key
    return _string(key)


def _is_table_array(value: Any) -> bool:
    return (
        isinstance(value, Sequence) and not isinstance(value, str) and len(value) > 0
        and all(isinstance(v, Mapping) for v in value)
    )


def render(doc: Mapping[str, Any], *, inline_arrays: frozenset[str] = frozenset()) -> str:
    """Render a document; arrays of tables become ``[[name]]`` blocks unless listed in
    ``inline_arrays`` (by key), which keeps them as arrays of inline tables."""
    lines: list[str] = []
    _render_table(doc, "", lines, inline_arrays)
    return "\n".join(lines).strip("\n") + "\n"


def _render_table(table: Mapping[str, Any], prefix: str, lines: list[str], inline: frozenset[str]) -> None:
    nested: list[tuple[str, Any]] = []
    for key, value in table.items():
        if value is None:
            continue
        if (isinstance(value, Mapping) and key not in inline) or (_is_table_array(value) and key not in inline):
            nested.append((key, value))
        else:
            lines.append(f"{_key(key)} = {_scalar(value)}")
    for key, value in nested:
        name = f"{prefix}{_key(key)}"
        if isinstance(value, Mapping):
            lines.append("")
            lines.append(f"[{name}]")
            _render_table(value, name + ".", lines, inline)
        else:
            for item in value:
                lines.append("")
                lines.append(f"[[{name}]]")
                _render_table(item, name + ".", lines, inline)
