"""Deterministic TOML rendering for the files wasmtool writes.

Hand-written on purpose (a small subset: tables, arrays of tables, inline tables, strings,
ints, bools, datetimes, string arrays) so output is byte-stable across tomlkit versions
and needs no round-trip document state; reading always goes through ``tomllib``.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping, Sequence
from typing import Any


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # JSON string escaping is a valid TOML basic string for the characters we emit.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, _dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_scalar(v)}" for k, v in value.items()) + " }"
    if isinstance(value, Sequence):
        items = [_scalar(v) for v in value]
        one_line = "[" + ", ".join(items) + "]"
        if len(one_line) <= 100:
            return one_line
        return "[\n" + "".join(f"    {i},\n" for i in items) + "]"
    raise TypeError(f"cannot render {type(value).__name__} as TOML")


def _key(key: str) -> str:
    if key and all(c.isalnum() or c in "-_" for c in key):
        return key
    return json.dumps(key)


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
