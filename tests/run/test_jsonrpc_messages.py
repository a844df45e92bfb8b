"""Request / response validation (formats.md §7) and the wasmtool extension member."""

from __future__ import annotations

from typing import Any

import pytest
from wasmtool_runtime.jsonrpc import (
    ErrorObject,
    ProtocolViolation,
    Request,
    make_error,
    make_request,
    make_result,
    parse_request,
    parse_response,
)


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"jsonrpc": "2.0", "id": 1, "method": "add", "params": [3, 4]}, Request(1, "add", [3, 4], {})),
        ({"jsonrpc": "2.0", "id": "a", "method": "m"}, Request("a", "m", [], {})),
        ({"jsonrpc": "2.0", "method": "m", "params": {"x": 1}}, Request(None, "m", [], {"x": 1})),
        (
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "m",
                "params": [1],
                "wasmtool": {"kwargs": {"k": 2}, "timeout": 1},
            },
            Request(2, "m", [1], {"k": 2}, 1.0),
        ),
    ],
)
def test_valid_requests(obj: Any, expected: Request) -> None:
    assert parse_request(obj) == expected


@pytest.mark.parametrize(
    ("obj", "kind", "request_id"),
    [
        ({"jsonrpc": "1.0", "id": 1, "method": "m"}, "version", 1),
        ({"id": 4, "method": "m"}, "version", 4),
        ({"jsonrpc": 2.0, "id": 1, "method": "m"}, "version", 1),
        ([{"jsonrpc": "2.0", "id": 1, "method": "m"}], "invalid", None),
        ("text", "invalid", None),
        ({"jsonrpc": "2.0", "id": 0, "method": "m"}, "invalid", None),
        ({"jsonrpc": "2.0", "id": True, "method": "m"}, "invalid", None),
        ({"jsonrpc": "2.0", "id": 1.5, "method": "m"}, "invalid", None),
        ({"jsonrpc": "2.0", "id": 1, "method": ""}, "invalid", 1),
        ({"jsonrpc": "2.0", "id": 1, "method": 5}, "invalid", 1),
        ({"jsonrpc": "2.0", "id": 1, "method": "m", "params": 5}, "invalid", 1),
        ({"jsonrpc": "2.0", "id": 1, "method": "m", "wasmtool": []}, "invalid", 1),
        ({"jsonrpc": "2.0", "id": 1, "method": "m", "wasmtool": {"timeout": 0}}, "invalid", 1),
        ({"jsonrpc": "2.0", "id": 1, "method": "m", "wasmtool": {"timeout": "1"}}, "invalid", 1),
        ({"jsonrpc": "2.0", "id": 1, "method": "m", "wasmtool": {"kwargs": []}}, "invalid", 1),
        (
            {"jsonrpc": "2.0", "id": 1, "method": "m", "params": {"a": 1}, "wasmtool": {"kwargs": {"b": 2}}},
            "invalid",
            1,
        ),
    ],
)
def test_invalid_requests(obj: Any, kind: str, request_id: Any) -> None:
    with pytest.raises(ProtocolViolation) as info:
        parse_request(obj)
    assert info.value.kind == kind
    assert info.value.code == -32600
    assert info.value.request_id == request_id


@pytest.mark.parametrize(
    ("args", "kwargs", "timeout", "expected"),
    [
        ([1], None, None, {"jsonrpc": "2.0", "id": 1, "method": "f", "params": [1]}),
        ([], {"a": 1}, None, {"jsonrpc": "2.0", "id": 1, "method": "f", "params": {"a": 1}}),
        (
            [1],
            {"a": 1},
            0.5,
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "f",
                "params": [1],
                "wasmtool": {"kwargs": {"a": 1}, "timeout": 0.5},
            },
        ),
    ],
)
def test_make_request_round_trips(
    args: list[Any], kwargs: dict[str, Any] | None, timeout: float | None, expected: dict[str, Any]
) -> None:
    message = make_request(1, "f", args, kwargs, timeout=timeout)
    assert message == expected
    parsed = parse_request(message)
    assert (parsed.args, parsed.kwargs, parsed.timeout) == (args, kwargs or {}, timeout)


def test_notification_has_no_id() -> None:
    message = make_request(None, "wasmtool.cancel", [3])
    assert "id" not in message
    assert parse_request(message).is_notification


def test_responses() -> None:
    assert parse_response(make_result(1, {"a": 1})).result == {"a": 1}
    error = parse_response(make_error(None, -32700, "parse error"))
    assert error.id is None
    assert error.error == ErrorObject(-32700, "parse error")
    data = {"type": "ValueError", "message": "m", "traceback": "tb"}
    assert parse_response(make_error(2, -32000, "ValueError: m", data)).error == ErrorObject(
        -32000, "ValueError: m", data
    )


@pytest.mark.parametrize(
    ("obj", "kind"),
    [
        ({"jsonrpc": "1.0", "id": 1, "result": 1}, "version"),
        ({"id": 1, "result": 1}, "version"),
        ({"jsonrpc": "2.0", "result": 1}, "invalid"),
        ({"jsonrpc": "2.0", "id": 1}, "invalid"),
        ({"jsonrpc": "2.0", "id": 1, "result": 1, "error": {"code": 1, "message": "x"}}, "invalid"),
        ({"jsonrpc": "2.0", "id": 1, "error": "boom"}, "invalid"),
        ({"jsonrpc": "2.0", "id": 1, "error": {"code": "1", "message": "x"}}, "invalid"),
        ({"jsonrpc": "2.0", "id": 1, "error": {"code": 1}}, "invalid"),
        ({"jsonrpc": "2.0", "id": [1], "result": 1}, "invalid"),
        (None, "invalid"),
    ],
)
def test_invalid_responses(obj: Any, kind: str) -> None:
    with pytest.raises(ProtocolViolation) as info:
        parse_response(obj)
    assert info.value.kind == kind
