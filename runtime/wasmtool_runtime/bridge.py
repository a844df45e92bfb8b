"""Calls by module and function name, JSON text in and JSON text out, for a runtime with no
process boundary of its own: Pyodide (``runtime/pyodide/loader.mjs``'s ``callFunction``, in
Node and in a browser) calls :meth:`Bridge.call` once per call.

It follows the worker's rules (:mod:`wasmtool_runtime.worker`), with the same code: values
cross in the wire encoding of :mod:`.jsonrpc.values` (formats.md §7), so an object with no
JSON form becomes ``{"$handle": n}``; each module has its own :class:`~.jsonrpc.values.HandleTable`
(numbers from 1; the same object twice is the same number), which lives as long as the
bridge; arguments are checked with :func:`.dispatch.argument_problem` before the call, and a
Python exception is described by :func:`.dispatch.error_data`.

``function`` is an attribute path in ``module`` (``"f"``, ``"Class.method"``), or one of the
worker's reserved methods: ``wasmtool.ping`` -> ``"pong"``, ``wasmtool.methods`` -> the
module's method names (:func:`.dispatch.discover_methods`), ``wasmtool.release`` with
arguments ``[h, ...]`` (ints or ``{"$handle": n}``) -> how many of them were known (the
objects are dropped from the module's table; a released number is never issued again).

The answer is one JSON object::

    {"ok": true, "value": <encoded value>}
    {"ok": false, "error": {"code", "type", "py_type", "message"[, "traceback", "rpc_code"]}}

``code`` is wasmtool's error code: ``WT856`` the function raised (``type``/``py_type`` the
exception's class, ``traceback`` the formatted traceback, ``rpc_code`` -32000, or -32001 for a
return-type mismatch), ``WT857`` no such module or function, ``WT858`` the arguments are not
JSON text or the result cannot be encoded, ``WT727`` the arguments do not fit (a malformed
tag, an unknown handle, missing or extra arguments; ``rpc_code`` -32602).

Stdlib-only and free of :mod:`wasmtool`, like the rest of this package.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
from typing import Any

from .dispatch import argument_problem, discover_methods, error_data, handle_id, python_type_name, rpc_code_for
from .jsonrpc.messages import INVALID_PARAMS, METHODS, PING, RELEASE, RESERVED_PREFIX
from .jsonrpc.values import HandleTable, ValueDecodingError, ValueEncodingError, decode_value, encode_value

__all__ = ["CALL_TARGET", "INVALID_ARGUMENTS", "PYTHON_RAISED", "RESULT_ENCODING", "Bridge", "read_text"]

#: The error codes of an answer (wasmtool.bundle.errors, wasmtool.calls.errors).
PYTHON_RAISED = "WT856"
CALL_TARGET = "WT857"
RESULT_ENCODING = "WT858"
INVALID_ARGUMENTS = "WT727"


def _failure(code: str, type_name: str, message: str, **extra: Any) -> str:
    error = {"code": code, "type": type_name, "py_type": type_name, "message": message}
    error.update(extra)
    return json.dumps({"ok": False, "error": error})


def _raised(code: str, exc: BaseException) -> str:
    return _failure(code, python_type_name(type(exc)), error_data(exc)["message"])


def _invalid(message: str) -> str:
    return _failure(INVALID_ARGUMENTS, "InvalidParamsError", message, rpc_code=INVALID_PARAMS)


def read_text(package: str, name: str) -> str:
    """The text (UTF-8) of the file ``name`` in the folder of the regular package ``package``:
    what ``importlib.resources.read_text`` answers for a package installed as files, without
    importing :mod:`importlib.resources` (``bindings.mjs`` reads an alias's ``methods.json``
    with it before the page's first call)."""
    folder = os.path.dirname(importlib.import_module(package).__file__ or "")
    if not folder or os.path.basename(name) != name:
        raise FileNotFoundError(f"{package}: no file {name!r}")
    with open(os.path.join(folder, name), encoding="utf-8") as f:
        return f.read()


class Bridge:
    """Calls functions of any importable module (see the module docstring)."""

    def __init__(self) -> None:
        self._tables: dict[str, HandleTable] = {}

    def handles(self, module: str) -> HandleTable:
        """The handle table of ``module`` (created on first use)."""
        table = self._tables.get(module)
        if table is None:
            table = self._tables[module] = HandleTable()
        return table

    def call(self, module: str, function: str, args_json: str = "[]", kwargs_json: str = "{}") -> str:
        """``module.function(*args, **kwargs)``; the answer as JSON text. Never raises."""
        try:
            raw_args = json.loads(args_json)
            raw_kwargs = json.loads(kwargs_json)
        except ValueError as exc:
            return _raised(RESULT_ENCODING, exc)
        where = f"{module}.{function}"
        if not isinstance(raw_args, list):
            return _invalid(f"{where}: the arguments must be a JSON array, not {type(raw_args).__name__}")
        if not isinstance(raw_kwargs, dict):
            return _invalid(f"{where}: the keyword arguments must be a JSON object, not {type(raw_kwargs).__name__}")
        try:
            target: Any = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            missing = exc.name or ""
            if missing and (module == missing or module.startswith(missing + ".")):
                return _raised(CALL_TARGET, exc)
            return _raised(PYTHON_RAISED, exc)
        except BaseException as exc:  # an import-time failure of the package itself
            return _raised(PYTHON_RAISED, exc)
        table = self.handles(module)
        if function.startswith(RESERVED_PREFIX):
            return self._reserved(target, table, function, raw_args)
        try:
            for part in function.split("."):
                target = getattr(target, part)
        except AttributeError as exc:
            return _raised(CALL_TARGET, exc)
        try:
            args = decode_value(raw_args, table)
            kwargs = {name: decode_value(value, table) for name, value in raw_kwargs.items()}
        except ValueDecodingError as exc:
            return _invalid(f"{function}: {exc}")
        problem = argument_problem(target, args, kwargs)
        if problem is not None:
            return _invalid(f"{function}: {problem}")
        try:
            value = target(*args, **kwargs)
        except BaseException as exc:  # SystemExit in user code must not end the runtime
            data = error_data(exc)
            return _failure(PYTHON_RAISED, data["type"], data["message"], traceback=data["traceback"],
                            rpc_code=rpc_code_for(exc))
        if inspect.isawaitable(value):
            close = getattr(value, "close", None)
            if close is not None:
                close()
            return _failure(RESULT_ENCODING, "TypeError",
                            f"{function} returned an awaitable; calls into Pyodide are synchronous "
                            "(call the function's _sync wrapper)")
        return self._answer(value, table, function)

    @staticmethod
    def _answer(value: Any, table: HandleTable, function: str) -> str:
        try:
            return json.dumps({"ok": True, "value": encode_value(value, table)})
        except (ValueEncodingError, TypeError, ValueError) as exc:
            return _failure(RESULT_ENCODING, python_type_name(type(exc)),
                            f"{function}: cannot encode the result: {error_data(exc)['message']}")

    def _reserved(self, module: Any, table: HandleTable, function: str, args: list[Any]) -> str:
        if function == PING:
            return self._answer("pong", table, function)
        if function == METHODS:
            return self._answer(sorted(discover_methods(module)), table, function)
        if function == RELEASE:
            ids = [handle_id(item) for item in args]
            if any(i is None for i in ids):
                return _invalid(f'{RELEASE} takes handle ids or {{"$handle": n}} objects')
            return self._answer(table.release([i for i in ids if i is not None]), table, function)
        return _failure(CALL_TARGET, "AttributeError", f"unknown reserved method {function!r}")
