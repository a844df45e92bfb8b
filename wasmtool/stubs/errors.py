"""Errors of stub discovery and ``.pyi`` parsing (WT500-WT549)."""

from __future__ import annotations

from wasmtool.errors import StubError


class StubSyntaxError(StubError, SyntaxError):
    """A stub file is not valid Python; names the file, line and column and points at it.

    ``line``/``column`` are 1-based (0 when unknown); ``source_line`` is the offending
    line and ``pointer`` a ``~~~^`` marker under the column, as pypa/packaging prints.
    """

    code = "WT501"

    def __init__(
        self,
        message: str,
        *,
        file: str,
        module: str = "",
        line: int = 0,
        column: int = 0,
        source_line: str = "",
    ) -> None:
        self.line = line
        self.column = column
        self.source_line = source_line.rstrip("\n")
        self.module = module
        pointer = ""
        if self.source_line and column > 0:
            pointer = "~" * (column - 1) + "^"
        self.pointer = pointer
        location = f"{file}:{line}:{column}" if line else file
        text = f"{message} at line {line}, column {column}" if line else message
        if self.source_line:
            text += f"\n    {self.source_line}"
            if pointer:
                text += f"\n    {pointer}"
        super().__init__(text, file=location, package=module or None)


class StubDecodeError(StubError, ValueError):
    """A stub file's bytes are not text in its declared encoding (PEP 263 / UTF-8)."""

    code = "WT502"


class StubReadError(StubError, OSError):
    """A stub file could not be read."""

    code = "WT503"
