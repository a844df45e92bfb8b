"""Free-threaded locks (``[python] free-threaded``; docs/audit.md): ``cp3XYt`` wheels only
when asked for, ``freethread-status`` per package, the deny list wins, a GIL-only extension
fails unless ``allow-untested-freethread``; the flag is part of the lock's inputs.

The import-time check (``sys._is_gil_enabled()`` after import) needs a free-threaded CPython:
it is a ``live`` test and fails saying so plainly when this machine has none."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.audit.synthetic import extension_wheel, make_wheel
from tests.conftest import run_cli, tree_snapshot, write_project
from tests.skip_policy import missing
from tests.support.index_server import IndexServer
from wasmtool.ops.audit import denied_by, gil_after_import

GIL = "cp313-cp313-manylinux_2_17_x86_64"
FT = "cp313-cp313t-manylinux_2_17_x86_64"


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("ft-wheels")
    return [extension_wheel(folder, "ftpkg", outside=False, tag=GIL),
            extension_wheel(folder, "ftpkg", outside=False, tag=FT),
            extension_wheel(folder, "gilpkg", outside=False, tag=GIL),
            make_wheel(folder / "wheels", "purepkg", "1.0", "py3-none-any", {"purepkg/__init__.py": b"X = 1\n"})]


@pytest.fixture
def index(wheels: list[Path]) -> Iterator[IndexServer]:
    with IndexServer({}) as srv:
        for path in wheels:
            srv.add_file(path)
        yield srv


def _project(root: Path, deps: tuple[str, ...], extra: str = "") -> Path:
    return write_project(root, {d: "==1.0" for d in deps}, python_version="3.13", extra_python=extra)


def _lock(root: Path, cache: Path, index: IndexServer, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(["-C", str(root), "lock", *args], cache=cache, index_url=index.url)


def _read(root: Path) -> dict[str, Any]:
    return tomllib.loads((root / "mochi.lock").read_text())


def _entries(root: Path) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in _read(root)["python-package"]}


def test_gil_lock_takes_the_gil_wheel_and_records_no_status(tmp_path: Path, index: IndexServer) -> None:
    root, cache = _project(tmp_path / "p", ("ftpkg", "purepkg")), tmp_path / "c"
    proc = _lock(root, cache, index)
    assert proc.returncode == 0, proc.stderr
    entries = _entries(root)
    assert entries["ftpkg"]["wheel-filename"] == f"ftpkg-1.0-{GIL}.whl"
    assert not [k for e in entries.values() for k in e if k == "freethread-status"]
    assert "freethread-status" not in _read(root)["target"][0]


def test_free_threaded_lock_takes_cp3xyt_and_records_the_status(tmp_path: Path, index: IndexServer) -> None:
    root, cache = _project(tmp_path / "p", ("ftpkg", "purepkg"), "free-threaded = true"), tmp_path / "c"
    proc = _lock(root, cache, index)
    assert proc.returncode == 0, proc.stderr
    entries = _entries(root)
    assert entries["ftpkg"]["wheel-filename"] == f"ftpkg-1.0-{FT}.whl"
    assert entries["ftpkg"]["freethread-status"] == "full"
    assert entries["purepkg"]["freethread-status"] == "pure"
    assert _read(root)["target"][0]["freethread-status"] == "free-threaded"

    same = run_cli(["-C", str(root), "lock", "--check"], cache=cache, index_url=index.url)
    assert same.returncode == 0, same.stderr
    # turning the flag off is a change of the lock's inputs: lock --check says so
    _project(root, ("ftpkg", "purepkg"))
    check = run_cli(["-C", str(root), "lock", "--check"], cache=cache, index_url=index.url)
    assert check.returncode != 0
    assert "freethread-status free-threaded -> gil" in check.stderr + check.stdout


def test_the_deny_list_wins(tmp_path: Path, index: IndexServer) -> None:
    root, cache = _project(tmp_path / "p", ("purepkg",), "free-threaded = true"), tmp_path / "c"
    assert _lock(root, cache, index).returncode == 0
    before = tree_snapshot(root)
    # ftpkg has a cp313t wheel: refused all the same
    _project(root, ("ftpkg", "purepkg"), 'free-threaded = true\nfreethread-deny-list = ["ftpkg<2"]')
    manifest = (root / "mochi.toml").read_bytes()
    proc = _lock(root, cache, index)
    assert proc.returncode != 0
    assert "WT960" in proc.stderr and "ftpkg" in proc.stderr and "ftpkg<2" in proc.stderr
    assert tree_snapshot(root) == {**before, "mochi.toml": manifest}


def test_gil_only_extension_needs_allow_untested(tmp_path: Path, index: IndexServer) -> None:
    root, cache = _project(tmp_path / "p", ("gilpkg",), "free-threaded = true"), tmp_path / "c"
    proc = _lock(root, cache, index)
    assert proc.returncode != 0
    assert "gilpkg" in proc.stderr
    assert not (root / "mochi.lock").exists()
    _project(root, ("gilpkg",), "free-threaded = true\nallow-untested-freethread = true")
    proc = _lock(root, cache, index)
    assert proc.returncode == 0, proc.stderr
    assert _entries(root)["gilpkg"]["freethread-status"] == "untested"
    assert "allow-untested-freethread" in proc.stdout + proc.stderr


def test_denied_by() -> None:
    assert denied_by(["lxml<6"], "LXML", "5.2") == "lxml<6"
    assert denied_by(["lxml<6"], "lxml", "6.0") is None
    assert denied_by(["numpy"], "numpy", "2.0") == "numpy"
    assert denied_by(["numpy"], "scipy", "2.0") is None


def _free_threaded_python() -> str | None:
    """A free-threaded CPython on PATH, or one uv already has (never downloaded)."""
    for name in ("python3.14t", "python3.13t"):
        found = shutil.which(name)
        if found:
            return found
    uv = shutil.which("uv") or str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "uv")
    for version in ("3.14t", "3.13t"):
        proc = subprocess.run([uv, "python", "find", "--no-python-downloads", version], capture_output=True,
                              text=True, check=False)
        if proc.returncode == 0 and proc.stdout.strip():
            return proc.stdout.strip()
    return None


@pytest.mark.live
def test_import_keeps_the_gil_disabled(tmp_path: Path) -> None:
    """A pure module keeps the interpreter free-threaded; an extension built without
    Py_mod_gil support turns the GIL back on at import (flagged)."""
    python = _free_threaded_python()
    if python is None:
        missing("a free-threaded CPython (python3.13t or python3.14t): this machine has none, so the "
                "import-time GIL check cannot run here",
                "install a free-threaded CPython (e.g. `uv python install 3.14t`) and run with -m live")
    version = subprocess.run([python, "-c", "import sys; print(f'{sys.version_info[0]}{sys.version_info[1]}')"],
                             capture_output=True, text=True, check=True).stdout.strip()
    include = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['include'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    site = tmp_path / "site"
    (site / "purepkg").mkdir(parents=True)
    (site / "purepkg" / "__init__.py").write_text("X = 1\n")
    src = tmp_path / "gilext.c"
    src.write_text('#include <Python.h>\nstatic struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "gilext", 0, -1, 0};\n'
                   "PyMODINIT_FUNC PyInit_gilext(void) { return PyModule_Create(&m); }\n")
    subprocess.run(["cc", "-shared", "-fPIC", f"-I{include}", "-DPy_GIL_DISABLED=1", "-o",
                    str(site / f"gilext.cpython-{version}t-x86_64-linux-gnu.so"), str(src)], check=True)
    assert gil_after_import(python, site, ["purepkg"]) == {"purepkg": False}
    assert gil_after_import(python, site, ["gilext"]) == {"gilext": True}

