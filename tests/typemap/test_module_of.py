"""``module_of`` / ``module_finder`` (wasmtool.ops.bind): the longest listed module a dotted path
is in, by prefix lookup; checked against the definition (scan every module) on random names."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from wasmtool.ops.bind import module_finder, module_of

PART = st.sampled_from(["a", "b", "ab", "c", "_d"])
DOTTED = st.lists(PART, min_size=1, max_size=4).map(".".join)


def by_definition(path: str, modules: list[str]) -> str:
    inside = [m for m in modules if path == m or path.startswith(m + ".")]
    return max(inside, key=len) if inside else path.split(".")[0]


@given(st.lists(DOTTED, max_size=8), st.lists(DOTTED, min_size=1, max_size=8))
def test_the_prefix_lookup_agrees_with_the_definition(modules: list[str], paths: list[str]) -> None:
    find = module_finder(modules)
    for path in paths:
        assert find(path) == module_of(path, modules) == by_definition(path, modules)


def test_a_module_that_is_only_a_name_prefix_does_not_own_the_path() -> None:
    assert module_of("a.bc.d", ["a.b", "a"]) == "a"
    assert module_of("zz.y", ["a"]) == "zz"
