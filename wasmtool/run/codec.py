"""The wire value encoding (formats.md §7) as seen from wasmtool: re-exported from
:mod:`wasmtool_runtime.jsonrpc.values`, the stdlib-only module the worker also uses.

:func:`parse_json_value` reads a JSON value typed by a user (``wasmtool call --args``, a
line of a ``wasmtool run`` calls file) with a nesting limit, :data:`MAX_DEPTH` levels
(docs/value-encoding.md): deeper input is a ``ValueError`` saying so, never a
``RecursionError``.
"""

from __future__ import annotations

import json
from typing import Any

from wasmtool_runtime.jsonrpc.values import (
    MAX_SAFE_INT,
    Handle,
    HandleTable,
    ValueDecodingError,
    ValueEncodingError,
    decode_value,
    encode_value,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_SAFE_INT",
    "Handle",
    "HandleTable",
    "ValueDecodingError",
    "ValueEncodingError",
    "check_depth",
    "decode_value",
    "encode_value",
    "parse_json_value",
]

#: How deeply arrays and objects may nest in a JSON value given to ``call``/``run``
#: (the outer ``--args`` array or calls-file line is level 1).
MAX_DEPTH = 200


def _too_deep(limit: int) -> ValueError:
    # a plain ValueError: the CLI turns it into its usage error (WT002) or a failing line (WT710)
    return ValueError(f"arrays/objects nested more than {limit} levels deep (the limit for call values)")


def check_depth(value: Any, limit: int = MAX_DEPTH) -> None:
    """Raise ``ValueError`` when ``value`` (parsed JSON) nests deeper than ``limit``.
    Iterative: any depth is checked without recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            raise _too_deep(limit)
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def parse_json_value(text: str, limit: int = MAX_DEPTH) -> Any:
    """``json.loads(text)`` within the nesting limit: bad JSON raises
    :class:`json.JSONDecodeError`, too deep a value a plain ``ValueError``."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise _too_deep(limit) from None
    check_depth(value, limit)
    return value
