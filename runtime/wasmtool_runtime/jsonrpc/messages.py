"""JSON-RPC 2.0 messages of the worker protocol (formats.md §7).

Request::

    {"jsonrpc": "2.0", "id": <int from 1 | string>, "method": "<name>",
     "params": [...] | {...},                      # optional, default []
     "wasmtool": {"timeout": <seconds > 0>,        # optional wasmtool extension
                  "kwargs": {...}}}

A request without ``id`` is a notification: it is executed and never answered.

The ``wasmtool`` member is an extension other JSON-RPC peers ignore:

* ``timeout`` — the worker runs a coroutine function under ``asyncio.wait_for(coro,
  timeout)``; on expiry the task is cancelled and the answer is error
  :data:`CALL_TIMEOUT` (``data.type == "TimeoutError"``). Synchronous functions cannot be
  interrupted: they run to completion and the client enforces its own deadline.
* ``kwargs`` — keyword arguments sent *with* positional ``params`` (JSON-RPC's ``params``
  is either positional or named, never both). Named ``params`` and ``kwargs`` together
  are an invalid request.

Response::

    {"jsonrpc": "2.0", "id": <id | null>, "result": <value>}
    {"jsonrpc": "2.0", "id": <id | null>, "error": {"code": <int>, "message": <str>, "data": ...}}

Error codes: -32700 parse error (``id`` null), -32600 invalid request, -32601 method not
found, -32602 invalid params, -32603 internal error; wasmtool's -32000 Python exception,
-32001 return-type mismatch, -32002 call timed out, -32003 call cancelled (all four with
``data = {"type", "message", "traceback"}``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from .framing import ProtocolViolation

__all__ = [
    "CALL_CANCELLED",
    "CALL_TIMEOUT",
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "JSONRPC_VERSION",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "PYTHON_EXCEPTION",
    "RESERVED_PREFIX",
    "RETURN_TYPE_MISMATCH",
    "ErrorObject",
    "Request",
    "Response",
    "make_error",
    "make_request",
    "make_result",
    "parse_request",
    "parse_response",
]

JSONRPC_VERSION = "2.0"

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
PYTHON_EXCEPTION = -32000
RETURN_TYPE_MISMATCH = -32001
CALL_TIMEOUT = -32002
CALL_CANCELLED = -32003

#: Methods whose names start with this prefix are answered by the worker itself.
RESERVED_PREFIX = "wasmtool."
PING = "wasmtool.ping"
SHUTDOWN = "wasmtool.shutdown"
RELEASE = "wasmtool.release"
CANCEL = "wasmtool.cancel"
CANCELLED = "wasmtool.cancelled"
METHODS = "wasmtool.methods"


@dataclasses.dataclass(frozen=True)
class Request:
    """A validated request; ``args``/``kwargs`` are still wire values (not decoded)."""

    id: int | str | None  # None: a notification
    method: str
    args: list[Any]
    kwargs: dict[str, Any]
    timeout: float | None = None

    @property
    def is_notification(self) -> bool:
        return self.id is None


@dataclasses.dataclass(frozen=True)
class ErrorObject:
    code: int
    message: str
    data: Any = None


@dataclasses.dataclass(frozen=True)
class Response:
    """A validated response: exactly one of ``result``/``error`` is meaningful."""

    id: int | str | None
    result: Any = None
    error: ErrorObject | None = None


def _is_id(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool) and value >= 1) or isinstance(value, str)


def make_request(
    request_id: int | str | None,
    method: str,
    args: list[Any] | None = None,
    kwargs: dict[str, Any] | None = None,
    *,
    timeout: float | None = None,
) -> dict[str, Any]:
    """A request object; ``args``/``kwargs`` must already be encoded values.

    Positional-only calls send ``params`` as an array, keyword-only calls as an object,
    mixed calls use the ``wasmtool.kwargs`` extension. ``request_id=None`` makes a
    notification.
    """
    message: dict[str, Any] = {"jsonrpc": JSONRPC_VERSION}
    if request_id is not None:
        message["id"] = request_id
    message["method"] = method
    extension: dict[str, Any] = {}
    if kwargs and not args:
        message["params"] = dict(kwargs)
    else:
        message["params"] = list(args or [])
        if kwargs:
            extension["kwargs"] = dict(kwargs)
    if timeout is not None:
        extension["timeout"] = timeout
    if extension:
        message["wasmtool"] = extension
    return message


def make_result(request_id: int | str | None, result: Any) -> dict[str, Any]:
    return {"jsonrpc": JSONRPC_VERSION, "id": request_id, "result": result}


def make_error(request_id: int | str | None, code: int, message: str, data: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": JSONRPC_VERSION, "id": request_id, "error": error}


def parse_request(obj: Any) -> Request:
    """Validate a decoded frame as a request (worker side).

    Raises :class:`ProtocolViolation` (kind ``invalid`` or ``version``) carrying the
    request's id when it was readable, so the error answer can name it.
    """
    if isinstance(obj, list):
        raise ProtocolViolation("invalid", "batch requests are not supported")
    if not isinstance(obj, dict):
        raise ProtocolViolation("invalid", f"a request must be a JSON object, not {_json_type(obj)}")
    has_id = "id" in obj
    raw_id = obj.get("id")
    request_id = raw_id if has_id and _is_id(raw_id) else None
    if obj.get("jsonrpc") != JSONRPC_VERSION:
        raise ProtocolViolation(
            "version", f'"jsonrpc" must be "2.0", got {obj.get("jsonrpc")!r:.40}', request_id=request_id
        )
    if has_id and not _is_id(raw_id):
        raise ProtocolViolation("invalid", f'"id" must be an integer >= 1 or a string, got {raw_id!r:.40}')
    method = obj.get("method")
    if not isinstance(method, str) or not method:
        raise ProtocolViolation("invalid", '"method" must be a non-empty string', request_id=request_id)
    params = obj.get("params", [])
    extension = obj.get("wasmtool", {})
    if not isinstance(extension, dict):
        raise ProtocolViolation("invalid", '"wasmtool" must be an object', request_id=request_id)
    kwargs = extension.get("kwargs", {})
    if not isinstance(kwargs, dict):
        raise ProtocolViolation("invalid", '"wasmtool.kwargs" must be an object', request_id=request_id)
    if isinstance(params, list):
        args: list[Any] = params
    elif isinstance(params, dict):
        if kwargs:
            raise ProtocolViolation(
                "invalid", 'named "params" cannot be combined with "wasmtool.kwargs"', request_id=request_id
            )
        args, kwargs = [], params
    else:
        raise ProtocolViolation("invalid", '"params" must be an array or an object', request_id=request_id)
    timeout = extension.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise ProtocolViolation(
            "invalid", '"wasmtool.timeout" must be a positive number of seconds', request_id=request_id
        )
    return Request(
        id=request_id,
        method=method,
        args=args,
        kwargs=kwargs,
        timeout=float(timeout) if timeout is not None else None,
    )


def parse_response(obj: Any) -> Response:
    """Validate a decoded frame as a response (client side); raises :class:`ProtocolViolation`."""
    if not isinstance(obj, dict):
        raise ProtocolViolation("invalid", f"a response must be a JSON object, not {_json_type(obj)}")
    if obj.get("jsonrpc") != JSONRPC_VERSION:
        raise ProtocolViolation(
            "version", f'response "jsonrpc" must be "2.0", got {obj.get("jsonrpc")!r:.40}'
        )
    if "id" not in obj:
        raise ProtocolViolation("invalid", 'response has no "id"')
    response_id = obj["id"]
    if response_id is not None and not _is_id(response_id):
        raise ProtocolViolation("invalid", f'response "id" is not a request id: {response_id!r:.40}')
    has_result, has_error = "result" in obj, "error" in obj
    if has_result == has_error:
        raise ProtocolViolation("invalid", 'a response needs exactly one of "result" and "error"')
    if has_result:
        return Response(id=response_id, result=obj["result"])
    error = obj["error"]
    if not isinstance(error, dict):
        raise ProtocolViolation("invalid", '"error" must be an object')
    code, message = error.get("code"), error.get("message")
    if not isinstance(code, int) or isinstance(code, bool):
        raise ProtocolViolation("invalid", '"error.code" must be an integer')
    if not isinstance(message, str):
        raise ProtocolViolation("invalid", '"error.message" must be a string')
    return Response(id=response_id, error=ErrorObject(code=code, message=message, data=error.get("data")))


def _json_type(obj: Any) -> str:
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "a boolean"
    if isinstance(obj, (int, float)):
        return "a number"
    if isinstance(obj, str):
        return "a string"
    if isinstance(obj, list):
        return "an array"
    return type(obj).__name__
