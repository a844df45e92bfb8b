"""Errors of the WASI Preview 2 target: WIT, components, and calls into them (WT870-WT899).

::

    TargetError                          WT800  (wasmtool.errors)
    └── WitError                         WT870
        ├── InvalidWitError              WT871  ``wasm-tools component wit`` rejected the text
        │                                       (file, line, column, the parser's message)
        ├── ComponentBuildError          WT872  componentize-py failed (tail of its output)
        ├── GuestPythonError             WT873  a WIT ``err(py-error)``: the Python function raised
        │                                       (also :class:`~wasmtool.calls.errors.RemotePythonError`)
        ├── InstanceTrappedError         WT874  the instance trapped; the next call re-instantiates
        │                                       (also :class:`~wasmtool.errors.RuntimeBridgeError`)
        ├── ToolMissingError             WT875  wasm-tools / componentize-py / wasmtime not installed
        │                                       (also :class:`~wasmtool.errors.ExternalToolError`)
        ├── WitValueError                WT876  an argument / result does not fit its WIT type
        │                                       (also ``ValueError``)
        ├── WitMethodNotFoundError       WT877  no exported function has that name (also ``LookupError``)
        └── WitCallTimeoutError          WT878  the call outlived its timeout (epoch interruption;
                                                also :class:`~wasmtool.calls.errors.CallTimeoutError`)

Every call error names the ``method`` it is about.
"""

from __future__ import annotations

import re

from wasmtool.calls.errors import CallTimeoutError, RemotePythonError
from wasmtool.errors import ExternalToolError, RuntimeBridgeError, TargetError, WasmtoolError

__all__ = [
    "ComponentBuildError",
    "GuestPythonError",
    "InstanceTrappedError",
    "InvalidWitError",
    "ToolMissingError",
    "WitCallTimeoutError",
    "WitError",
    "WitMethodNotFoundError",
    "WitValueError",
]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_LOCATION = re.compile(r"-->\s*(?P<file>[^\s:][^:\n]*):(?P<line>\d+):(?P<col>\d+)")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


class WitError(TargetError):
    code = "WT870"


class InvalidWitError(WitError, ValueError):
    """The WIT parser's message with its ``file:line:col`` (``line``/``column`` 0 when absent)."""

    code = "WT871"

    def __init__(self, message: str, *, file: str | None = None, line: int = 0, column: int = 0,
                 hint: str | None = None) -> None:
        super().__init__(message, file=f"{file}:{line}:{column}" if file and line else file, hint=hint)
        self.path = file
        self.line = line
        self.column = column

    @classmethod
    def from_tool_output(cls, output: str, *, fallback_file: str | None = None) -> InvalidWitError:
        """Parse ``error: <msg>\\n --> file:line:col`` (wasm-tools and componentize-py both print it)."""
        text = strip_ansi(output).strip()
        match = _LOCATION.search(text)
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        message = next((ln for ln in lines if not ln.startswith(("-->", "|", "Stack backtrace"))), text)
        message = re.sub(r"^error:\s*", "", message)
        # keep the caret block (the source line and pointer) after the first line
        caret = [ln for ln in text.splitlines() if "|" in ln and not ln.lstrip().startswith("-->")]
        if caret:
            message = message + "\n" + "\n".join(caret[:4])
        if match is None:
            return cls(message, file=fallback_file)
        return cls(message, file=match.group("file"), line=int(match.group("line")),
                   column=int(match.group("col")))


class ComponentBuildError(WitError):
    """componentize-py exited non-zero: ``output_tail`` holds the last lines (no Rust backtrace)."""

    code = "WT872"

    def __init__(self, message: str, *, output_tail: str = "", returncode: int | None = None,
                 hint: str | None = None) -> None:
        full = message + (f"\n  componentize-py output:\n{_indent(output_tail)}" if output_tail else "")
        super().__init__(full, hint=hint)
        self.output_tail = output_tail
        self.returncode = returncode


class GuestPythonError(WitError, RemotePythonError):
    """The exported function answered ``err(py-error)``: ``python_type`` is ``ValueError`` for
    builtins, else ``module.QualName``; ``python_message`` is ``str(exc)``."""

    code = "WT873"

    def __init__(self, python_type: str, python_message: str, traceback: str = "", *, method: str) -> None:
        WasmtoolError.__init__(self, f"{method}: {python_type}: {python_message}")
        self.method = method
        self.rpc_code = -32000
        self.rpc_message = f"{python_type}: {python_message}"
        self.data = {"type": python_type, "message": python_message, "traceback": traceback}
        self.python_type = python_type
        self.python_message = python_message
        self.traceback = traceback


class InstanceTrappedError(WitError, RuntimeBridgeError):
    code = "WT874"

    def __init__(self, message: str, *, method: str) -> None:
        super().__init__(f"{method}: {message}", hint="the next call instantiates the component again")
        self.method = method


class ToolMissingError(WitError, ExternalToolError):
    code = "WT875"

    def __init__(self, tool: str, *, hint: str | None = None) -> None:
        super().__init__(f"{tool} is not installed", hint=hint or "install wasmtool[wasi]")
        self.tool = tool


class WitValueError(WitError, ValueError):
    code = "WT876"

    def __init__(self, message: str, *, method: str | None = None) -> None:
        super().__init__(f"{method}: {message}" if method else message)
        self.method = method


class WitMethodNotFoundError(WitError, LookupError):
    code = "WT877"

    def __init__(self, method: str, *, known: list[str]) -> None:
        shown = ", ".join(known[:8]) + (" ..." if len(known) > 8 else "")
        super().__init__(f"no exported function {method!r}", hint=f"known: {shown}" if known else None)
        self.method = method


class WitCallTimeoutError(WitError, CallTimeoutError):
    code = "WT878"

    def __init__(self, *, method: str, timeout: float) -> None:
        CallTimeoutError.__init__(self, method=method, timeout=timeout, side="wasmtime")


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())
