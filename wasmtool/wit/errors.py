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
        │   │                                   (also ``ValueError``)
        │   └── DynamicValueLimitError   WT890  an ``any`` value is over a limit (depth, nodes, bytes)
        ├── WitMethodNotFoundError       WT877  no exported function has that name (also ``LookupError``)
        └── WitCallTimeoutError          WT878  the call outlived its timeout (epoch interruption;
                                                also :class:`~wasmtool.calls.errors.CallTimeoutError`)
    ├── SelfCheckError                   WT880  a component's self-check: a module it carries does not
    │                                           import at run time, or the check itself failed
    ├── ProbeCheckError                  WT882  ``lock --smoke``: a locked distribution does not import
    │                                           in the wasi-p2 guest (probe component)
    └── ProjectComponentError            WT883  the bound packages cannot share one project component
                                                (a WIT or Python name two of them claim)
    WasiModuleMissingError (LockError)   WT881  a locked package imports, when imported, a module the
                                                wasi-p2 CPython lacks (names module and importers)
    CapabilityGrowthError (LockError)    WT896  a relock grants a package more than mochi.lock records
    CapabilityDeniedError                WT897  a call reached for an ungranted capability (a GuestPythonError)
    CapabilityGrantError                 WT898  a recorded grant cannot be given (folder missing / escapes)
    CapabilityPackageError (LockError)   WT899  [python.capabilities] names a package no target locks

Every call error names the ``method`` it is about.
"""

from __future__ import annotations

import re

from wasmtool.calls.errors import CallTimeoutError, RemotePythonError
from wasmtool.errors import ExternalToolError, LockError, RuntimeBridgeError, TargetError, WasmtoolError

__all__ = [
    "CapabilityDeniedError",
    "CapabilityGrantError",
    "CapabilityGrowthError",
    "CapabilityPackageError",
    "ComponentBuildError",
    "DynamicValueLimitError",
    "GuestPythonError",
    "InstanceTrappedError",
    "InvalidWitError",
    "ProbeCheckError",
    "ProjectComponentError",
    "SelfCheckError",
    "ToolMissingError",
    "WasiModuleMissingError",
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



# -- modules a component carries (wasmtool.wit.preimport, wasmtool.targets.wasi) ------------------


class SelfCheckError(WitError):
    """A component's self-check (WT880): ``failures`` lists ``(module, error)`` for each module
    that imported while the component was built but not when it runs (or the check failed)."""

    code = "WT880"

    def __init__(self, message: str, *, failures: list[tuple[str, str]] | None = None, file: str | None = None,
                 package: str | None = None, hint: str | None = None) -> None:
        self.failures = list(failures or [])
        super().__init__(message, file=file, package=package, hint=hint)


class WasiModuleMissingError(LockError):
    """A locked package cannot import on wasi-p2 (WT881): importing it imports a module the
    pinned WASI CPython does not have (``_bz2``, ``_ssl``); refused at ``lock``."""

    code = "WT881"


class ProbeCheckError(WitError):
    """``lock --smoke`` for wasi-p2 (WT882): a locked distribution's own module does not import
    in a component built from the locked wheels."""

    code = "WT882"


class ProjectComponentError(WitError):
    """The bound packages cannot be served by one project component (WT883): two of them
    claim the same WIT package id with different WIT, the same wrapper module name, or the
    same resource class name in the guest; ``install --per-package`` builds one component
    per package instead."""

    code = "WT883"


# -- least privilege ([python.capabilities]; wasmtool.project.capabilities) ---------------------


class CapabilityGrowthError(LockError):
    """A relock: the manifest grants a package more than ``mochi.lock`` records (WT896);
    ``lines`` names each package and what it adds."""

    code = "WT896"
    exit_code = 1

    def __init__(self, lines: list[str], *, file: str) -> None:
        self.lines = lines
        super().__init__("capability growth: the manifest grants more than the lock records:\n  "
                         + "\n  ".join(lines), file=file,
                         hint="review the grants, then run `wasmtool lock --accept-capabilities`")


class CapabilityDeniedError(GuestPythonError):
    """A call reached for something its component was not granted (WT897): ``capability``
    (``fs-read``, ``fs-write``, ``env``) and ``subject`` (the path or variable). The guest's
    exception is kept (``python_type``, ``python_message``, ``traceback``)."""

    code = "WT897"

    def __init__(self, python_type: str, python_message: str, traceback: str = "", *, method: str,
                 capability: str, subject: str, package: str, detail: str) -> None:
        super().__init__(python_type, python_message, traceback, method=method)
        self.message = (f"{method}: capability {capability} denied: {detail} "
                        f"(the guest raised {python_type}: {python_message})")
        self.args = (self.message,)
        self.capability, self.subject, self.package = capability, subject, package
        self.hint = f"grant it in mochi.toml [python.capabilities.{package}] {capability}, then relock"


class CapabilityGrantError(WitError):
    """A recorded grant cannot be given to a component (WT898): a granted folder is missing,
    not a folder, or leads outside the project through a symbolic link."""

    code = "WT898"


class CapabilityPackageError(LockError):
    """``[python.capabilities]`` names a package that no locked target holds (WT899)."""

    code = "WT899"


# -- dynamic values (``any``; wasmtool.wit.values) ------------------------------------------------


#: The guest's exception for an ``any`` value over a limit (``wasmtool.wit.values.DynamicValueLimit``).
DYNAMIC_LIMIT_KIND = "wasmtool_wit_values.DynamicValueLimit"


class DynamicValueLimitError(WitValueError):
    """An ``any`` value crossing a ``wasi-p2`` component's boundary is over one of the limits
    of a dynamic value (WT890): nested too deeply, too many items, or too many bytes of text
    (wasi.md, "Dynamic values"). Raised for an argument before the call, and for a result the
    component refused to send."""

    code = "WT890"

    def __init__(self, message: str, *, method: str | None = None) -> None:
        WitValueError.__init__(self, message, method=method)
        self.hint = ("pass large or deeply nested data as text (JSON, TOML) and parse it in Python, "
                     "or call the function on another target")


def value_error(message: str, cause: BaseException, *, method: str) -> WitValueError:
    """The error for a value that cannot cross: :class:`DynamicValueLimitError` when ``cause``
    is a limit (it has a ``limit``), else :class:`WitValueError`."""
    if getattr(cause, "limit", None):
        return DynamicValueLimitError(message, method=method)
    return WitValueError(message, method=method)


def guest_error(python_type: str, python_message: str, traceback: str = "", *, method: str) -> WitError:
    """The error for a guest's ``err(py-error)``: :class:`DynamicValueLimitError` when the guest
    refused to send an ``any`` result over a limit, else :class:`GuestPythonError`."""
    if python_type == DYNAMIC_LIMIT_KIND:
        return DynamicValueLimitError(f"cannot send the result: {python_message}", method=method)
    return GuestPythonError(python_type, python_message, traceback, method=method)


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())
