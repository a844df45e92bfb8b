"""Framing (formats.md §7): one JSON value per LF line, CR stripped, cap, clean close vs truncation."""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wasmtool_runtime.jsonrpc import (
    FrameReader,
    FrameWriter,
    ProtocolViolation,
    ValueDecodingError,
    decode_value,
    encode_frame,
    parse_frame,
    parse_request,
    parse_response,
)


def read_all(data: bytes, max_frame: int = 1024) -> list[bytes | str]:
    """Every frame body, or the violation kind where reading one failed."""
    reader = FrameReader(io.BytesIO(data), max_frame=max_frame)
    out: list[bytes | str] = []
    while True:
        try:
            body = reader.read_frame()
        except ProtocolViolation as exc:
            out.append(exc.kind)
            continue
        if body is None:
            return out
        out.append(body)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", []),
        (b"1\n", [b"1"]),
        (b"1\r\n2\n", [b"1", b"2"]),
        (b'{"a":1}\n[2]\n', [b'{"a":1}', b"[2]"]),
        (b"\n", [b""]),
        (b"1\r\r\n", [b"1\r"]),  # only one CR before LF is stripped
        (b"1\n2", [b"1", "truncated"]),  # EOF inside a frame
        (b"12345678\n1\n", [b"12345678", b"1"]),  # exactly the cap
        (b"12345678\r\n", [b"12345678"]),  # the CR does not count
        (b"123456789\n1\n", ["oversize", b"1"]),  # one over the cap, then back in sync
        (b"x" * 100 + b"\n1\n", ["oversize", b"1"]),  # long line discarded
        (b"x" * 100, ["oversize"]),  # oversize and no terminator at all
    ],
)
def test_reader_table(data: bytes, expected: list[bytes | str]) -> None:
    assert read_all(data, max_frame=8) == expected


def test_truncated_frame_then_clean_eof() -> None:
    reader = FrameReader(io.BytesIO(b'{"jsonrpc"'))
    with pytest.raises(ProtocolViolation) as info:
        reader.read_frame()
    assert info.value.kind == "truncated"
    assert info.value.code == -32700
    assert reader.read_frame() is None


def test_read_message_eof() -> None:
    reader = FrameReader(io.BytesIO(b'{"a": [1]}\n'))
    assert reader.read_message() == {"a": [1]}
    with pytest.raises(EOFError):
        reader.read_message()


@pytest.mark.parametrize(
    "body",
    [b"{", b"not json", b"1 2", b"\xff\xfe", b"NaN", b"[Infinity]", b"\xef\xbb\xbf1", b"[" * 100_000],
)
def test_parse_errors(body: bytes) -> None:
    with pytest.raises(ProtocolViolation) as info:
        parse_frame(body)
    assert info.value.kind == "parse"
    assert info.value.code == -32700


def test_writer_round_trip_and_cap() -> None:
    stream = io.BytesIO()
    writer = FrameWriter(stream, max_frame=64)
    writer.write({"jsonrpc": "2.0", "id": 1, "result": "é\n"})
    writer.write([1, 2])
    with pytest.raises(ProtocolViolation) as info:
        writer.write("x" * 100)
    assert info.value.kind == "oversize"
    reader = FrameReader(io.BytesIO(stream.getvalue()), max_frame=64)
    assert reader.read_message() == {"jsonrpc": "2.0", "id": 1, "result": "é\n"}
    assert reader.read_message() == [1, 2]
    assert reader.read_frame() is None


def test_encode_frame_is_one_line_and_rejects_nan() -> None:
    frame = encode_frame({"s": "a\nb\r\u2028"})
    assert frame.count(b"\n") == 1
    assert frame.endswith(b"\n")
    with pytest.raises(ValueError):
        encode_frame(float("nan"))
    assert parse_frame(encode_frame("\ud800")[:-1]) == "\ud800"  # lone surrogate survives


def _exercise(data: bytes, max_frame: int) -> None:
    reader = FrameReader(io.BytesIO(data), max_frame=max_frame)
    for _ in range(len(data) + 2):
        try:
            body = reader.read_frame()
            if body is None:
                return
            value = parse_frame(body)
        except ProtocolViolation:
            continue
        for parse in (parse_request, parse_response):
            with contextlib.suppress(ProtocolViolation):
                parse(value)
        with contextlib.suppress(ValueDecodingError):
            decode_value(value)
    pytest.fail("the reader did not reach EOF")


_FRAGMENTS = st.sampled_from(
    [
        b'{"jsonrpc":"2.0","id":1,"method":"m","params":[1]}',
        b'{"jsonrpc":"2.0","id":1,"result":{"$int":"12"}}',
        b'{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}',
        b'{"jsonrpc":"1.0","id":1,"result":1}',
        b'{"$map":[[1,2]]}',
        b'{"$bytes":"!!"}',
        b'{"$float":"nan"}',
        b"\r",
        b"\n",
        b"\r\n",
        b"[[[[",
        b"\xff",
    ]
)


@pytest.mark.property
@given(st.binary(max_size=512), st.integers(min_value=1, max_value=64))
def test_fuzz_reader_only_raises_protocol_violation(data: bytes, max_frame: int) -> None:
    _exercise(data, max_frame)


@pytest.mark.property
@given(st.lists(st.one_of(_FRAGMENTS, st.binary(max_size=16)), max_size=20), st.integers(1, 200))
def test_fuzz_structured_frames(parts: list[bytes], max_frame: int) -> None:
    _exercise(b"".join(parts), max_frame)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@pytest.mark.property
@given(st.lists(_JSON, max_size=8))
def test_frames_round_trip(values: list[Any]) -> None:
    data = b"".join(encode_frame(v) for v in values)
    reader = FrameReader(io.BytesIO(data))
    read = []
    while (body := reader.read_frame()) is not None:
        read.append(parse_frame(body))
    assert json.dumps(read) == json.dumps(values)
