"""``dumps_indented`` is ``json.dumps(indent=1, sort_keys=True, ensure_ascii=False)`` byte for
byte, for any JSON value and for what plain JSON data does not cover (subclasses, non-string
keys, tuples, non-finite floats, circular values)."""

from __future__ import annotations

import enum
import json
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wasmtool.jsontext import dumps_indented

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text()
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5) | st.tuples(inner, inner)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=5), max_leaves=40)


def reference(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False)


@settings(max_examples=400, deadline=None)
@given(values)
def test_any_json_value_renders_as_the_standard_library_renders_it(value: Any) -> None:
    assert dumps_indented(value) == reference(value)


class Colour(enum.IntEnum):
    RED = 1


@pytest.mark.parametrize("value", [
    {}, [], {"a": {}, "b": [], "c": [[]]}, "\u2028\x00\"\\é𝄞", -0.0, 1e300, float("nan"), [float("-inf")],
    {"b": 1, "a": 2, "A": 3, "é": 4}, {1: "int key"}, {None: 1}, [Colour.RED], OrderedDict(z=1, a=2),
    {"nested": {"deeper": [1, {"x": (1, 2)}]}},
])
def test_edge_values_and_what_plain_data_does_not_cover(value: Any) -> None:
    assert dumps_indented(value) == reference(value)


def test_what_json_refuses_is_refused_the_same_way() -> None:
    loop: list[Any] = []
    loop.append(loop)
    for bad, error in [(loop, ValueError), ({"s": {1, 2}}, TypeError), ({1: 1, "a": 2}, TypeError)]:
        with pytest.raises(error):
            reference(bad)
        with pytest.raises(error):
            dumps_indented(bad)
