"""Shared fixtures: the hermetic index on 127.0.0.1, sample projects, CLI runners.

The skip policy (tests/skip_policy.py) is loaded here for every run: a skip whose reason is
not on its list fails, and the summary prints the list with its counts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.skip_policy import missing
from tests.support.index_server import IndexServer, ServedFile, load_files
from tests.support.session_cache import SESSION_CACHE_ENV, SHARED_INDEX_ENV, SharedIndex, shared_cache_dir

pytest_plugins = ["tests.skip_policy"]

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SHARED = ROOT.parent / "shared"
ARTEFACTS = ROOT / "tests" / "data" / "artefacts"
#: The second CPython of the tests that run a project venv on another interpreter than the one
#: wasmtool runs on: Debian's python3.11 (packages python3.11, python3.11-venv), which
#: scripts/setup.sh installs (as root) and scripts/check_env.py checks.
OTHER_PYTHON = Path("/usr/bin/python3.11")
OTHER_VERSION = "3.11"

# Tests that need real wheels (Pyodide bundles, WASI components) read them from here:
# the pinned artefacts scripts/fetch_artefacts.py downloads and verifies.
os.environ.setdefault("WASMTOOL_TEST_WHEELS", str(ARTEFACTS))


def pytest_configure(config: pytest.Config) -> None:
    """One folder per test session, shared by pytest-xdist's workers (they inherit the
    environment of the process that starts them): the corpus pipeline keeps its results
    there, so each package goes through stub discovery once per session."""
    if SESSION_CACHE_ENV not in os.environ:
        folder = tempfile.mkdtemp(prefix="wasmtool-test-session-")
        os.environ[SESSION_CACHE_ENV] = folder
        config.stash[_SESSION_FOLDER] = folder
    # the controller of an xdist run serves the session's shared index (see `shared_index`): one
    # URL for every worker, so the cache entries keyed by the index are shared too
    if _xdist_controller(config) and SHARED_INDEX_ENV not in os.environ:
        try:
            server = IndexServer(load_files()).start()
        except FileNotFoundError:
            return   # `served_files` fails the tests that need the artefacts, naming what is missing
        os.environ[SHARED_INDEX_ENV] = server.url
        config.stash[_SHARED_SERVER] = server


#: A file holding a test with one of these marks runs before the others: under pytest-xdist's
#: ``--dist loadfile`` (with ``--no-loadscope-reorder``, scripts/test.sh) the workers take files
#: in collection order, so the long files start first and the run ends on short ones, not on
#: one worker finishing a three-minute test alone.
HEAVY_MARKS = ("slow", "corpus")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    heavy = {item.path for item in items if any(item.get_closest_marker(m) for m in HEAVY_MARKS)}
    items.sort(key=lambda item: item.path not in heavy)   # stable: each file's tests stay in order


def pytest_unconfigure(config: pytest.Config) -> None:
    server = config.stash.get(_SHARED_SERVER, None)
    if server is not None:
        server.stop()
        os.environ.pop(SHARED_INDEX_ENV, None)
    folder = config.stash.get(_SESSION_FOLDER, None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop(SESSION_CACHE_ENV, None)


def _xdist_controller(config: pytest.Config) -> bool:
    """Is this the process that starts pytest-xdist's workers (``-n N`` with N > 0)?"""
    if hasattr(config, "workerinput"):
        return False
    try:
        workers = config.getoption("numprocesses")
    except ValueError:   # xdist not installed
        return False
    return bool(workers) and workers != "0"


_SESSION_FOLDER = pytest.StashKey[str]()
_SHARED_SERVER = pytest.StashKey[IndexServer]()


@pytest.fixture(scope="session")
def served_files() -> dict[str, list[ServedFile]]:
    try:
        return load_files()
    except FileNotFoundError as exc:
        pytest.fail(f"{exc} (scripts/setup.sh fetches them)")


@pytest.fixture
def index_server(served_files: dict[str, list[ServedFile]]) -> Iterator[IndexServer]:
    with IndexServer(served_files) as server:
        yield server


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    """A fresh, private artefact cache: for tests whose assertions depend on what the cache
    holds (cold builds, downloads, corruption, cleaning, hostile wheels, kills)."""
    return tmp_path / "cache"


@pytest.fixture(scope="session")
def shared_cache() -> Path:
    """The artefact cache one test session shares (every xdist worker): wasmtool's cache is
    content-addressed, its writes are atomic and its fetches locked across processes, so a
    test that only needs *a* cache reuses what an earlier test downloaded, discovered and built.
    Only for tests whose assertions hold whatever the cache already holds; use it with
    ``shared_index`` (stub entries are keyed by the index URL)."""
    return shared_cache_dir()


@pytest.fixture(scope="session")
def shared_index(served_files: dict[str, list[ServedFile]]) -> Iterator[SharedIndex]:
    """The hermetic index of the whole session, at one URL: the xdist controller's server (see
    ``pytest_configure``), else one started here for this process. Read-only: a test that adds
    files, changes the server's behaviour or counts downloads takes ``index_server``."""
    url = os.environ.get(SHARED_INDEX_ENV)
    if url:
        yield SharedIndex(url)
        return
    with IndexServer(served_files) as server:
        yield SharedIndex(server.url)


def other_python() -> str:
    """:data:`OTHER_PYTHON`, checked: it must exist and be another major.minor than this one."""
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if here == OTHER_VERSION:
        missing(f"a CPython other than {here} for wasmtool's .venv: the tests' second interpreter is "
                f"{OTHER_PYTHON}", "recreate .venv on CPython 3.12 (bash scripts/setup.sh picks it)")
    if not OTHER_PYTHON.is_file():
        missing(f"{OTHER_PYTHON}, the tests' second interpreter (Debian packages python3.11 and python3.11-venv)",
                "run `bash scripts/setup.sh` as root, which installs them")
    return str(OTHER_PYTHON)


def write_project(root: Path, deps: dict[str, str], *, python_version: str = "3.12",
                  sources: dict[str, str] | None = None, extra_python: str = "",
                  requires_python: str = ">=3.12") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    lines = ['name = "sample"', "", "[python]", f'requires-python = "{requires_python}"',
             f'python-version = "{python_version}"']
    if extra_python:
        lines.append(extra_python)
    lines += ["", "# pinned by the tests", "[python-dependencies]"]
    lines += [f'{k} = "{v}"' for k, v in deps.items()]
    (root / "mochi.toml").write_text("\n".join(lines) + "\n")
    for name, text in (sources or {}).items():
        (root / name).write_text(text)
    return root


EXAMPLE_DEPS = {"pydantic": "^2.9", "attrs": ">=23", "tomli": "^2"}


@pytest.fixture
def example_project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "proj", EXAMPLE_DEPS,
                         sources={"main.mochi": 'import python "tomli@^2" as tomli\n'})


def cli_env(cache: Path, index_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WASMTOOL_", "PIP_INDEX", "PIP_EXTRA"))}
    env["WASMTOOL_CACHE_DIR"] = str(cache)
    env["WASMTOOL_INDEX_URL"] = index_url
    return env


def run_cli(args: list[str], *, cache: Path, index_url: str, check: bool = False,
            timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real console script in a subprocess (the way users run it); ``env`` adds variables."""
    proc = subprocess.run([str(VENV_BIN / "wasmtool"), *args], capture_output=True, text=True,
                          env={**cli_env(cache, index_url), **(env or {})}, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise AssertionError(f"wasmtool {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def tree_snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root with its bytes (for before/after comparisons)."""
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
