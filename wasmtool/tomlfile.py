"""Reading the TOML files wasmtool reads (``mochi.toml``, ``mochi.lock``, pylock files):
UTF-8 text, no byte-order mark, parsed with ``tomllib``. Every way a file can be unreadable
becomes the caller's coded error naming the file (and line and column where there is one),
never a ``UnicodeDecodeError``, ``IsADirectoryError`` or ``RecursionError``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["ErrorFactory", "loads_toml", "read_toml_text"]

#: The caller's error class: called with a message and the ``file`` / ``hint`` keywords.
ErrorFactory = Callable[..., Exception]

_BOM = "\ufeff"


def read_toml_text(path: Path, error: ErrorFactory) -> str:
    """The UTF-8 text of ``path``; a folder, an unreadable file, bytes that are not UTF-8 and
    a byte-order mark are each an ``error`` naming the file (and line). A missing file raises
    :class:`FileNotFoundError` for the caller to word."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise
    except IsADirectoryError as exc:
        raise error("is a directory, not a file", file=str(path)) from exc
    except OSError as exc:
        raise error(f"cannot read the file: {exc.strerror or exc}", file=str(path)) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise error(f"not UTF-8 text: byte 0x{data[exc.start]:02x}",
                    file=f"{path}:{line}:{column}", hint="save the file as UTF-8") from exc
    if text.startswith(_BOM):
        raise error("starts with a UTF-8 byte-order mark (BOM), which TOML does not allow",
                    file=f"{path}:1:1", hint="save the file as UTF-8 without a BOM")
    return text


def loads_toml(text: str, *, file: str, error: ErrorFactory) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"not valid TOML: {exc}", file=file) from exc
    except RecursionError as exc:
        raise error("not valid TOML: arrays or inline tables nested too deeply", file=file) from exc


