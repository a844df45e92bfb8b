"""Fixtures of the Pyodide bundle tests: the pinned wheels, the Node distribution, bundles.

Real wheels come from ``$WASMTOOL_TEST_WHEELS`` (files listed in wheelmaker.REQUIRED_FILES).
Without them, without ``node_modules/pyodide`` (scripts/setup-node.sh) or without ``node`` on
``PATH``, the tests that need them fail, naming what is missing (tests/skip_policy.py: a
missing tool is never a reason to skip).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from tests.pyodide.wheelmaker import (
    EXTRA_SET,
    PYDANTIC_SET,
    REQUIRED_FILES,
    make_probe,
    make_wheel,
    real_wheels,
)
from tests.skip_policy import SETUP_HINT, missing
from wasmtool.bundle.errors import PyodideNotInstalledError
from wasmtool.bundle.pyodide import BundleWheel, build_bundle
from wasmtool.run.pyodide import PyodideNodeRuntime, dist_lock_path

OK_SOURCE = '''\
import json


def add(a, b):
    return a + b


def echo(*args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}


def boom(message):
    raise ValueError(message)


def not_json():
    return object()


def spin():
    while True:
        pass


def micropip_loaded():
    import sys
    return "micropip" in sys.modules
'''


def skip_or_fail(reason: str) -> NoReturn:
    """Fail: ``reason`` says what is missing ("X is missing", "X is not on PATH"). The name is
    kept for its callers (test_browser.py); nothing is skipped any more, with or without ``CI``."""
    pytest.fail(f"{reason}; {SETUP_HINT}", pytrace=False)


CHROMIUM = Path("/usr/bin/chromium")


def playwright_npx() -> str:
    """``npx``, once Debian's chromium and @playwright/test are known to be there (fails naming
    what is missing otherwise)."""
    root = Path(__file__).resolve().parents[2]
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing (scripts/setup-node.sh installs Debian chromium as root)")
    npx = shutil.which("npx")
    if npx is None:
        skip_or_fail("npx is not on PATH")
    if not (root / "node_modules" / "@playwright" / "test").is_dir():
        skip_or_fail("@playwright/test is not installed (scripts/setup-node.sh)")
    return npx


@pytest.fixture(scope="session")
def test_wheels() -> Path:
    folder = os.environ.get("WASMTOOL_TEST_WHEELS")
    if not folder:
        missing("WASMTOOL_TEST_WHEELS is not set (the folder of the pinned Pyodide wheels)")
    path = Path(str(folder))
    absent = [f for f in REQUIRED_FILES if not (path / f).is_file()]
    if absent:
        missing(f"{', '.join(absent)} in WASMTOOL_TEST_WHEELS={path} (scripts/fetch_artefacts.py)")
    return path


@pytest.fixture(scope="session")
def dist_lock() -> Path:
    try:
        return dist_lock_path()
    except PyodideNotInstalledError as exc:
        problem = str(exc)
    missing(problem)  # outside the except: no chained traceback


@pytest.fixture(scope="session")
def node(dist_lock: Path) -> str:
    found = shutil.which("node")
    if found is None:
        missing("node is not on PATH (Node.js 20 or newer)")
    return found


def pydantic_wheels(wheels_dir: Path, made: Path) -> list[BundleWheel]:
    probe = make_probe(made)
    return [*real_wheels(wheels_dir, PYDANTIC_SET), *real_wheels(wheels_dir, EXTRA_SET),
            probe.bundle_wheel(depends=("pydantic", "tomli", "attrs"))]


@pytest.fixture(scope="session")
def pydantic_bundle(tmp_path_factory: pytest.TempPathFactory, test_wheels: Path, dist_lock: Path) -> Path:
    root = tmp_path_factory.mktemp("pydantic-bundle")
    out = root / "bundle"
    build_bundle(out, dist_lock_path=dist_lock, wheels=pydantic_wheels(test_wheels, root / "made"),
                 entry_module="wt_probe")
    return out


@pytest.fixture(scope="session")
def small_bundle(tmp_path_factory: pytest.TempPathFactory, dist_lock: Path) -> Path:
    """Made wheels only (no download needed): ``wt_ok`` with helpers for the protocol tests."""
    root = tmp_path_factory.mktemp("small-bundle")
    ok = make_wheel(root / "made", "wt-ok", "1.0", {"wt_ok/__init__.py": OK_SOURCE})
    out = root / "bundle"
    build_bundle(out, dist_lock_path=dist_lock, wheels=[ok.bundle_wheel()], entry_module="wt_ok")
    return out


@pytest.fixture(scope="session")
def pydantic_runtime(pydantic_bundle: Path, node: str) -> Iterator[PyodideNodeRuntime]:
    with PyodideNodeRuntime(pydantic_bundle, node=node) as runtime:
        yield runtime


@pytest.fixture(scope="session")
def small_runtime(small_bundle: Path, node: str) -> Iterator[PyodideNodeRuntime]:
    with PyodideNodeRuntime(small_bundle, node=node) as runtime:
        yield runtime
