"""The wire value encoding (formats.md §7) as seen from wasmtool: re-exported from
:mod:`wasmtool_runtime.jsonrpc.values`, the stdlib-only module the worker also uses."""

from __future__ import annotations

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
    "MAX_SAFE_INT",
    "Handle",
    "HandleTable",
    "ValueDecodingError",
    "ValueEncodingError",
    "decode_value",
    "encode_value",
]
