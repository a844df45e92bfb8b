"""What a wrapper module exposes, and how Python exceptions are described on the wire.

Shared by the worker and by wasmtool's in-process runtime so both expose exactly the
same methods and describe exceptions identically.
"""

from __future__ import annotations

import inspect
import traceback
import types
from collections.abc import Callable
from typing import Any

from .jsonrpc.messages import PYTHON_EXCEPTION, RETURN_TYPE_MISMATCH

__all__ = [
    "ReturnTypeMismatch",
    "argument_problem",
    "discover_methods",
    "error_data",
    "handle_id",
    "is_async_callable",
    "python_type_name",
    "rpc_code_for",
]

_WIRE_CODES = frozenset({PYTHON_EXCEPTION, RETURN_TYPE_MISMATCH})


class ReturnTypeMismatch(TypeError):
    """Raised by strict-return-types wrappers; answered with code -32001.

    Any exception class with an integer ``wasmtool_rpc_code`` attribute of -32000 or
    -32001 selects that code, so generated wrappers need not import this module.
    """

    wasmtool_rpc_code = RETURN_TYPE_MISMATCH


def discover_methods(module: types.ModuleType) -> dict[str, Callable[..., Any]]:
    """The module's methods: the names in ``__all__`` if it defines one, else every
    public (no leading ``_``) top-level attribute that is callable. Sorted by name."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [name for name in vars(module) if not name.startswith("_")]
    methods: dict[str, Callable[..., Any]] = {}
    for name in sorted(names):
        value = getattr(module, name, None)
        if isinstance(name, str) and name.isidentifier() and callable(value):
            methods[name] = value
    return methods


def is_async_callable(fn: Callable[..., Any]) -> bool:
    """Whether calling ``fn`` returns a coroutine (``async def``, also behind partial)."""
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(getattr(fn, "__call__", None))  # noqa: B004


def argument_problem(fn: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> str | None:
    """Why ``fn(*args, **kwargs)`` cannot bind (the TypeError text), or ``None``.

    Functions without an inspectable signature (some builtins) are assumed to bind.
    """
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        return str(exc)
    return None


def python_type_name(exc_type: type[BaseException]) -> str:
    """``ValueError`` for builtins, else ``module.QualName``."""
    module = exc_type.__module__
    if module in ("builtins", "__main__", None):
        return exc_type.__qualname__
    return f"{module}.{exc_type.__qualname__}"


def _message(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # a broken __str__ must not hide the error
        return repr(exc)


def error_data(exc: BaseException) -> dict[str, str]:
    """``{"type", "message", "traceback"}`` describing ``exc`` (formats.md §7, -32000)."""
    return {
        "type": python_type_name(type(exc)),
        "message": _message(exc),
        "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    }


def rpc_code_for(exc: BaseException) -> int:
    """-32000, or the exception class's ``wasmtool_rpc_code`` when that is -32000/-32001."""
    code = getattr(type(exc), "wasmtool_rpc_code", PYTHON_EXCEPTION)
    return code if code in _WIRE_CODES else PYTHON_EXCEPTION


def handle_id(item: Any) -> int | None:
    """The handle number ``item`` names (an int or ``{"$handle": n}``), else ``None``
    (the arguments of ``wasmtool.release``)."""
    if isinstance(item, dict) and set(item) == {"$handle"}:
        item = item["$handle"]
    if isinstance(item, int) and not isinstance(item, bool):
        return item
    return None
