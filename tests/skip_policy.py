"""The one place that says why a test may be skipped, and the pytest plugin that enforces it.

A green run must mean the code was tested. A test may be skipped only for a reason in
:data:`ALLOWED_SKIPS`, spelled exactly as there (use :data:`OTHER_OS`, :data:`POSIX_ONLY`,
:data:`LINUX_ONLY`). Any other skip (a missing tool, wheel, interpreter or module,
``pytest.importorskip``, a ``skipif`` with another reason) is turned into a failure that names
the reason: a missing tool is fixed by ``bash scripts/setup.sh``, not by skipping its tests.
:func:`missing` is how a test or fixture says that something it needs is not there.

Live tests (marker ``live``) are deselected by the default ``-m 'not live'``; they are listed
here so the summary counts them, and they fail (not skip) when run without the network.

The session summary prints the list, with how many tests were skipped (or deselected) under
each reason, even when that is 0. ``tests/conftest.py`` loads this module as a plugin (and
imports it first, so: PYTEST_DONT_REWRITE; it has no asserts to rewrite).
"""

from __future__ import annotations

import sys
from collections.abc import Generator, Sequence
from typing import NoReturn

import pytest

#: The test needs facilities of another operating system (POSIX signals, pipes and paths,
#: Linux's /proc); ``skipif`` on the platform, with exactly this reason.
OTHER_OS = "not on this operating system"
#: The test talks to the real package index or CDN: marker ``live``, deselected by default.
LIVE = "live: talks to the real package index or CDN (deselected unless run with -m live)"

#: Every reason a test may be skipped for, exactly as spelled in the skip.
ALLOWED_SKIPS: tuple[str, ...] = (OTHER_OS, LIVE)

POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason=OTHER_OS)
LINUX_ONLY = pytest.mark.skipif(not sys.platform.startswith("linux"), reason=OTHER_OS)

SETUP_HINT = "run `bash scripts/setup.sh`, which installs and checks every tool the tests use"


def missing(what: str, how: str = SETUP_HINT) -> NoReturn:
    """Fail the current test (or fixture): ``what`` is not available; ``how`` gets it."""
    pytest.fail(f"missing: {what}; {how}", pytrace=False)


def skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str | None:
    """The reason of a skip report (``None`` if it is no skip, or an xfail)."""
    if not report.skipped or hasattr(report, "wasxfail"):
        return None
    longrepr = report.longrepr
    message = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    for prefix in ("Skipped: ", "unittest.case.SkipTest: ", "SkipTest: "):
        if message.startswith(prefix):
            return message[len(prefix):]
    return message


def _enforce(report: pytest.TestReport | pytest.CollectReport) -> None:
    reason = skip_reason(report)
    if reason is None or reason in ALLOWED_SKIPS:
        return
    allowed = "; ".join(repr(r) for r in ALLOWED_SKIPS)
    report.outcome = "failed"
    report.longrepr = (f"skip not allowed: {reason!r}\n"
                       f"A test may be skipped only for a reason listed in tests/skip_policy.py "
                       f"(ALLOWED_SKIPS: {allowed}); whatever else it lacks is a failure.")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport,
                                                                                            pytest.TestReport]:
    report = yield
    _enforce(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, pytest.CollectReport,
                                                                          pytest.CollectReport]:
    report = yield
    _enforce(report)
    return report


class SkipSummary:
    """Counts the allowed skips of one session (and the deselected live tests) and prints them."""

    def __init__(self) -> None:
        self.skipped = dict.fromkeys(ALLOWED_SKIPS, 0)
        self.live_deselected = 0

    def _count(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        reason = skip_reason(report)
        if reason in self.skipped:
            self.skipped[reason] += 1

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._count(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._count(report)

    def pytest_deselected(self, items: Sequence[pytest.Item]) -> None:
        self.live_deselected += sum(1 for item in items if item.get_closest_marker("live") is not None)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        total = sum(self.skipped.values())
        terminalreporter.write_sep("=", f"allowed skips (tests/skip_policy.py): {len(ALLOWED_SKIPS)} reasons, "
                                        f"{total} skipped")
        for reason, count in self.skipped.items():
            line = f"{count:4d} skipped  {reason}"
            if reason == LIVE:
                line += f" [{self.live_deselected} deselected]"
            terminalreporter.write_line(line)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(SkipSummary(), "skip-policy-summary")
