"""The skip policy plugin (tests/skip_policy.py), run on an inner suite with pytester: allowed
skips stay skips and are counted, every other skip fails with its reason, and the summary
prints the allowed list with its counts (0 included)."""

from __future__ import annotations

import pytest

from tests.skip_policy import ALLOWED_SKIPS, LIVE, OTHER_OS

pytest_plugins = ["pytester"]

INNER = '''
import pytest

from tests.skip_policy import OTHER_OS, POSIX_ONLY, missing

ONLY_ON_SOME_OTHER_SYSTEM = pytest.mark.skipif(True, reason=OTHER_OS)


@ONLY_ON_SOME_OTHER_SYSTEM
def test_allowed_skipif():
    pass


def test_allowed_skip_in_the_body():
    pytest.skip(OTHER_OS)


@POSIX_ONLY
def test_posix_only_runs_here():
    pass


def test_skip_for_another_reason():
    pytest.skip("some other reason")


@pytest.mark.skipif(True, reason="POSIX pipes and signals")
def test_skipif_with_an_unlisted_reason():
    pass


@pytest.fixture
def tool():
    pytest.skip("node is not on PATH")


def test_skip_in_a_fixture(tool):
    pass


def test_missing_tool():
    missing("chromium (/usr/bin/chromium)")


@pytest.mark.live
def test_live():
    pass
'''

MODULE_SKIP = '''
import pytest

pytest.importorskip("no_such_module_anywhere")


def test_never_collected():
    pass
'''


def test_only_listed_skips_stay_skips(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner=INNER, test_module_skip=MODULE_SKIP)
    pytester.makeini("[pytest]\nmarkers =\n    live: talks to the real index\n")
    result = pytester.runpytest("-p", "tests.skip_policy", "-m", "not live", "-ra",
                                "--continue-on-collection-errors")
    outcomes = result.parseoutcomes()
    assert outcomes == {"passed": 1, "skipped": 2, "failed": 2, "errors": 3, "deselected": 1}, outcomes
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()

    # the allowed ones are skips, with their reason
    result.stdout.fnmatch_lines([f"SKIPPED [[]1[]] test_inner.py:*: {OTHER_OS}"] * 2, consecutive=False)
    # every other one fails (in the test) or errors (in setup or collection), naming its reason
    for header, reason in [("test_skip_for_another_reason", "'some other reason'"),
                           ("ERROR at setup of test_skipif_with_an_unlisted_reason", "'POSIX pipes and signals'"),
                           ("ERROR at setup of test_skip_in_a_fixture", "'node is not on PATH'"),
                           ("ERROR collecting test_module_skip.py", "*could not import 'no_such_module_anywhere'*")]:
        result.stdout.fnmatch_lines([f"_* {header} _*", f"skip not allowed: {reason}",
                                     "A test may be skipped only for a reason listed in tests/skip_policy.py*"])
    result.stdout.fnmatch_lines(["_* test_missing_tool _*",
                                 "missing: chromium (/usr/bin/chromium); run `bash scripts/setup.sh`*"])
    for nodeid in ("test_inner.py::test_skip_for_another_reason", "test_inner.py::test_missing_tool"):
        assert f"FAILED {nodeid} - " in out
    for nodeid in ("test_inner.py::test_skipif_with_an_unlisted_reason", "test_inner.py::test_skip_in_a_fixture",
                   "test_module_skip.py"):
        assert f"ERROR {nodeid} - " in out
    assert "tests/skip_policy.py (ALLOWED_SKIPS: " in out

    # the summary: the list, with the count under each reason (0 too) and the deselected live test
    result.stdout.fnmatch_lines([
        "*= allowed skips (tests/skip_policy.py): 2 reasons, 2 skipped =*",
        f"   2 skipped  {OTHER_OS}",
        f"   0 skipped  {LIVE} [[]1 deselected[]]",
    ])


def test_the_summary_prints_when_nothing_skipped(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fine="def test_fine():\n    pass\n")
    result = pytester.runpytest("-p", "tests.skip_policy", "-q")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*= allowed skips (tests/skip_policy.py): 2 reasons, 0 skipped =*",
                                 *(f"   0 skipped  {reason}*" for reason in ALLOWED_SKIPS)])


def test_the_list_is_what_the_policy_says() -> None:
    """Other operating systems and live: nothing else (a change here is a change of policy)."""
    assert ALLOWED_SKIPS == ("not on this operating system",
                             "live: talks to the real package index or CDN (deselected unless run with -m live)")
