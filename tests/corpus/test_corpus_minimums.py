"""The corpus minimums (tests/corpus/minimums.py): every corpus package binds the functions its
documentation has a user call first, and at least the number of functions a user needs.

A documented first call the type table cannot bind today is a strict expected failure whose
reason is the skip: visible in every run, and a failure (XPASS) the day it is bound, so the
table moves with the surface and a regression is never read as the way things are.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.corpus.minimums import MINIMUMS, RAISED_BY
from tests.corpus.pipeline import CORPUS, bound_paths, corpus_result, skips_about

pytestmark = pytest.mark.corpus


def _gap(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=f"{reason}; {RAISED_BY}")


def _first_calls() -> Iterator[object]:
    for dist, m in sorted(MINIMUMS.items()):
        for path in m.bind:
            yield pytest.param(dist, path, id=f"{dist}:{path}")
        for path, why in sorted(m.gaps.items()):
            yield pytest.param(dist, path, id=f"{dist}:{path}", marks=_gap(why))


def _counts() -> Iterator[object]:
    for dist, m in sorted(MINIMUMS.items()):
        yield pytest.param(dist, id=dist, marks=[_gap(m.count_gap)] if m.count_gap else [])


def test_corpus_minimums_cover_every_corpus_package() -> None:
    assert sorted(MINIMUMS) == sorted(CORPUS)
    for dist, m in MINIMUMS.items():
        assert len(m.bind) + len(m.gaps) >= 2, f"{dist}: name the documented first calls"
        assert not set(m.bind) & set(m.gaps), f"{dist}: a path is both bound and a gap"
        assert m.functions >= 1 and m.docs, dist


@pytest.mark.parametrize(("dist", "path"), list(_first_calls()))
def test_corpus_binds_the_documented_first_calls(dist: str, path: str) -> None:
    surface = corpus_result(dist).surface
    skipped = "\n  ".join(skips_about(surface, path)[:8]) or "(no SKIPPED.txt line: not on the surface)"
    assert path in bound_paths(surface), f"{dist}: `{path}` is not bound; SKIPPED.txt says:\n  {skipped}"


@pytest.mark.parametrize("dist", list(_counts()))
def test_corpus_binds_at_least_the_minimum_number_of_functions(dist: str) -> None:
    bound, minimum = len(corpus_result(dist).surface.functions), MINIMUMS[dist].functions
    assert bound >= minimum, f"{dist}: {bound} functions bound, the minimum is {minimum}"
