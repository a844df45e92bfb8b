"""The lock files' TOML renderer: every document it renders reads back unchanged through
tomllib (hypothesis), and the cases that used to produce invalid TOML."""

from __future__ import annotations

import datetime as dt
import tomllib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wasmtool.lock.toml_render import render

pytestmark = pytest.mark.property

# any Unicode scalar value (no lone surrogates), keys included
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
INTS = st.integers(min_value=-(2**63), max_value=2**63 - 1)
DATES = st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31),
                     timezones=st.sampled_from([dt.UTC, None]))
SCALARS = st.one_of(st.booleans(), INTS, TEXT, DATES)


def values(depth: int) -> st.SearchStrategy[Any]:
    if depth == 0:
        return SCALARS
    inner = values(depth - 1)
    return st.one_of(SCALARS, st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4),
                     st.lists(st.dictionaries(TEXT, inner, max_size=3), min_size=1, max_size=3))


DOCS = st.dictionaries(TEXT, values(3), max_size=6)


def normalised(value: Any) -> Any:
    """What tomllib gives back for a rendered value (a datetime's ``Z`` stays UTC)."""
    if isinstance(value, dict):
        return {k: normalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    return value


@settings(max_examples=300, deadline=None)
@given(DOCS)
def test_rendered_documents_round_trip_through_tomllib(doc: dict[str, Any]) -> None:
    text = render(doc)
    assert tomllib.loads(text) == normalised(doc)
    assert render(doc) == text                      # deterministic


@pytest.mark.parametrize(("doc", "line"), [
    ({"café": 1}, '"café" = 1'),                     # a non-ASCII key must be quoted
    ({"a": "x\x7fy"}, 'a = "x\\u007fy"'),              # U+007F is escaped
    ({"a b": {"c": 1}}, '["a b"]'),
    ({"t": {"k": ["x" * 60, "y" * 60]}}, None),        # a long array inside a table
    ({"t": [1, {"arr": ["x" * 6, "y"]}]}, 't = [1, { arr = ["xxxxxx", "y"] }]'),   # an inline table in an array
])
def test_cases_that_used_to_be_invalid_toml(doc: dict[str, Any], line: str | None) -> None:
    text = render(doc)
    assert tomllib.loads(text) == doc
    if line is not None:
        assert line in text.splitlines()


def test_inline_tables_stay_on_one_line() -> None:
    text = render({"t": [1, {"arr": ["x" * 60, "y" * 60]}]})
    assert tomllib.loads(text) == {"t": [1, {"arr": ["x" * 60, "y" * 60]}]}
    assert any(ln.strip().startswith("{ arr = [") and ln.rstrip().endswith("},") for ln in text.splitlines())


@pytest.mark.parametrize("doc", [{"big": 2**63}, {"s": "\ud800"}])
def test_values_toml_cannot_hold_are_refused(doc: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        render(doc)
