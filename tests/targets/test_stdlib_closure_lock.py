"""`wasmtool lock` refuses, for wasi-p2, a required package whose import needs a module the
pinned WASI CPython lacks (here `_bz2`, through `bz2`), naming the module and its importers,
before anything is written; a package that imports it only lazily locks."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.conftest import run_cli
from tests.pyodide.wheelmaker import make_wheel
from tests.support.index_server import IndexServer

MANIFEST = """
name = "closure"

[python]
requires-python = ">=3.12"
python-version = "3.12"
targets = ["native", "wasi-p2"]

[python-dependencies]
{deps}
"""


def _project(tmp_path: Path, index_server: IndexServer, deps: str) -> Path:
    wheels = tmp_path / "wheels"
    index_server.add_file(make_wheel(wheels, "graphs", "1.0", {
        "graphs/__init__.py": "from graphs.readwrite import gml\n",
        "graphs/readwrite/__init__.py": "",
        "graphs/readwrite/gml.py": "import bz2\n\n\ndef load(b: bytes) -> bytes:\n    return bz2.decompress(b)\n",
    }).path)
    index_server.add_file(make_wheel(wheels, "lazyzip", "1.0", {
        "lazyzip/__init__.py": "def pack(b: bytes) -> bytes:\n    import bz2\n    return bz2.compress(b)\n",
    }).path)
    project = tmp_path / "p"
    project.mkdir()
    (project / "mochi.toml").write_text(textwrap.dedent(MANIFEST.format(deps=deps)))
    return project


def test_a_package_that_needs_bz2_is_refused_at_lock_naming_module_and_importers(
        tmp_path: Path, cache_dir: Path, index_server: IndexServer) -> None:
    project = _project(tmp_path, index_server, 'graphs = "*"\nlazyzip = "*"')
    proc = run_cli(["-C", str(project), "lock"], cache=cache_dir, index_url=index_server.url)
    assert proc.returncode == 1 and "WT881" in proc.stderr and "Traceback" not in proc.stderr
    assert "graphs needs module _bz2 (imported by graphs -> graphs.readwrite.gml -> bz2)" in proc.stderr
    assert "lazyzip" not in proc.stderr.split("hint:")[0]          # a lazy import is not needed to import it
    assert not (project / "mochi.lock").exists()


def test_a_package_that_imports_bz2_lazily_locks(tmp_path: Path, cache_dir: Path,
                                                 index_server: IndexServer) -> None:
    project = _project(tmp_path, index_server, 'lazyzip = "*"')
    proc = run_cli(["-C", str(project), "lock"], cache=cache_dir, index_url=index_server.url)
    assert proc.returncode == 0, proc.stderr
    assert (project / "mochi.lock").is_file()
