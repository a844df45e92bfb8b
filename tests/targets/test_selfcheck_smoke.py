"""`wasmtool lock --smoke` for wasi-p2 builds a probe component from the locked wheels and runs
its self-check before anything is written: a required package that imports natively but not
in the WASI guest (here: it reads `os.WNOHANG` when imported, which WASI's `os` lacks; no
static check can tell) is refused with WT882, naming the package, the module and the error."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.pyodide.wheelmaker import make_wheel
from tests.support.index_server import IndexServer

pytestmark = pytest.mark.slow

MANIFEST = """
name = "smoke"

[python]
requires-python = ">=3.12"
python-version = "3.12"
targets = ["wasi-p2"]

[python-dependencies]
forky = "*"
"""


def test_lock_smoke_refuses_a_package_that_does_not_import_in_the_guest(
        tmp_path: Path, cache_dir: Path, index_server: IndexServer) -> None:
    index_server.add_file(make_wheel(tmp_path / "wheels", "forky", "1.0", {
        "forky/__init__.py": "import os\n\nWAIT = os.WNOHANG\n\n\ndef same(x: int) -> int:\n    return x\n",
        "forky/extra.py": "import termios\n",
    }).path)
    project = tmp_path / "p"
    project.mkdir()
    (project / "mochi.toml").write_text(textwrap.dedent(MANIFEST))

    proc = run_cli(["-C", str(project), "lock", "--smoke"], cache=cache_dir, index_url=index_server.url, timeout=1200)
    assert proc.returncode == 1 and "WT882" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert "forky (forky, build): AttributeError: module 'os' has no attribute 'WNOHANG'" in proc.stderr
    assert "forky.extra (" not in proc.stderr.split("hint:")[0]     # a submodule's failure is a warning only
    assert not (project / "mochi.lock").exists()

    # without --smoke the static check cannot see it: the lock is written
    proc = run_cli(["-C", str(project), "lock"], cache=cache_dir, index_url=index_server.url)
    assert proc.returncode == 0, proc.stderr
