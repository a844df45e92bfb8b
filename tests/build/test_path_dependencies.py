"""Local path dependencies (docs/builds.md, "The project's own folders"): a folder of the project
with a pyproject.toml is built into a wheel by the same sandboxed builder, pinned in the lock
(path, hash of its files, built wheel, build inputs), and used on every target; its own
dependencies come from the index. The folder itself is never written; install checks it still
holds what was built."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest

from tests.conftest import run_cli, tree_snapshot
from tests.support.index_server import IndexServer

PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "mymodels"
version = "0.3.0"
dependencies = ["attrs"]
"""

MODULE = '''
def describe(x: int, y: int) -> str:
    """The point as text, through an attrs class (imported when called: stubgen reads the module
    without its dependencies)."""
    import attrs

    point = attrs.make_class("_Point", ["x", "y"])
    return repr(point(x, y))
'''


def make_local_project(root: Path, *, manifest_entry: bool = True) -> Path:
    folder = root / "py" / "mymodels"
    folder.mkdir(parents=True)
    (folder / "pyproject.toml").write_text(PYPROJECT)
    (folder / "mymodels.py").write_text(MODULE)
    deps = 'mymodels = { path = "py/mymodels" }\n' if manifest_entry else ""
    (root / "mochi.toml").write_text(
        'name = "local"\n\n[python]\nrequires-python = ">=3.12"\npython-version = "3.12"\n'
        f'targets = ["native", "pyodide-314", "wasi-p2"]\n\n[python-dependencies]\n{deps}')
    if not manifest_entry:
        (root / "main.mochi").write_text('import python "mymodels@path+py/mymodels" as mymodels\n')
    return root


def test_a_project_folder_is_built_pinned_and_used_on_every_target(tmp_path: Path, index_server: IndexServer) -> None:
    project = make_local_project(tmp_path / "proj")
    folder_before = tree_snapshot(project / "py")
    cache = tmp_path / "cache"
    run_cli(["-C", str(project), "lock"], cache=cache, index_url=index_server.url, check=True)
    entries = tomllib.loads((project / "mochi.lock").read_text())["python-package"]
    mine = [e for e in entries if e["name"] == "mymodels"]
    assert sorted(e["target"] for e in mine) == ["native", "pyodide-314", "wasi-p2"]
    assert len({e["wheel-sha256"] for e in mine}) == 1
    for e in mine:
        assert e["source"] == "path" and e["path"] == "py/mymodels" and e["version"] == "0.3.0"
        assert e["wheel-filename"] == "mymodels-0.3.0-py3-none-any.whl" and "wheel-url" not in e
        assert e["build-backend"] == "setuptools.build_meta" and len(str(e["build-inputs-sha256"])) == 64
        assert "index-url" not in e and "origin" not in e
        assert [d.split("==")[0] for d in e["dependencies"]] == ["attrs"]
    # its dependency comes from the index, on every target
    assert sorted(e["target"] for e in entries if e["name"] == "attrs") == ["native", "pyodide-314", "wasi-p2"]
    pylock = tomllib.loads((project / "pylock.toml").read_text())
    (pkg,) = [p for p in pylock["packages"] if p["name"] == "mymodels"]
    assert pkg["directory"] == {"path": "py/mymodels"} and "sdist" not in pkg
    assert tree_snapshot(project / "py") == folder_before          # built from a copy

    run_cli(["-C", str(project), "install"], cache=cache, index_url=index_server.url, check=True)
    proc = run_cli(["-C", str(project), "call", "mymodels.describe", "--args", "[1, 2]"], cache=cache,
                   index_url=index_server.url, check=True)
    assert json.loads(proc.stdout) == "_Point(x=1, y=2)"
    run_cli(["-C", str(project), "install", "--target=pyodide-314", "--no-bind"], cache=cache,
            index_url=index_server.url, check=True)

    # the lock names the folder relative to the project: on another machine (here: the project
    # moved elsewhere) `install --locked` finds it current, and a cold cache rebuilds from the folder
    inputs = tomllib.loads((project / "mochi.lock").read_text())["target"]
    assert {tuple(t["requirements"]) for t in inputs} == {("mymodels @ file:py/mymodels",)}
    moved = tmp_path / "elsewhere" / "proj"
    shutil.copytree(project, moved, ignore=shutil.ignore_patterns(".mochi"))
    proc = run_cli(["-C", str(moved), "install", "--locked", "--no-bind"], cache=tmp_path / "cold",
                   index_url=index_server.url)
    assert proc.returncode == 0, proc.stderr
    assert list((tmp_path / "cold" / "wheels").rglob("mymodels-0.3.0-py3-none-any.whl"))

    # the folder changed since the lock: refused, warm cache or not, until it is locked again
    (project / "py" / "mymodels" / "mymodels.py").write_text(MODULE + "\nVERSION = 2\n")
    proc = run_cli(["-C", str(project), "install", "--frozen", "--no-bind"], cache=cache, index_url=index_server.url)
    assert proc.returncode == 1
    assert "WT245" in proc.stderr and "the folder py/mymodels changed since mochi.lock was written" in proc.stderr
    run_cli(["-C", str(project), "lock", "--upgrade", "--target=native"], cache=cache, index_url=index_server.url,
            check=True)
    run_cli(["-C", str(project), "install", "--frozen", "--no-bind"], cache=cache, index_url=index_server.url,
            check=True)


@pytest.mark.parametrize("policy", ["--no-build"])
def test_an_import_line_names_a_folder_and_no_build_refuses_it(tmp_path: Path, index_server: IndexServer,
                                                              policy: str) -> None:
    project = make_local_project(tmp_path / "proj", manifest_entry=False)
    proc = run_cli(["-C", str(project), "lock", policy], cache=tmp_path / "c", index_url=index_server.url)
    assert proc.returncode == 1 and "WT242" in proc.stderr and "mymodels is a local folder (py/mymodels)" in proc.stderr
    run_cli(["-C", str(project), "lock", "--target=native"], cache=tmp_path / "c", index_url=index_server.url,
            check=True)
    (entry,) = [e for e in tomllib.loads((project / "mochi.lock").read_text())["python-package"]
                if e["name"] == "mymodels"]
    assert entry["source"] == "path" and entry["path"] == "py/mymodels"
