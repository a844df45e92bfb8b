"""Value encoding (formats.md §7): table of encodings, malformed tags, hypothesis round trip."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wasmtool_runtime.jsonrpc import (
    MAX_SAFE_INT,
    Handle,
    HandleTable,
    ValueDecodingError,
    ValueEncodingError,
    decode_value,
    encode_value,
)


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: float


@dataclasses.dataclass
class Mutable:
    n: int


class Opaque:
    pass


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (None, None),
        (True, True),
        (0, 0),
        (MAX_SAFE_INT, MAX_SAFE_INT),
        (-MAX_SAFE_INT, -MAX_SAFE_INT),
        (MAX_SAFE_INT + 1, {"$int": "9007199254740992"}),
        (-(2**64), {"$int": "-18446744073709551616"}),
        (1.5, 1.5),
        (float("inf"), {"$float": "inf"}),
        (float("-inf"), {"$float": "-inf"}),
        (float("nan"), {"$float": "nan"}),
        ("s", "s"),
        (b"\x00\xff", {"$bytes": "AP8="}),
        (bytearray(b"ab"), {"$bytes": "YWI="}),
        ((1, "a"), [1, "a"]),
        ({3, 1, 2}, [1, 2, 3]),
        (frozenset({"b", "a"}), ["a", "b"]),
        ({"a": 1}, {"a": 1}),
        ({1: "a"}, {"$map": [[1, "a"]]}),
        ({(1, 2): None}, {"$map": [[[1, 2], None]]}),
        ({"$int": "1"}, {"$map": [["$int", "1"]]}),  # data that looks like a tag
        ({"$int": "1", "b": 2}, {"$int": "1", "b": 2}),  # two keys: not a tag
        (Point(1, 2.0), {"x": 1, "y": 2.0}),
        (Handle(7), {"$handle": 7}),
        ([[2**60]], [[{"$int": str(2**60)}]]),
    ],
)
def test_encoding_table(value: Any, wire: Any) -> None:
    assert json.dumps(encode_value(value)) == json.dumps(wire)


@pytest.mark.parametrize(
    ("wire", "value"),
    [
        ({"$int": "123"}, 123),
        ({"$int": "-5"}, -5),
        ({"$bytes": ""}, b""),
        ({"$map": [[[1, [2]], "x"]]}, {(1, (2,)): "x"}),
        ({"$handle": 3}, Handle(3)),
        ({"$unknown": 1}, {"$unknown": 1}),
        ({}, {}),
    ],
)
def test_decoding_table(wire: Any, value: Any) -> None:
    assert decode_value(wire) == value


@pytest.mark.parametrize(
    "wire",
    [
        {"$int": "1.5"},
        {"$int": 5},
        {"$int": " 1"},
        {"$float": "NaN"},
        {"$float": 1.0},
        {"$bytes": "!!"},
        {"$bytes": 3},
        {"$map": {"a": 1}},
        {"$map": [[1]]},
        {"$map": [[{"a": 1}, 2]]},
        {"$handle": "1"},
        {"$handle": 0},
        {"$handle": True},
        [1, {"$int": "x"}],
    ],
)
def test_malformed_tags(wire: Any) -> None:
    with pytest.raises(ValueDecodingError):
        decode_value(wire)


def test_handles_live_in_the_table() -> None:
    table = HandleTable()
    obj, other = Opaque(), Mutable(1)
    wire = encode_value([obj, obj, other], table)
    assert wire == [{"$handle": 1}, {"$handle": 1}, {"$handle": 2}]
    assert decode_value(wire, table) == [obj, obj, other]
    assert decode_value(wire) == [Handle(1), Handle(1), Handle(2)]
    assert len(table) == 2
    assert table.release([1, 99]) == 1
    with pytest.raises(ValueDecodingError, match="unknown handle 1"):
        decode_value({"$handle": 1}, table)
    assert encode_value(obj, table) == {"$handle": 3}  # re-added: a new id


def test_unencodable_without_table() -> None:
    with pytest.raises(ValueEncodingError, match="Opaque"):
        encode_value({"a": [Opaque()]})
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    with pytest.raises(ValueEncodingError):
        encode_value(cyclic)


def _normalise(value: Any) -> Any:
    """What a value looks like after a round trip (tuples/sets -> lists, NaN comparable)."""
    if isinstance(value, float) and math.isnan(value):
        return "<nan>"
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    return value


_KEYS = st.one_of(
    st.text(max_size=5), st.integers(), st.tuples(st.integers(), st.text(max_size=3)), st.none()
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**200), max_value=2**200),
    st.floats(),
    st.text(max_size=10),
    st.binary(max_size=10),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(_KEYS, inner, max_size=4)
        | st.dictionaries(st.sampled_from(["$int", "$map", "$handle", "x"]), inner, max_size=2)
    ),
    max_leaves=15,
)


@pytest.mark.property
@given(_VALUES)
def test_round_trip_through_json(value: Any) -> None:
    wire = json.loads(json.dumps(encode_value(value), allow_nan=False))
    assert _normalise(decode_value(wire)) == _normalise(value)


@pytest.mark.property
@given(st.integers())
def test_ints_exact_and_typed(value: int) -> None:
    wire = encode_value(value)
    assert isinstance(wire, int) == (abs(value) <= MAX_SAFE_INT)
    back = decode_value(json.loads(json.dumps(wire)))
    assert back == value
    assert type(back) is int
