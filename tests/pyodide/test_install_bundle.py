"""Issue 5 acceptance through the real CLI: lock (with --smoke) and install for pyodide-314,
then calls through the GENERATED wrappers in real Pyodide under Node.

The example-style project takes target builds from the index (`pyodide-packages =
"index-first"`): Pyodide's own lock also lists pydantic, but its wheels live on the
Pyodide CDN, which a self-contained bundle cannot include (and which is not reachable here).
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.support.index_server import IndexServer
from wasmtool.bundle.errors import PyodideCallError
from wasmtool.run.pyodide import PyodideNodeRuntime

pytestmark = pytest.mark.slow

MANIFEST = """
name = "web"

[python]
requires-python = ">=3.12"
python-version = "3.12"
targets = ["native", "pyodide-314"]
pyodide-packages = "index-first"
allow-any = ["tomli.loads"]

[python-dependencies]
pydantic = "^2.9"
attrs = ">=23"
tomli = "^2"
"""

LUHN = "python_wrap.pydantic.pydantic_externs:pydantic_PaymentCardNumber_validate_luhn_check_digit"


def build_app(root: Path, cache: Path, server: IndexServer, manifest: str = MANIFEST) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "mochi.toml").write_text(textwrap.dedent(manifest))
    run_cli(["-C", str(root), "lock", "--smoke"], cache=cache, index_url=server.url, check=True)
    proc = run_cli(["-C", str(root), "install", "--target=pyodide-314", "--smoke"], cache=cache,
                   index_url=server.url, check=True)
    assert "bundled" in proc.stderr
    return root / ".mochi" / "pyodide-314"


def test_pyodide_lock_install_and_calls_through_generated_wrappers(
        tmp_path: Path, cache_dir: Path, index_server: IndexServer) -> None:
    bundle = build_app(tmp_path / "web", cache_dir, index_server)
    lock = (tmp_path / "web" / "mochi.lock").read_text()
    assert 'target = "pyodide-314"' in lock
    assert "pydantic_core-2.50.5-cp314-cp314-pyemscripten_2026_0_wasm32.whl" in lock
    manifest = json.loads((bundle / "bundle.json").read_text())
    names = {p["name"] for p in manifest["packages"]}
    assert {"pydantic", "pydantic-core", "attrs", "tomli", "mochi-bindings"} <= names
    with PyodideNodeRuntime(bundle) as rt:
        assert rt.call("python_wrap.tomli.tomli_externs:tomli_loads", ['a = 1\n[t]\nb = "x"\n']) == \
            {"a": 1, "t": {"b": "x"}}
        assert rt.call(LUHN, ["4242424242424242"]) == "4242424242424242"   # pydantic validated it
        with pytest.raises(PyodideCallError) as info:
            rt.call(LUHN, ["4242424242424241"])
        assert "PydanticCustomError" in info.value.py_type and "luhn" in info.value.py_message.lower()
        assert rt.smoke() == []

    # same inputs -> byte-identical bundle
    first = {p.relative_to(bundle): p.read_bytes() for p in bundle.rglob("*") if p.is_file()}
    shutil.rmtree(bundle)
    run_cli(["-C", str(tmp_path / "web"), "install", "--target=pyodide-314"], cache=cache_dir,
            index_url=index_server.url, check=True)
    second = {p.relative_to(bundle): p.read_bytes() for p in bundle.rglob("*") if p.is_file()}
    assert first == second


def test_distribution_packages_are_refused_by_install_with_the_reason(
        tmp_path: Path, cache_dir: Path, index_server: IndexServer) -> None:
    root = tmp_path / "dist"
    root.mkdir()
    (root / "mochi.toml").write_text(textwrap.dedent(MANIFEST).replace('pyodide-packages = "index-first"\n', ""))
    run_cli(["-C", str(root), "lock"], cache=cache_dir, index_url=index_server.url, check=True)
    assert 'origin = "pyodide-lock"' in (root / "mochi.lock").read_text()
    proc = run_cli(["-C", str(root), "install", "--target=pyodide-314"], cache=cache_dir, index_url=index_server.url)
    assert proc.returncode != 0 and "WT820" in proc.stderr
    assert "pydantic" in proc.stderr and "index-first" in proc.stderr
    assert not (root / ".mochi" / "pyodide-314").exists()
