"""Coverage of the corpus: the share of public, non-dunder items (functions, methods, classes,
properties, constants; test packages and paths through a private name excluded) that the
default surface binds, per package
(each golden's ``[coverage]`` section) and in total (``golden/coverage.txt``).

The goal is 85 % in total. Every item that stays skipped has its reason in the package's
golden, so the figure is read together with the reasons, never on its own.
"""

from __future__ import annotations

import pytest

from tests.corpus.pipeline import CORPUS, GOLDEN, Coverage, corpus_result, coverage
from tests.corpus.test_corpus import UPDATE, golden_diff

pytestmark = pytest.mark.corpus

GOAL = 0.85


def _table() -> tuple[str, Coverage]:
    lines = ["# wasmtool corpus coverage: dist, items bound, items skipped, share bound",
             "# written by WASMTOOL_UPDATE_GOLDEN=1 (tests/corpus/test_corpus_coverage.py)"]
    bound = skipped = 0
    for dist in sorted(CORPUS):
        c = coverage(corpus_result(dist).surface)
        bound, skipped = bound + c.bound, skipped + c.skipped
        lines.append(f"{dist}\t{c.line()}")
    total = Coverage(bound, skipped)
    lines.append(f"total\t{total.line()}")
    return "\n".join(lines) + "\n", total


def test_corpus_coverage_matches_its_golden() -> None:
    text, _ = _table()
    golden = GOLDEN / "coverage.txt"
    if UPDATE:
        golden.write_text(text)
        pytest.fail("WASMTOOL_UPDATE_GOLDEN=1: wrote golden/coverage.txt; review the diff and rerun without it")
    assert golden.is_file(), "no golden/coverage.txt: run with WASMTOOL_UPDATE_GOLDEN=1 and review it"
    old = golden.read_text()
    assert old == text, golden_diff(old, text, "coverage.txt")


def test_corpus_binds_the_goal_share_of_public_items() -> None:
    _, total = _table()
    assert total.ratio >= GOAL, f"{total.ratio * 100:.1f}% of public items bound ({total.bound} of " \
                                f"{total.bound + total.skipped}); the goal is {GOAL * 100:.0f}%"
